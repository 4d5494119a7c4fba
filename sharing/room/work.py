"""The unit of work on one room: lock its row, read its people, change them in memory, and save.

`lock_room` takes the room's row lock (`select_for_update`) inside the caller's transaction and
returns a `Change`. The lock contract is in the names: a function that must be called while the
caller holds that lock, and writes, ends in `_locked` (`save_locked` here, `apply_locked` and
`commit_locked` in actions, `apply_due_locked` and `rewake_locked` in the clock). The agenda's
functions and the handlers change a Change in memory and run only inside `apply_locked` (or a public
write that took the lock). `read_room` makes a Change without the lock, for snapshots only.
`save_locked` writes the room, the participant columns that changed, and the structural events,
and bumps the version once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from groups.formats import Segment
from groups.models import Call
from sharing import access
from sharing.errors import RoomError
from sharing.models import Participant, Room, RoomEvent
from sharing.room import liveness, states


class NoChange(Exception):
    """Nothing to do: the room stays as it is, with no new version and no broadcast."""


@dataclass
class Change:
    """Everything one unit of work on a room needs: the room, its people and the clock."""

    room: Room
    call: Call
    now: datetime
    participants: dict[int, Participant]
    actor_user: object | None = None
    actor: Participant | None = None
    events: list[dict] = field(default_factory=list)
    loaded: dict[int, dict] = field(default_factory=dict)  # each participant's columns as read

    @property
    def segment(self) -> Segment | None:
        raw = self.room.segment()
        return Segment.from_dict(raw) if raw is not None else None

    def in_open_sharing(self) -> bool:
        segment = self.segment
        return segment is not None and segment.kind == "open" and not self.room.segment_complete

    def admitted(self) -> list[Participant]:
        return [p for p in self.participants.values() if p.is_admitted]

    def present(self) -> list[Participant]:
        return [p for p in self.admitted() if p.is_present(self.now)]

    def get(self, participant_id) -> Participant:
        try:
            return self.participants[int(participant_id)]
        except (KeyError, TypeError, ValueError):
            raise RoomError("unknown_participant", "That person is not in this call.") from None

    def seat_of(self, user_id: int) -> Participant | None:
        return next((p for p in self.participants.values() if p.user_id == user_id), None)

    def event(self, kind: str, *, subject: Participant | None = None, duration: timedelta | None = None, **detail):
        self.events.append(
            {
                "kind": kind,
                "subject": subject,
                # Clocks of different processes may differ a little: a duration is never negative.
                "duration_ms": max(0, int(duration.total_seconds() * 1000)) if duration is not None else None,
                "detail": detail,
            }
        )

    def hands(self) -> list[Participant]:
        raised = [p for p in self.admitted() if p.hand_raised_at is not None]
        return sorted(raised, key=lambda p: (p.hand_raised_at, p.pk))


def read_room(call_id: int, now: datetime) -> Change:
    """The room and its people as they are, without the lock: for snapshots, never for writes."""
    room = Room.objects.select_related("call").get(pk=call_id)
    participants = {p.pk: p for p in Participant.objects.filter(room=room).select_related("user")}
    liveness.lay_over(call_id, participants.values())
    return Change(room=room, call=room.call, now=now, participants=participants)


def lock_room(call_id: int, now: datetime) -> Change:
    """Lock the room's row (inside the caller's transaction) and read everything a change needs."""
    # One query: the room's row locked, its call, format and community read with it but not locked.
    locked = Room.objects.select_for_update(of=("self",))
    room = locked.select_related("call__format", "call__community").get(pk=call_id)
    call = room.call
    participants = {p.pk: p for p in Participant.objects.filter(room=room).select_related("user")}
    liveness.lay_over(call_id, participants.values())
    if room.speaker_id:
        room.speaker = participants.get(room.speaker_id)
    if room.reflector_id:
        room.reflector = participants.get(room.reflector_id)
    loaded = {pk: _columns(p) for pk, p in participants.items()}
    return Change(room=room, call=call, now=now, participants=participants, loaded=loaded)


# The participant columns a change may write. Only those that changed are written. `last_seen_at` is
# read with the latest heartbeat laid over it (sharing.room.liveness), so it is written only when
# the change itself sets it: someone arriving or coming back.
PARTICIPANT_COLUMNS = (
    "role",
    "state",
    "admitted_at",
    "connected",
    "last_seen_at",
    "disconnected_at",
    "round_status",
    "hand_raised_at",
    "resonated_turn",
    "has_shared",
    "turns_taken",
    "needs_support",
    "checkin",
)


def _columns(p: Participant) -> dict:
    return {name: getattr(p, name) for name in PARTICIPANT_COLUMNS}


def roles_of(change: Change, p: Participant) -> frozenset[str]:
    """The roles an admitted person has for the state table right now."""
    roles = {states.SELF}
    if p.is_facilitator or access.staff_powers(p.user):
        roles.add(states.FACILITATOR)
    if change.room.speaker_id == p.pk:
        roles.add(states.SPEAKER)
    if change.room.reflector_id == p.pk:
        roles.add(states.REFLECTOR)
    return frozenset(roles)


def actor(change: Change, user) -> states.Actor:
    """Who is asking, with their roles; the system when there is no user. Membership is checked on
    every action: someone who is not admitted, or no longer keeps their seat, may do nothing."""
    if user is None:
        return states.Actor(None, frozenset({states.SYSTEM}))
    me = change.seat_of(user.pk)
    change.actor = me
    if me is None or me.state != Participant.State.ADMITTED:
        raise RoomError("forbidden", "You are not in this call.")
    if not access.may_keep_seat(user, change.call.community_id):
        raise RoomError("forbidden", "You are no longer a member of this community.")
    return states.Actor(me, roles_of(change, me))


def save_locked(change: Change, row: states.Transition, user) -> None:
    """Write the change: the room with its version bumped once, the participant columns that changed,
    and the structural events (or one event named after the action)."""
    room = change.room
    states.check_landed(row, room.state)
    room.version += 1
    room.wake_at = room.wake_time(change.participants.values())
    room.save()
    for p in change.participants.values():
        before = change.loaded.get(p.pk)
        changed = {name: value for name, value in _columns(p).items() if before is None or before[name] != value}
        if changed:
            Participant.objects.filter(pk=p.pk).update(**changed)
    RoomEvent.objects.bulk_create(
        [
            RoomEvent(
                room=room,
                version=room.version,
                kind=event["kind"],
                actor=user,
                subject=event["subject"],
                at=change.now,
                duration_ms=event["duration_ms"],
                detail=event["detail"],
            )
            for event in change.events
        ]
        or [RoomEvent(room=room, version=room.version, kind=row.action, actor=user, at=change.now)]
    )
