"""One handler per row of the state table, named after it (`turn.pass` is `turn_pass`).

`apply_locked` asks the table (sharing.room.states) whether this person may ask for this action in
this room now, refuses stale requests, runs the handler and commits. A handler changes the Change in
memory and checks only what the person asks for (whom, which order, which word); whatever the row
allows, it does. `NoChange` means the room stays as it is: no version, no broadcast.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from groups.formats import parse_segments
from groups.models import RSVP, Call
from sharing import access, broadcast, snapshots
from sharing.errors import RoomError
from sharing.models import (
    CHECKIN_EMOJI,
    CHECKIN_MAX_LENGTH,
    EXTEND_STEP,
    FACILITATOR_TAKEOVER,
    SPEAKER_AWAY_SKIP,
    Participant,
    Room,
)
from sharing.room import agenda, states, work
from sharing.room.work import Change, NoChange

Round = Participant.Round
logger = logging.getLogger("attunement.room")


# The call as a whole.


def call_start(change: Change, payload: dict) -> None:
    room = change.room
    call_format = change.call.format
    room.segments = [segment.to_dict() for segment in parse_segments(call_format.segments)]
    room.grace_seconds = call_format.grace_seconds
    room.status = Room.Status.LIVE
    room.started_at = change.now
    change.event("call.started")
    agenda.start_segment(change, 0)


def call_end(change: Change, payload: dict) -> None:
    room = change.room
    if room.phase == Room.Phase.TURN and room.speaker is not None:
        agenda.end_turn_quietly(change, "call_ended")
    agenda.clear_turn(room)
    agenda.clear_hands(change)
    room.status = Room.Status.ENDED
    room.phase = Room.Phase.NONE
    room.phase_ends_at = room.segment_ends_at = None
    room.ended_at = change.now
    # The call's pages read its end from the call: it is over for everyone, even before its scheduled end.
    Call.objects.filter(pk=room.call_id, ended_at__isnull=True).update(ended_at=change.now)
    for p in change.participants.values():
        p.checkin = ""  # a check-in belongs to the call; nothing of it stays afterwards
    change.event("call.ended", duration=change.now - (room.started_at or change.now))


def pause(change: Change, payload: dict) -> None:
    room = change.room
    room.paused_phase = room.phase
    room.paused_at = change.now
    room.status = Room.Status.PAUSED
    change.event("paused")


def resume(change: Change, payload: dict) -> None:
    room = change.room
    shift = change.now - room.paused_at
    for name in ("turn_ends_at", "grace_ends_at", "phase_ends_at", "segment_ends_at", "turn_started_at"):
        moment = getattr(room, name)
        if moment is not None:
            setattr(room, name, moment + shift)
    room.status = Room.Status.LIVE
    room.phase = room.paused_phase
    room.paused_phase = Room.Phase.NONE
    room.paused_at = None
    change.event("resumed", duration=shift)


def _while_live(change: Change, step) -> None:
    """Run a step that moves the agenda on; in a paused room the result stays paused."""
    if change.room.status != Room.Status.PAUSED:
        step()
        return
    resume(change, {})
    step()
    pause(change, {})


def segment_next(change: Change, payload: dict) -> None:
    room = change.room
    if room.phase == Room.Phase.TURN and room.speaker is not None:
        agenda.end_turn_quietly(change, "segment_moved_on")
    if not room.segment_complete:
        agenda.segment_done(change)
    if room.segment_index + 1 < len(room.segments):
        agenda.start_segment(change, room.segment_index + 1)


# Time passing.


def deadline(change: Change, payload: dict) -> None:
    room, now = change.room, change.now
    if room.phase == Room.Phase.TURN and room.grace_ends_at and now >= room.grace_ends_at:
        agenda.end_turn(change, "timeout")
    elif room.phase == Room.Phase.REFLECTIONS and room.phase_ends_at and now >= room.phase_ends_at:
        agenda.end_reflections(change)
    elif room.phase == Room.Phase.GROUNDING and room.phase_ends_at and now >= room.phase_ends_at:
        agenda.segment_done(change)
    elif (
        room.phase == Room.Phase.BETWEEN and room.segment_complete and room.phase_ends_at and now >= room.phase_ends_at
    ):
        agenda.start_segment(change, room.segment_index + 1)
    elif room.phase == Room.Phase.BETWEEN and room.segment_ends_at and now >= room.segment_ends_at:
        agenda.segment_done(change)
    else:
        raise NoChange


def speaker_away(change: Change, payload: dict) -> None:
    speaker = change.room.speaker
    away = speaker.away_since(change.now) if speaker else None
    if away is None or change.now - away < SPEAKER_AWAY_SKIP:
        raise NoChange
    agenda.end_turn(change, "away")


# A turn.


def turn_finish(change: Change, payload: dict) -> None:
    agenda.end_turn(change, "finished")


def turn_pass(change: Change, payload: dict) -> None:
    room, me = change.room, change.actor
    if room.phase == Room.Phase.TURN and room.speaker_id == me.pk:
        _while_live(change, lambda: agenda.end_turn(change, "passed"))
        return
    if change.in_open_sharing():
        if me.hand_raised_at is None:
            raise NoChange
        me.hand_raised_at = None
        return
    # The row's guard: they are waiting, on the round's first pass or offered a turn again.
    me.round_status = Round.PASSED if me.round_status == Round.PENDING else Round.DECLINED
    change.event("turn.passed", subject=me, ahead=True, segment=room.segment_index)


def turn_skip(change: Change, payload: dict) -> None:
    room = change.room
    target = change.get(payload["participant"]) if payload.get("participant") else room.speaker
    if target is None:
        raise RoomError("nothing_to_skip", "Nobody is speaking.")
    if room.phase == Room.Phase.TURN and room.speaker_id == target.pk:
        agenda.end_turn(change, "skipped")
    elif target.round_status in {Round.PENDING, Round.OFFERED}:
        target.round_status = Round.SKIPPED
        change.event("turn.skipped", subject=target, reason="facilitator")
    else:
        raise RoomError("nothing_to_skip", "That person is not waiting for a turn.")


def turn_extend(change: Change, payload: dict) -> None:
    room = change.room
    if room.phase == Room.Phase.TURN:
        room.turn_ends_at = max(room.turn_ends_at, change.now) + EXTEND_STEP
        room.grace_ends_at = room.turn_ends_at + timedelta(seconds=room.grace_seconds)
        room.turn_extended_seconds += int(EXTEND_STEP.total_seconds())
    else:
        room.phase_ends_at = max(room.phase_ends_at, change.now) + EXTEND_STEP
    change.event("extended", subject=room.speaker, seconds=int(EXTEND_STEP.total_seconds()))


def turn_give(change: Change, payload: dict) -> None:
    target = change.get(payload.get("participant"))
    if not target.is_admitted or not target.is_present(change.now):
        raise RoomError("not_present", "That person is not here right now.")
    agenda.start_turn(change, target)


def share_mode(change: Change, payload: dict) -> None:
    mode = payload["mode"]
    if mode == Room.ShareMode.REFLECTIONS and not change.segment.allows_reflections:
        raise RoomError("not_allowed", "This part of the call has no time for reflections.")
    change.room.share_mode = mode


def share_typing(change: Change, payload: dict) -> None:
    change.room.typing = bool(payload["typing"])


def resonate(change: Change, payload: dict) -> None:
    room, me = change.room, change.actor
    if me.resonated_turn == room.turn_number:
        raise NoChange
    me.resonated_turn = room.turn_number
    room.resonance_count += 1


# Reflections and raised hands.


def hand_raise(change: Change, payload: dict) -> None:
    room, me = change.room, change.actor
    if me.hand_raised_at is not None:
        raise NoChange
    me.hand_raised_at = change.now
    if room.phase == Room.Phase.REFLECTIONS and room.reflector is None:
        agenda.next_reflector(change)
    elif room.phase == Room.Phase.BETWEEN and room.speaker is None:
        agenda.next_turn(change)


def hand_lower(change: Change, payload: dict) -> None:
    room, me = change.room, change.actor
    if me.hand_raised_at is None:
        raise NoChange
    me.hand_raised_at = None
    if room.reflector_id == me.pk:
        agenda.next_reflector(change)


def hand_first(change: Change, payload: dict) -> None:
    target = change.get(payload.get("participant"))
    if target.hand_raised_at is None:
        raise RoomError("no_hand", "That person's hand is not raised.")
    target.hand_raised_at = change.hands()[0].hand_raised_at - timedelta(milliseconds=1)


def reflection_done(change: Change, payload: dict) -> None:
    room = change.room
    reflector = room.reflector
    if reflector is None:
        raise NoChange
    change.event("reflection.spoken", subject=reflector)
    reflector.hand_raised_at = None
    agenda.next_reflector(change)


def reflections_end(change: Change, payload: dict) -> None:
    agenda.end_reflections(change)


# People and settings.


def order_set(change: Change, payload: dict) -> None:
    room = change.room
    wanted = [int(pid) for pid in payload["order"]]
    if room.phase in {Room.Phase.TURN, Room.Phase.REFLECTIONS} or (room.order and not room.segment_complete):
        allowed = set(room.order)
    else:
        allowed = {p.pk for p in change.admitted()}
    if len(wanted) != len(set(wanted)) or set(wanted) != allowed:
        raise RoomError("invalid_order", "The new order must list each person in the circle once.")
    room.order = wanted
    room.order_policy = Room.OrderPolicy.ARRANGED
    change.event("order.arranged")


SETTINGS = {"auto_admit", "allow_drop_ins", "locked", "talking_stick", "order_policy"}


def settings(change: Change, payload: dict) -> None:
    room = change.room
    changed = {key: value for key, value in payload.items() if key in SETTINGS}
    if "order_policy" in changed and changed["order_policy"] not in Room.OrderPolicy.values:
        raise RoomError("invalid", "Unknown order.")
    for key, value in changed.items():
        setattr(room, key, value)
    if changed.get("auto_admit"):
        going = set(
            RSVP.objects.filter(call_id=room.call_id, status=RSVP.Status.GOING).values_list("user_id", flat=True)
        )
        for p in change.participants.values():
            if p.state == Participant.State.LOBBY and p.user_id in going:
                agenda.admit(change, p)
    change.event("settings", **{key: value for key, value in changed.items() if isinstance(value, bool | str)})


def participant_admit(change: Change, payload: dict) -> None:
    target = change.get(payload.get("participant"))
    if target.state != Participant.State.LOBBY:
        raise NoChange
    agenda.admit(change, target)


def participant_remove(change: Change, payload: dict) -> None:
    room = change.room
    target = change.get(payload.get("participant"))
    if target.role == Participant.Role.FACILITATOR and not (change.actor_user and change.actor_user.is_staff):
        raise RoomError("forbidden", "The call's facilitator cannot be removed from it.")
    if target.state == Participant.State.REMOVED:
        raise NoChange
    if room.phase == Room.Phase.TURN and room.speaker_id == target.pk:
        _while_live(change, lambda: agenda.end_turn(change, "removed"))
    if room.reflector_id == target.pk:
        target.hand_raised_at = None
        agenda.next_reflector(change)
    target.state = Participant.State.REMOVED
    target.hand_raised_at = None
    target.round_status = Round.NONE
    room.order = [pid for pid in room.order if pid != target.pk]
    change.event("participant.removed", subject=target)


def clean_checkin(word) -> str:
    """A check-in is one of the calm emoji, or a word or two: letters, digits, spaces, hyphens and
    apostrophes, at most CHECKIN_MAX_LENGTH characters. Empty clears it."""
    word = " ".join(str(word or "").split())
    if not word or word in CHECKIN_EMOJI:
        return word
    if len(word) > CHECKIN_MAX_LENGTH or not all(ch.isalnum() or ch in " -'\u2019" for ch in word):
        raise RoomError("invalid", "A check-in is a word or two, or one of the emoji offered.")
    return word


def checkin_set(change: Change, payload: dict) -> None:
    word = clean_checkin(payload.get("word"))
    if change.actor.checkin == word:
        raise NoChange
    change.actor.checkin = word


def support_request(change: Change, payload: dict) -> None:
    if change.actor.needs_support:
        raise NoChange
    change.actor.needs_support = True
    change.event("support.requested", subject=change.actor)


def support_clear(change: Change, payload: dict) -> None:
    target = change.get(payload.get("participant"))
    if not target.needs_support:
        raise NoChange
    target.needs_support = False


# Presence and standing.


def presence_enter(change: Change, payload: dict) -> None:
    me, room = change.actor, change.room
    was_away = not me.is_present(change.now)
    me.connected = True
    me.last_seen_at = change.now
    me.disconnected_at = None
    if me.role == Participant.Role.FACILITATOR and room.acting_facilitator_id != me.user_id:
        room.acting_facilitator_id = me.user_id
        change.event("facilitator.returned", subject=me)
    if was_away and me.is_admitted:
        agenda.append_to_round(change, me)
    change.event("presence.entered", subject=me)


def presence_leave(change: Change, payload: dict) -> None:
    me = change.actor
    if not me.connected:
        raise NoChange
    me.connected = False
    me.disconnected_at = payload.get("at") or change.now
    change.event("presence.left", subject=me)


def facilitator_takeover(change: Change, payload: dict) -> None:
    room = change.room
    facilitator = next((p for p in change.participants.values() if p.role == Participant.Role.FACILITATOR), None)
    co = next((p for p in change.participants.values() if p.role == Participant.Role.CO_FACILITATOR), None)
    if facilitator is None or co is None or room.acting_facilitator_id == co.user_id:
        raise NoChange
    away = facilitator.away_since(change.now)
    if away is None or change.now - away < FACILITATOR_TAKEOVER or not co.is_present(change.now):
        raise NoChange
    room.acting_facilitator_id = co.user_id
    change.event("facilitator.takeover", subject=co)


def standing_changed(change: Change, payload: dict) -> None:
    recheck(change, payload.get("user"))


def _acting_after(change: Change) -> int | None:
    """Who holds the controls once the facilitators have changed: the facilitator if present, else
    a co-facilitator who is here, else nobody until one comes."""
    facilitating = [p for p in change.participants.values() if p.is_facilitator and p.is_admitted]
    facilitating.sort(key=lambda p: (p.role != Participant.Role.FACILITATOR, not p.is_present(change.now)))
    return facilitating[0].user_id if facilitating else None


def recheck(change: Change, user_id: int | None) -> list[Participant]:
    """Bring the seats of this room (or of one person in it) in line with what the community allows
    now. Returns the people who lost their seat."""
    call, gone = change.call, []
    for p in change.participants.values():
        if (user_id is not None and p.user_id != user_id) or p.state in {
            Participant.State.REMOVED,
            Participant.State.LEFT,
        }:
            continue
        if not access.may_keep_seat(p.user, call.community_id):
            if p.role == Participant.Role.FACILITATOR:
                p.role = Participant.Role.MEMBER  # the facilitator's place can be emptied, not removed
            participant_remove(change, {"participant": p.pk})
            p.state = Participant.State.LEFT
            p.connected = False
            p.disconnected_at = change.now
            gone.append(p)
            continue
        role = access.seat_role(call, p.user)
        if role != p.role:
            change.event("participant.role", subject=p, role=role)
            p.role = role
    acting = change.room.acting_facilitator_id
    holder = change.seat_of(acting) if acting is not None else None
    if acting is not None and (holder is None or not holder.is_facilitator or not holder.is_admitted):
        change.room.acting_facilitator_id = _acting_after(change)
        change.event("facilitator.changed")
    return gone


HANDLERS = {row.action: globals()[row.action.replace(".", "_")] for row in states.TABLE}


# Applying and committing.


def commit_locked(change: Change, row: states.Transition, user) -> dict:
    """Save the change, and broadcast the new snapshot once the transaction commits."""
    work.save_locked(change, row, user)
    room = change.room
    snapshot = snapshots.build(change)
    broadcast.state_after_commit(room.call_id, snapshot)
    logger.info(
        "room change",
        extra={"call": room.call_id, "action": row.action, "version": room.version, "state": room.state},
    )
    return snapshot


def apply_locked(change: Change, action: str, payload: dict, user, expected: dict) -> dict | None:
    """Check, change and commit one action asked for by `user` (None: the system). The row decides
    (role and state first, then, once the request is known not to be stale, the row's guards)."""
    room = change.room
    actor = work.actor(change, user)
    row = states.check_allowed(action, room.state, actor.roles)
    current = {"version": room.version, "turn": room.turn_number, "segment": room.segment_index}
    for name, value in expected.items():
        if value is not None and value != current[name]:
            raise RoomError("stale", "The room changed before your action arrived.", version=room.version)
    states.check_guards(row, change, actor)
    try:
        HANDLERS[action](change, payload or {})
    except NoChange:
        return None
    return commit_locked(change, row, user)
