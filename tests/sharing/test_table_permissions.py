"""The state table owns every permission: in rooms in every state, for every person in them (the
facilitator, the co-facilitator, the speaker, who is next, a listener, site staff, someone waiting in
the lobby) and someone outside, an action is in the viewer's `you.may` exactly when `room_apply`
accepts it. Each action is tried in a transaction that is rolled back, so every try starts from the
same room."""

from dataclasses import dataclass

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule, run_state_machine_as_test

from sharing import services
from sharing.errors import RoomError
from sharing.room import states
from sharing.snapshots import FACILITATING_ROLES, for_viewer, viewer
from tests.rooms import at
from tests.sharing.test_room_properties import NAMES, RoomMachine

pytestmark = pytest.mark.django_db

OPEN_SHARING = [
    {"kind": "open", "title": "Open sharing", "seconds": 600, "turn_seconds": 60},
    {"kind": "round", "title": "Closing", "turn_seconds": 30},
]


@dataclass
class Scene:
    room: object
    now: object
    people: list  # everyone with a seat, and one person without


def _enter_everyone(room, t0, *, segments=None):
    if segments is not None:
        room.call.format.segments = segments
        room.call.format.save()
    circle = room.circle
    room.enter(*room.everyone, circle.staff, now=t0)
    room.act(room.facilitator, "settings", now=t0, allow_drop_ins=True)
    wren = circle.add_member("wren@example.com", display_name="Wren")
    room.enter(wren, now=t0)  # no RSVP: she waits in the lobby
    return [*room.everyone, circle.staff, wren, circle.outsider]


def in_the_lobby(room, t0):
    return _enter_everyone(room, t0), t0


def grounding(room, t0):
    people = _enter_everyone(room, t0)
    room.act(room.facilitator, "call.start", now=t0)
    return people, at(t0, 1)


def between_segments(room, t0):
    people = _enter_everyone(room, t0)
    room.act(room.facilitator, "call.start", now=t0)
    room.tick(at(t0, 61))  # the grounding's minute is over
    return people, at(t0, 62)


def a_members_turn_with_someone_passed(room, t0):
    people = _enter_everyone(room, t0)
    room.act(room.facilitator, "call.start", now=t0)
    room.act(room.facilitator, "segment.next", now=at(t0, 1))  # check-in: Fran speaks first
    room.act(room.aiko, "turn.pass", now=at(t0, 2))
    room.act(room.facilitator, "turn.finish", now=at(t0, 3))
    room.act(room.co_facilitator, "turn.finish", now=at(t0, 4))  # Maya speaks, Jonas is next
    room.act(room.jonas, "resonate", now=at(t0, 5))
    return people, at(t0, 6)


def a_turn_just_listened_to(room, t0):
    people, now = a_members_turn_with_someone_passed(room, t0)
    room.act(room.maya, "share.mode", now=now, mode="listen")
    return people, at(now, 1)


def the_second_pass_of_a_round(room, t0):
    people, now = a_members_turn_with_someone_passed(room, t0)
    for second, person in enumerate([room.maya, room.jonas, room.circle.staff], start=1):
        room.act(person, "turn.finish", now=at(now, second))  # Aiko, who passed, is offered a turn
    return people, at(now, 4)


def _sharing_round(room, t0):
    people = _enter_everyone(room, t0)
    room.act(room.facilitator, "call.start", now=t0)
    room.act(room.facilitator, "segment.next", now=at(t0, 1))
    room.act(room.facilitator, "segment.next", now=at(t0, 2))  # the sharing round: Fran speaks
    room.act(room.facilitator, "share.mode", now=at(t0, 3), mode="reflections")
    room.act(room.facilitator, "turn.finish", now=at(t0, 4))
    return people, at(t0, 5)


def reflections_with_nobody_reflecting(room, t0):
    return _sharing_round(room, t0)


def reflections_with_a_hand_taken(room, t0):
    people, now = _sharing_round(room, t0)
    room.act(room.jonas, "hand.raise", now=now)
    room.act(room.aiko, "hand.raise", now=at(now, 1))
    room.act(room.maya, "support.request", now=at(now, 2))
    return people, at(now, 3)


def paused_during_a_turn(room, t0):
    people, now = a_members_turn_with_someone_passed(room, t0)
    room.act(room.facilitator, "pause", now=now)
    return people, at(now, 1)


def open_sharing_waiting_for_a_hand(room, t0):
    people = _enter_everyone(room, t0, segments=OPEN_SHARING)
    room.act(room.facilitator, "call.start", now=t0)
    return people, at(t0, 1)


def open_sharing_with_a_speaker_and_a_hand(room, t0):
    people = _enter_everyone(room, t0, segments=OPEN_SHARING)
    room.act(room.facilitator, "call.start", now=t0)
    room.act(room.jonas, "hand.raise", now=at(t0, 1))  # Jonas speaks
    room.act(room.aiko, "hand.raise", now=at(t0, 2))
    return people, at(t0, 3)


def ended(room, t0):
    people = _enter_everyone(room, t0)
    room.act(room.facilitator, "call.start", now=t0)
    room.act(room.facilitator, "call.end", now=at(t0, 1))
    return people, at(t0, 2)


SCENES = [
    in_the_lobby,
    grounding,
    between_segments,
    a_members_turn_with_someone_passed,
    a_turn_just_listened_to,
    the_second_pass_of_a_round,
    reflections_with_nobody_reflecting,
    reflections_with_a_hand_taken,
    paused_during_a_turn,
    open_sharing_waiting_for_a_hand,
    open_sharing_with_a_speaker_and_a_hand,
    ended,
]


def _payload(action: str, snap: dict, me: int | None) -> dict:
    """A value the room would accept, when the action needs one: whom, which order, which mode."""
    admitted = [p["id"] for p in snap["participants"] if p["state"] == "admitted"] or [0]
    # Anyone but the call's facilitator may be removed: someone else first, else oneself.
    removable = sorted((p["id"] for p in snap["participants"] if p["role"] != "facilitator"), key=lambda i: i == me)
    here = [p["id"] for p in snap["participants"] if p["present"] and p["id"] in admitted]
    waiting = [p["id"] for p in snap["participants"] if p["round"] in {"pending", "offered"}]
    lobby = [p["id"] for p in snap["participants"] if p["state"] == "lobby"]
    speaking = snap["phase"] == "turn" and snap["turn"] is not None
    if action == "turn.skip":
        return {} if speaking or not waiting else {"participant": waiting[0]}
    if action == "turn.give":
        return {"participant": (here or admitted)[0]}
    if action == "hand.first":
        return {"participant": (snap["hands"] or admitted)[0]}
    if action == "order.set":
        keep = snap["phase"] in {"turn", "reflections"} or (snap["order"] and not snap["segment_complete"])
        return {"order": snap["order"] if keep else admitted}
    if action in {"participant.admit", "support.clear"}:
        return {"participant": (lobby or admitted)[0]}
    if action == "participant.remove":
        return {"participant": (removable or admitted)[0]}
    return {
        "share.mode": {"mode": "listen"},
        "share.typing": {"typing": True},
        "settings": {"locked": False},
        "checkin.set": {"word": "calm"},
    }.get(action, {})


class Rollback(Exception):
    """Undo an action that was accepted, so that the next one starts from the same room."""


def _accepted(call_id: int, user, action: str, payload: dict, now) -> bool:
    try:
        with transaction.atomic():
            services.room_apply(call_id=call_id, user=user, action=action, payload=payload, now=now)
            raise Rollback
    except Rollback:
        return True
    except RoomError:
        return False


def _may(snap: dict, user, staff_powers: bool) -> tuple[int | None, list[str]]:
    me = next((p for p in snap["participants"] if p["name"] == user.display_name), None)
    pid = me["id"] if me else None
    mine = viewer(snap, pid)
    facilitator = bool(mine and mine["state"] == "admitted" and (mine["role"] in FACILITATING_ROLES or staff_powers))
    return pid, for_viewer(snap, participant_id=pid, facilitator=facilitator)["you"]["may"]


@pytest.mark.parametrize("scene", SCENES, ids=[scene.__name__ for scene in SCENES])
def test_you_may_is_exactly_what_the_room_accepts(room, t0, scene):
    people, now = scene(room, t0)
    room.heartbeats(now)
    snap = room.snapshot(now)
    call_id = room.call.pk
    walked = set()
    for user in people:
        pid, may = _may(snap, user, staff_powers=user.is_staff)
        assert may == sorted(may)
        for action in states.PERSON_ACTIONS:
            payload = _payload(action, snap, pid)
            accepted = _accepted(call_id, user, action, payload, now)
            assert accepted == (action in may), (
                f"{user.display_name} in {scene.__name__}: {action} is "
                f"{'accepted' if accepted else 'refused'} but {'' if action in may else 'not '}in you.may"
            )
            if accepted:
                walked.add(action)
        assert room.snapshot(now) == snap, "every try was rolled back"
    if scene is not ended:
        assert walked, "someone may do something in every open room"


def test_every_row_people_ask_for_is_allowed_somewhere(room, t0):
    """No row is dead: across the scenes, each action someone may ask for is accepted at least once."""
    # The walk above proves `you.may` honest; this proves the scenes reach every row.
    reached = set()
    for scene in SCENES:
        with transaction.atomic():
            people, now = scene(room, t0)
            room.heartbeats(now)
            snap = room.snapshot(now)
            for user in people:
                reached |= set(_may(snap, user, staff_powers=user.is_staff)[1])
            transaction.set_rollback(True)
    assert reached == set(states.PERSON_ACTIONS)


class MayMachine(RoomMachine):
    """The random rooms of test_room_properties, where anyone now and then tries any action."""

    @precondition(lambda self: self.room() is not None)
    @rule(name=st.sampled_from(NAMES))
    def every_action_is_accepted_exactly_when_you_may(self, name):
        self.heartbeats()
        snap = self.snapshot()
        user = self.people[name]
        pid, may = _may(snap, user, staff_powers=False)
        for action in states.PERSON_ACTIONS:
            accepted = _accepted(self.call.pk, user, action, _payload(action, snap, pid), self.now)
            assert accepted == (action in may), f"{name}: {action} {'accepted' if accepted else 'refused'}, may {may}"
        assert self.snapshot() == snap, "every try was rolled back"


@pytest.mark.django_db(transaction=True)
def test_in_random_rooms_you_may_is_exactly_what_the_room_accepts(circle):
    from groups.models import Membership
    from tests.conftest import make_person

    people = {"Fran": circle.facilitator, "Cody": circle.co_facilitator, "Maya": circle.member}
    for name in ("Jonas", "Aiko"):
        people[name] = make_person(f"{name.lower()}@example.com", display_name=name)
        Membership.objects.create(
            community=circle.community,
            user=people[name],
            state="active",
            accepted_agreements_version=circle.community.agreements_version,
        )
    run_state_machine_as_test(
        lambda: MayMachine(circle, people),
        settings=settings(
            max_examples=10,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )
