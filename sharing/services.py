"""The room's public writes. Every change is `room_apply` (an action someone asks for), `room_enter`
and `room_leave` (a socket opening and closing), `kick` and `standing_recheck` (moderation and
changes of standing), or `room_tick` and `sweep` (time passing, in sharing.room.clock).

Each takes the room's row lock, asks the state table (sharing.room.states), changes rows, bumps the
version once, writes structural events and, after commit, broadcasts the full snapshot. The engine
itself is the package sharing.room.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from groups.models import Call
from sharing import broadcast, snapshots
from sharing.access import check_entry
from sharing.errors import RoomError
from sharing.models import Participant, Room
from sharing.room import actions, agenda, liveness, states, work
from sharing.room.clock import room_tick, sweep
from sharing.room.work import Change, NoChange

__all__ = [
    "current_snapshot",
    "heartbeat",
    "kick",
    "on_standing_changed",
    "room_apply",
    "room_enter",
    "room_leave",
    "room_tick",
    "standing_recheck",
    "sweep",
]


def room_apply(
    *,
    call_id: int,
    user,
    action: str,
    payload: dict | None = None,
    expected_version: int | None = None,
    expected_turn: int | None = None,
    expected_segment: int | None = None,
    now=None,
) -> dict | None:
    """Apply one action. Returns the new snapshot, or None when the action changed nothing.

    The expected values say what the actor saw: the whole room (`version`), or only the turn or the
    segment they acted on, so that someone arriving does not make a facilitator's "Next" stale while
    two facilitators pressing "Next" at once still move the room on only once.
    Raises RoomError (with a machine-readable code) when the action is refused; nothing changes then.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            change = work.lock_room(call_id, now)
            expected = {"version": expected_version, "turn": expected_turn, "segment": expected_segment}
            return actions.apply_locked(change, action, payload or {}, user, expected)
    except states.TransitionError as error:
        raise RoomError(error.code, str(error)) from None
    except Room.DoesNotExist:
        raise RoomError("not_open", "This call's room is not open.") from None


def room_enter(*, call_id: int, user, now=None) -> Participant:
    """Someone's socket connects: check they may, then add or update their place in the room."""
    now = now or timezone.now()
    call = Call.objects.select_related("community").filter(pk=call_id).first()
    if call is None:
        raise RoomError("not_found", "There is no such call.")
    role, rsvp_going = check_entry(call=call, user=user, now=now)
    Room.objects.get_or_create(call=call, defaults={"acting_facilitator_id": call.facilitator_id})
    with transaction.atomic():
        change = work.lock_room(call_id, now)
        room = change.room
        if room.status == Room.Status.ENDED:
            raise RoomError("ended", "This call has ended.")
        me = change.seat_of(user.pk)
        if me is None:
            if room.locked and role == Participant.Role.MEMBER:
                raise RoomError("locked", "The facilitator has closed the room to new arrivals.")
            me = Participant.objects.create(room=room, user=user, role=role, arrived_at=now, last_seen_at=now)
            me.user = user
            change.participants[me.pk] = me
            _arrive(change, me, rsvp_going)
        elif me.state == Participant.State.REMOVED:
            raise RoomError("removed", "You were removed from this call.")
        elif me.state == Participant.State.LEFT:
            if room.locked and role == Participant.Role.MEMBER:
                raise RoomError("locked", "The facilitator has closed the room to new arrivals.")
            me.role, me.state, me.arrived_at = role, Participant.State.LOBBY, now
            _arrive(change, me, rsvp_going)
        else:
            me.role = role  # what the community allows now, whatever it allowed when they first came
        change.actor = me
        actions.presence_enter(change, {})
        actions.commit_locked(change, states.lookup("presence.enter"), user)
        return me


def _arrive(change: Change, me: Participant, rsvp_going: bool) -> None:
    """A new arrival waits in the lobby unless they facilitate, are staff, or RSVP'd to an auto-admitting room."""
    if me.role != Participant.Role.MEMBER or me.user.is_staff or (change.room.auto_admit and rsvp_going):
        agenda.admit(change, me)
    else:
        change.event("participant.waiting", subject=me)


def room_leave(*, call_id: int, user, now=None) -> None:
    """A socket closed. The person stays in the room, marked away, and may come back."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            change = work.lock_room(call_id, now)
        except Room.DoesNotExist:
            return
        me = change.seat_of(user.pk)
        if me is None or change.room.status == Room.Status.ENDED:
            return
        change.actor = me
        try:
            actions.presence_leave(change, {"at": now})
        except NoChange:
            return
        actions.commit_locked(change, states.lookup("presence.leave"), user)


def heartbeat(*, call_id: int, user, now=None) -> int | None:
    """Note that someone is still here, and return the room's latest version: the cache alone
    (sharing.room.liveness), no database. A socket that stays behind that version missed a broadcast
    and resyncs. None when the cache does not know the version; the next change writes it."""
    liveness.note_seen(call_id, user.pk, now or timezone.now())
    return liveness.version(call_id)


def current_snapshot(*, call_id: int, now=None) -> dict:
    return snapshots.build(work.read_room(call_id, now or timezone.now()))


def kick(*, call_id: int, user_id: int, now=None) -> None:
    """A moderator or a ban removes someone from a room: their place goes, and their sockets close."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            change = work.lock_room(call_id, now)
        except Room.DoesNotExist:
            return
        me = change.seat_of(user_id)
        if me is not None and change.room.status != Room.Status.ENDED and me.state != Participant.State.REMOVED:
            row = states.check_allowed("participant.remove", change.room.state, {states.SYSTEM})
            actions.participant_remove(change, {"participant": me.pk})
            actions.commit_locked(change, row, None)
        broadcast.close_after_commit(call_id, user_id, "removed", "You were removed from this call.")


def standing_recheck(*, user_id: int, community_id: int | None = None, call_id: int | None = None, now=None) -> int:
    """Someone's standing changed (left or removed from a community, banned, demoted, lost their
    second factor, or a call was given to someone else). In every open room it touches, their seat
    and role change in the caller's transaction, and the sockets of anyone who lost their seat close
    once it commits. Returns how many rooms changed."""
    now = now or timezone.now()
    rooms = Room.objects.exclude(status=Room.Status.ENDED)
    if call_id is not None:
        rooms = rooms.filter(pk=call_id)
    else:
        rooms = rooms.filter(participants__user_id=user_id)
    if community_id is not None:
        rooms = rooms.filter(call__community_id=community_id)
    changed = 0
    for room_id in sorted(set(rooms.values_list("pk", flat=True))):
        with transaction.atomic():
            change = work.lock_room(room_id, now)
            # A call given to someone else changes two people's roles: look at everyone in its room.
            row = states.check_allowed("standing.changed", change.room.state, {states.SYSTEM})
            gone = actions.recheck(change, None if call_id is not None else user_id)
            if not change.events:
                continue
            actions.commit_locked(change, row, None)
            for p in gone:
                broadcast.close_after_commit(
                    room_id, p.user_id, "forbidden", "You can no longer take part in this call."
                )
            changed += 1
    return changed


def on_standing_changed(sender, *, user_id: int, community_id=None, call_id=None, **kwargs) -> None:
    standing_recheck(user_id=user_id, community_id=community_id, call_id=call_id)
