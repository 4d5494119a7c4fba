"""The one canonical picture of a room that every browser renders, and each viewer's share of it.

`build` makes the snapshot that is broadcast after each change. `for_viewer` removes what this
viewer may not see (the resonance count is the speaker's alone; accommodations and support
requests are for facilitators) and adds who the viewer is.
"""

from __future__ import annotations

from datetime import datetime

from sharing.models import Participant, Room
from sharing.room import agenda, states, work
from sharing.room.work import Change


def stamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _participant(p: Participant, now) -> dict:
    return {
        "id": p.pk,
        "name": p.user.display_name,
        "role": p.role,
        "state": p.state,
        "present": p.is_present(now),
        "round": p.round_status,
        "hand": p.hand_raised_at is not None,
        "shared": p.has_shared,
        "needs_support": p.needs_support,
        "checkin": p.checkin,
        "accommodations": {
            "extra_time": p.user.extra_time,
            "prefers_typing": p.user.prefers_typing,
        },
    }


def may(change: Change) -> dict[str, list[str]]:
    """What each admitted person may ask for now, by participant id: the state table's answer
    (role, state and guards), sorted. Someone in the lobby, or without a seat, may ask for nothing."""
    result = {}
    for p in change.admitted():
        actor = states.Actor(p, work.roles_of(change, p))
        result[str(p.pk)] = [action for action in states.PERSON_ACTIONS if states.allowed(change, actor, action)]
    return result


def floor(room: Room, participants: list[Participant]) -> list[int] | None:
    """Who may speak now, when the microphones follow the talking stick; None when anyone may.

    The speaker has the floor during their turn, the person whose hand was taken during
    reflections, and the facilitators always, to hold the space.
    """
    if not room.talking_stick or room.status not in {Room.Status.LIVE, Room.Status.PAUSED}:
        return None
    allowed = {p.pk for p in participants if p.is_facilitator and p.is_admitted}
    phase = room.paused_phase if room.status == Room.Status.PAUSED else room.phase
    if phase == Room.Phase.TURN and room.speaker_id:
        allowed.add(room.speaker_id)
    elif phase == Room.Phase.REFLECTIONS and room.reflector_id:
        allowed.add(room.reflector_id)
    return sorted(allowed)


def build(change: Change) -> dict:
    room, now = change.room, change.now
    participants = list(change.participants.values())
    next_up = agenda.next_speaker(change)
    visible = sorted(
        (p for p in participants if p.state in {Participant.State.LOBBY, Participant.State.ADMITTED}),
        key=lambda p: (p.role != Participant.Role.FACILITATOR, p.arrived_at, p.pk),
    )
    hands = [p.pk for p in sorted((p for p in visible if p.hand_raised_at), key=lambda p: (p.hand_raised_at, p.pk))]
    turn = None
    if room.speaker_id is not None:
        turn = {
            "number": room.turn_number,
            "speaker": room.speaker_id,
            "started_at": stamp(room.turn_started_at),
            "ends_at": stamp(room.turn_ends_at),
            "grace_ends_at": stamp(room.grace_ends_at),
            "extended_seconds": room.turn_extended_seconds,
            "share_mode": room.share_mode,
            "typing": room.typing,
            "resonance_count": room.resonance_count,
            "reflector": room.reflector_id,
        }
    acting = next((p.pk for p in participants if p.user_id == room.acting_facilitator_id), None)
    return {
        "call": {
            "id": room.call_id,
            "title": room.call.title,
            "starts_at": stamp(room.call.starts_at),
            "ends_at": stamp(room.call.ends_at),
        },
        "version": room.version,
        "server_now": stamp(now),
        "status": room.status,
        "phase": room.phase,
        "paused_phase": room.paused_phase,
        "paused_at": stamp(room.paused_at),
        "segments": room.segments,
        "segment_index": room.segment_index,
        "segment_complete": room.segment_complete,
        "segment_ends_at": stamp(room.segment_ends_at),
        "phase_started_at": stamp(room.phase_started_at),
        "phase_ends_at": stamp(room.phase_ends_at),
        "wake_at": stamp(room.wake_at),
        "turn": turn,
        "order": list(room.order),
        "round_pass": room.round_pass,
        "next": next_up.pk if next_up is not None else None,
        "hands": hands,
        "acting_facilitator": acting,
        "floor": floor(room, participants),
        "settings": {
            "auto_admit": room.auto_admit,
            "allow_drop_ins": room.allow_drop_ins,
            "locked": room.locked,
            "talking_stick": room.talking_stick,
            "order_policy": room.order_policy,
        },
        "participants": [_participant(p, now) for p in visible],
        "may": may(change),  # each viewer's own share goes to them alone, as `you.may`
    }


FACILITATING_ROLES = frozenset({Participant.Role.FACILITATOR, Participant.Role.CO_FACILITATOR})

# What the lobby sees of the room: the call, its status and timing, and the lobby's own seat.
LOBBY_KEYS = (
    "call",
    "version",
    "server_now",
    "status",
    "phase",
    "paused_phase",
    "paused_at",
    "segments",
    "segment_index",
    "segment_complete",
    "segment_ends_at",
    "phase_started_at",
    "phase_ends_at",
    "round_pass",
    "settings",
)


def viewer(snapshot: dict, participant_id: int | None) -> dict | None:
    """This viewer's own entry in the snapshot, if they hold a seat."""
    return next((p for p in snapshot["participants"] if p["id"] == participant_id), None)


def _outside_view(snapshot: dict, me: dict | None) -> dict:
    """The room for someone outside the circle: no names, no turn, no check-ins."""
    view = {key: snapshot[key] for key in LOBBY_KEYS}
    view.update(turn=None, order=[], next=None, hands=[], acting_facilitator=None, floor=None)
    view["participants"] = [{**me, "accommodations": None, "checkin": me["checkin"]}] if me else []
    return view


def for_viewer(snapshot: dict, *, participant_id: int | None, facilitator: bool) -> dict:
    """The snapshot as this viewer may see it (sharing.audiences), with `you` added: who they are,
    and `may`, the actions they may ask for now. The input is not changed."""
    me = viewer(snapshot, participant_id)
    may_now = snapshot.get("may", {}).get(str(participant_id), [])
    if me is None or me["state"] != Participant.State.ADMITTED:
        view = _outside_view(snapshot, me)
        facilitator = False
    else:
        view = {key: value for key, value in snapshot.items() if key != "may"}
        turn = snapshot.get("turn")
        if turn is not None and turn["speaker"] != participant_id:
            view["turn"] = {**turn, "resonance_count": None}
        if not facilitator:
            view["participants"] = [
                {**p, "accommodations": None, "needs_support": p["id"] == participant_id and p["needs_support"]}
                for p in snapshot["participants"]
            ]
    view["you"] = {
        "participant": participant_id,
        "role": me["role"] if me else None,
        "state": me["state"] if me else "removed",
        "facilitator": facilitator,
        "may": may_now if me is not None and me["state"] == Participant.State.ADMITTED else [],
    }
    return view
