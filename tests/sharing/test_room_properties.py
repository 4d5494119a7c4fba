"""Random sequences of joins, leaves, silences, passes, expiries, extends, reorders, pauses and
takeovers never break the room's invariants."""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from groups.services.rsvps import rsvp_set
from sharing import services
from sharing.errors import RoomError
from sharing.models import Participant, Room

NAMES = ["Fran", "Cody", "Maya", "Jonas", "Aiko"]
ACTIONS_ON_OTHERS = ["turn.finish", "turn.skip", "turn.extend", "segment.next", "pause", "reflections.end"]


class RoomMachine(RuleBasedStateMachine):
    def __init__(self, circle, people):
        super().__init__()
        self.people = people  # name -> user
        self.now = timezone.now().replace(microsecond=0)
        self.call = circle.call(starts_in=timedelta(minutes=5), co_facilitator=people["Cody"], title="Random circle")
        for minutes, name in enumerate(["Maya", "Jonas", "Aiko"]):
            rsvp_set(call_id=self.call.pk, user=people[name], going=True, now=self.now - timedelta(minutes=5 - minutes))
        self.alive = set()
        self.version = 0

    # Helpers

    def heartbeats(self):
        Participant.objects.filter(room_id=self.call.pk, user__display_name__in=self.alive, connected=True).update(
            last_seen_at=self.now
        )

    def room(self):
        return Room.objects.filter(pk=self.call.pk).first()

    def snapshot(self):
        return services.current_snapshot(call_id=self.call.pk, now=self.now) if self.room() else None

    def apply(self, name, action, **payload):
        self.heartbeats()
        before = self.snapshot()
        try:
            services.room_apply(
                call_id=self.call.pk, user=self.people[name], action=action, payload=payload, now=self.now
            )
        except RoomError:
            assert self.snapshot() == before, f"refused {action} by {name} changed the room"
            return False
        return True

    def roles(self, name):
        snap = self.snapshot()
        me = next((p for p in snap["participants"] if p["name"] == name), None) if snap else None
        return me

    # Rules

    @initialize(skip_segments=st.integers(min_value=0, max_value=3), late=st.sampled_from(NAMES))
    def a_call_under_way(self, skip_segments, late):
        """Most calls start with most people present; one arrives late. Some begin further in."""
        for name in NAMES:
            if name != late or name == "Fran":
                self.join(name)
        self.apply("Fran", "call.start")
        for _ in range(skip_segments):
            self.apply("Fran", "segment.next")
        self.steps = 0

    @rule(name=st.sampled_from(NAMES))
    def join(self, name):
        try:
            services.room_enter(call_id=self.call.pk, user=self.people[name], now=self.now)
        except RoomError as error:
            assert error.code in {"ended", "locked", "removed"}
            return
        self.alive.add(name)

    @rule(name=st.sampled_from(NAMES))
    def leave(self, name):
        self.alive.discard(name)
        services.room_leave(call_id=self.call.pk, user=self.people[name], now=self.now)

    @rule(name=st.sampled_from(NAMES))
    def fall_silent(self, name):
        self.alive.discard(name)

    @rule(seconds=st.integers(min_value=1, max_value=40))
    def time_passes(self, seconds):
        self.now += timedelta(seconds=seconds)
        self.heartbeats()

    @rule(nudges=st.integers(min_value=1, max_value=4))
    def deadline_nudges(self, nudges):
        self.heartbeats()
        changed = [services.room_tick(call_id=self.call.pk, now=self.now) for _ in range(nudges)]
        assert all(snapshot is None for snapshot in changed[1:]), "only the first nudge may change the room"

    @precondition(lambda self: self.steps > 25)
    @rule()
    def end_the_call(self):
        self.apply("Fran", "call.end")

    @precondition(lambda self: self.room() is not None)
    @rule(name=st.sampled_from(NAMES))
    def pass_turn(self, name):
        self.apply(name, "turn.pass")

    @precondition(lambda self: self.room() is not None)
    @rule(name=st.sampled_from(NAMES))
    def say_done(self, name):
        snap = self.snapshot()
        me = self.roles(name)
        is_speaker = bool(snap["turn"] and me and snap["turn"]["speaker"] == me["id"] and snap["phase"] == "turn")
        done = self.apply(name, "turn.finish")
        if done:
            assert is_speaker or (me and me["role"] != "member"), "only the speaker or a facilitator ends a turn"

    @precondition(lambda self: self.room() is not None)
    @rule(name=st.sampled_from(NAMES), action=st.sampled_from(ACTIONS_ON_OTHERS))
    def control(self, name, action):
        me = self.roles(name)
        done = self.apply(name, action)
        if done and action != "turn.finish":
            assert me and me["role"] != "member", f"a member was allowed to {action}"

    @precondition(lambda self: self.room() is not None)
    @rule(name=st.sampled_from(NAMES))
    def resonate_or_raise_hand(self, name):
        self.apply(name, "resonate")
        self.apply(name, "hand.raise")

    @precondition(lambda self: self.room() is not None)
    @rule()
    def resume(self):
        self.apply("Cody", "resume")

    @precondition(lambda self: self.room() is not None)
    @rule(data=st.data())
    def reorder(self, data):
        snap = self.snapshot()
        if not snap["order"]:
            return
        order = data.draw(st.permutations(snap["order"]))
        self.apply("Fran", "order.set", order=list(order))

    @precondition(lambda self: self.room() is not None)
    @rule(name=st.sampled_from(["Maya", "Jonas", "Aiko"]))
    def remove(self, name):
        me = self.roles(name)
        if me:
            self.apply("Cody", "participant.remove", participant=me["id"])

    # Invariants, checked after every step

    @invariant()
    def invariants_hold(self):
        self.steps = getattr(self, "steps", 0) + 1
        snap = self.snapshot()
        if snap is None:
            return
        event(f"reached {snap['status']}/{snap['phase'] or '-'}")
        # The version never goes back.
        assert snap["version"] >= self.version
        self.version = snap["version"]
        # At most one speaker, and the turn belongs to someone in the circle.
        speaking = [p for p in snap["participants"] if p["round"] == "speaking"]
        assert len(speaking) <= 1
        admitted = {p["id"] for p in snap["participants"] if p["state"] == "admitted"}
        index = snap["segment_index"]
        segment = snap["segments"][index] if 0 <= index < len(snap["segments"]) else None
        if snap["phase"] == "turn":
            assert snap["turn"] is not None
            assert snap["turn"]["speaker"] in admitted
            if segment["kind"] != "open":
                assert [p["id"] for p in speaking] == [snap["turn"]["speaker"]]
        elif snap["phase"] != "reflections":
            assert not speaking, f"someone is marked speaking while the room is {snap['status']}/{snap['phase']}"
        # The order is a permutation of people in the circle, and holds everyone present.
        order = snap["order"]
        assert len(order) == len(set(order)), "nobody appears twice in the order"
        assert set(order) <= admitted, "the order holds only people in the circle"
        in_round = segment is not None and segment["kind"] in {"round", "closing"} and not snap["segment_complete"]
        if snap["status"] == "live" and in_round:
            present = {p["id"] for p in snap["participants"] if p["state"] == "admitted" and p["present"]}
            assert present <= set(order), "every present member has a place in the round"


@pytest.mark.django_db(transaction=True)
def test_random_sequences_keep_the_room_invariants(circle):
    from tests.conftest import make_person

    people = {
        "Fran": circle.facilitator,
        "Cody": circle.co_facilitator,
        "Maya": circle.member,
        "Jonas": make_person("jonas@example.com", display_name="Jonas"),
        "Aiko": make_person("aiko@example.com", display_name="Aiko"),
    }
    for name in ("Jonas", "Aiko"):
        from groups.models import Membership

        Membership.objects.create(
            community=circle.community,
            user=people[name],
            state="active",
            accepted_agreements_version=circle.community.agreements_version,
        )
    run_state_machine_as_test(
        lambda: RoomMachine(circle, people),
        settings=settings(
            max_examples=20,
            stateful_step_count=35,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )
