"""The room's one way in: every change is `room_apply` (or `room_tick`, which applies whatever time
and presence have made due). Each call locks the room's row, checks the state table and the
actor's role, changes rows, bumps the version once, writes structural events and, after commit,
broadcasts the full snapshot.
"""

from __future__ import annotations

import contextlib
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from groups.formats import parse_segments
from groups.models import RSVP, Call
from sharing import access, broadcast, snapshots, states
from sharing.access import check_entry
from sharing.errors import RoomError
from sharing.models import (
    AUTO_END_AFTER,
    BETWEEN_SEGMENTS,
    CHECKIN_EMOJI,
    CHECKIN_MAX_LENGTH,
    EXTEND_STEP,
    FACILITATOR_TAKEOVER,
    PRESENCE_TIMEOUT,
    SPEAKER_AWAY_SKIP,
    Participant,
    Room,
    RoomEvent,
)

Round = Participant.Round
MAX_CASCADE = 20
SWEEP_RETRY = timedelta(seconds=5)  # a room whose tick failed is tried again this much later
logger = logging.getLogger("attunement.room")


class NoChange(Exception):
    """Nothing to do: the room stays as it is, with no new version and no broadcast."""


@dataclass
class Change:
    """Everything one unit of work on a room needs: the locked room, its people and the clock."""

    room: Room
    call: Call
    now: datetime
    participants: dict[int, Participant]
    actor_user: object | None = None
    actor: Participant | None = None
    events: list[dict] = field(default_factory=list)
    loaded: dict[int, dict] = field(default_factory=dict)  # each participant's columns as read

    @property
    def segment(self) -> dict | None:
        return self.room.segment()

    def admitted(self) -> list[Participant]:
        return [p for p in self.participants.values() if p.is_admitted]

    def present(self) -> list[Participant]:
        return [p for p in self.admitted() if p.is_present(self.now)]

    def get(self, participant_id) -> Participant:
        try:
            return self.participants[int(participant_id)]
        except (KeyError, TypeError, ValueError):
            raise RoomError("unknown_participant", "That person is not in this call.") from None

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


# Segments and turns


def _clear_turn(room: Room) -> None:
    room.speaker = None
    room.turn_started_at = room.turn_ends_at = room.grace_ends_at = None
    room.turn_extended_seconds = 0
    room.share_mode = ""
    room.typing = False
    room.resonance_count = 0
    room.reflector = None


def _clear_hands(change: Change) -> None:
    for p in change.participants.values():
        p.hand_raised_at = None


def _round_order(change: Change) -> list[int]:
    room = change.room
    people = [p for p in change.present() if p.is_admitted]
    if room.order_policy == Room.OrderPolicy.ARRANGED:
        arranged = {pid: position for position, pid in enumerate(room.order)}
        people.sort(key=lambda p: (arranged.get(p.pk, len(arranged)), p.admitted_at or p.arrived_at, p.pk))
    elif room.order_policy == Room.OrderPolicy.RANDOM:
        people.sort(key=lambda p: p.pk)
        random.Random(f"{room.call_id}:{room.segment_index}:{room.turn_number}").shuffle(people)  # noqa: S311
    else:
        responded = dict(
            RSVP.objects.filter(call_id=room.call_id, user_id__in=[p.user_id for p in people]).values_list(
                "user_id", "responded_at"
            )
        )
        role_rank = {Participant.Role.FACILITATOR: 0, Participant.Role.CO_FACILITATOR: 1}
        people.sort(
            key=lambda p: (
                role_rank.get(p.role, 2),
                responded.get(p.user_id) or p.admitted_at or p.arrived_at,
                p.pk,
            )
        )
    return [p.pk for p in people]


def _start_segment(change: Change, index: int) -> None:
    room = change.room
    room.segment_index = index
    room.segment_started_at = change.now
    room.segment_complete = False
    room.segment_ends_at = None
    room.phase_started_at = change.now
    room.phase_ends_at = None
    room.round_pass = 1
    _clear_turn(room)
    _clear_hands(change)
    for p in change.participants.values():
        p.round_status = Round.NONE
    segment = room.segment()
    change.event("segment.started", segment=index, segment_kind=segment["kind"])
    if segment["kind"] == "grounding":
        room.phase = Room.Phase.GROUNDING
        room.phase_ends_at = change.now + timedelta(seconds=segment["seconds"])
        return
    if segment["kind"] == "open":
        room.segment_ends_at = change.now + timedelta(seconds=segment["seconds"])
        room.order = []
        _next_turn(change)
        return
    room.order = _round_order(change)
    for pid in room.order:
        change.participants[pid].round_status = Round.PENDING
    _next_turn(change)


def _segment_done(change: Change) -> None:
    room = change.room
    segment = room.segment()
    if segment is not None and room.segment_started_at is not None:
        planned = segment.get("seconds") or 0
        if segment["kind"] in {"round", "closing"}:
            people = len(room.order)
            planned = people * (segment["turn_seconds"] + segment.get("reflection_seconds", 0))
        change.event(
            "segment.ended",
            duration=change.now - room.segment_started_at,
            segment=room.segment_index,
            segment_kind=segment["kind"],
            planned_ms=planned * 1000,
        )
    _clear_turn(room)
    _clear_hands(change)
    room.phase = Room.Phase.BETWEEN
    room.phase_started_at = change.now
    room.segment_complete = True
    room.segment_ends_at = None
    if room.segment_index + 1 < len(room.segments):
        room.phase_ends_at = change.now + BETWEEN_SEGMENTS
    else:
        room.phase_ends_at = None  # the agenda is complete; the facilitator closes the call


def _start_turn(change: Change, speaker: Participant) -> None:
    room = change.room
    segment = room.segment()
    room.phase = Room.Phase.TURN
    room.speaker = speaker
    room.turn_number += 1
    room.turn_started_at = change.now
    seconds = segment["turn_seconds"] * speaker.user.turn_multiplier
    room.turn_ends_at = change.now + timedelta(seconds=seconds)
    room.grace_ends_at = room.turn_ends_at + timedelta(seconds=room.grace_seconds)
    room.turn_extended_seconds = 0
    room.resonance_count = 0
    room.reflector = None
    room.typing = speaker.user.prefers_typing
    preferred = speaker.user.reflections_default
    if preferred == Room.ShareMode.REFLECTIONS and not segment.get("reflection_seconds"):
        preferred = Room.ShareMode.RESONANCE
    room.share_mode = preferred
    speaker.hand_raised_at = None
    if segment["kind"] != "open":
        speaker.round_status = Round.SPEAKING
    change.event("turn.started", subject=speaker, segment=room.segment_index, seconds=int(seconds))


def _next_turn(change: Change) -> None:
    """Give the floor to whoever is next, or close the segment when nobody is."""
    room = change.room
    segment = room.segment()
    _clear_turn(room)
    if segment["kind"] == "open":
        if room.segment_ends_at is not None and change.now >= room.segment_ends_at:
            _segment_done(change)
            return
        hands = [p for p in change.hands() if p.is_present(change.now)]
        if hands:
            _start_turn(change, hands[0])
        else:
            room.phase = Room.Phase.BETWEEN
            room.phase_started_at = change.now
            room.phase_ends_at = None
        return
    for _ in range(2):
        waiting = Round.PENDING if room.round_pass == 1 else Round.OFFERED
        for pid in room.order:
            p = change.participants.get(pid)
            if p is None or p.round_status != waiting:
                continue
            if not p.is_admitted or not p.is_present(change.now):
                p.round_status = Round.SKIPPED
                change.event("turn.skipped", subject=p, reason="away")
                continue
            _start_turn(change, p)
            return
        passed = [
            change.participants[pid] for pid in room.order if change.participants[pid].round_status == Round.PASSED
        ]
        if room.round_pass == 1 and passed:
            room.round_pass = 2
            for p in passed:
                p.round_status = Round.OFFERED
            continue
        break
    _segment_done(change)


def _end_turn(change: Change, outcome: str) -> None:
    """The speaker's turn is over: record how long and how it ended, then move on."""
    room = change.room
    speaker = room.speaker
    segment = room.segment()
    if speaker is not None:
        if segment["kind"] != "open":
            if outcome in {"finished", "timeout"}:
                speaker.round_status = Round.DONE
            elif outcome == "passed":
                speaker.round_status = Round.DECLINED if room.round_pass == 2 else Round.PASSED
            else:
                speaker.round_status = Round.SKIPPED
        if outcome in {"finished", "timeout"}:
            speaker.has_shared = True
            speaker.turns_taken += 1
        change.event(
            "turn.ended",
            subject=speaker,
            duration=change.now - room.turn_started_at,
            outcome=outcome,
            segment=room.segment_index,
            extended_s=room.turn_extended_seconds,
            mode=room.share_mode,
            typed=room.typing,
        )
    wants_reflections = (
        outcome in {"finished", "timeout"}
        and room.share_mode == Room.ShareMode.REFLECTIONS
        and segment.get("reflection_seconds", 0) > 0
    )
    if wants_reflections:
        room.phase = Room.Phase.REFLECTIONS
        room.phase_started_at = change.now
        room.phase_ends_at = change.now + timedelta(seconds=segment["reflection_seconds"])
        room.turn_ends_at = room.grace_ends_at = None
        room.reflector = None
        _clear_hands(change)
        return
    _next_turn(change)


def _end_reflections(change: Change) -> None:
    room = change.room
    change.event(
        "reflections.ended",
        subject=room.speaker,
        duration=change.now - room.phase_started_at,
        segment=room.segment_index,
    )
    _clear_hands(change)
    _next_turn(change)


def _next_reflector(change: Change) -> None:
    hands = [p for p in change.hands() if p.pk != (change.room.speaker_id or 0)]
    change.room.reflector = hands[0] if hands else None


def _in_open_sharing(change: Change) -> bool:
    segment = change.segment
    return segment is not None and segment["kind"] == "open" and not change.room.segment_complete


def _append_to_round(change: Change, p: Participant) -> None:
    """Someone arrives (or returns) during a round: they join its end."""
    room = change.room
    segment = change.segment
    if room.status == Room.Status.ENDED or segment is None or room.segment_complete:
        return
    if segment["kind"] not in {"round", "closing"}:
        return
    if p.round_status in {Round.NONE, Round.SKIPPED}:
        room.order = [pid for pid in room.order if pid != p.pk] + [p.pk]
        p.round_status = Round.PENDING if room.round_pass == 1 else Round.OFFERED
        if room.phase == Room.Phase.BETWEEN and not room.segment_complete:
            _next_turn(change)


# Handlers, one per action in sharing.states.TABLE.


def _start(change: Change, payload: dict) -> None:
    room = change.room
    call_format = change.call.format
    room.segments = [segment.to_dict() for segment in parse_segments(call_format.segments)]
    room.grace_seconds = call_format.grace_seconds
    room.status = Room.Status.LIVE
    room.started_at = change.now
    change.event("call.started")
    _start_segment(change, 0)


def _end(change: Change, payload: dict) -> None:
    room = change.room
    if room.phase == Room.Phase.TURN and room.speaker is not None:
        _end_turn_quietly(change, "call_ended")
    _clear_turn(room)
    _clear_hands(change)
    room.status = Room.Status.ENDED
    room.phase = Room.Phase.NONE
    room.phase_ends_at = room.segment_ends_at = None
    room.ended_at = change.now
    # The call's pages read its end from the call: it is over for everyone, even before its scheduled end.
    Call.objects.filter(pk=room.call_id, ended_at__isnull=True).update(ended_at=change.now)
    for p in change.participants.values():
        p.checkin = ""  # a check-in belongs to the call; nothing of it stays afterwards
    change.event("call.ended", duration=change.now - (room.started_at or change.now))


def _end_turn_quietly(change: Change, outcome: str) -> None:
    """The turn stops because the call or the segment moves on: record it, without moving on."""
    room = change.room
    if room.speaker.round_status == Round.SPEAKING:
        room.speaker.round_status = Round.DONE
    change.event(
        "turn.ended",
        subject=room.speaker,
        duration=change.now - room.turn_started_at,
        outcome=outcome,
        segment=room.segment_index,
    )


def _pause(change: Change, payload: dict) -> None:
    room = change.room
    room.paused_phase = room.phase
    room.paused_at = change.now
    room.status = Room.Status.PAUSED
    change.event("paused")


def _resume(change: Change, payload: dict) -> None:
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


def _segment_next(change: Change, payload: dict) -> None:
    room = change.room
    if room.phase == Room.Phase.TURN and room.speaker is not None:
        _end_turn_quietly(change, "segment_moved_on")
    if not room.segment_complete:
        _segment_done(change)
    if room.segment_index + 1 < len(room.segments):
        _start_segment(change, room.segment_index + 1)


def _deadline(change: Change, payload: dict) -> None:
    room, now = change.room, change.now
    if room.phase == Room.Phase.TURN and room.grace_ends_at and now >= room.grace_ends_at:
        _end_turn(change, "timeout")
    elif room.phase == Room.Phase.REFLECTIONS and room.phase_ends_at and now >= room.phase_ends_at:
        _end_reflections(change)
    elif room.phase == Room.Phase.GROUNDING and room.phase_ends_at and now >= room.phase_ends_at:
        _segment_done(change)
    elif (
        room.phase == Room.Phase.BETWEEN and room.segment_complete and room.phase_ends_at and now >= room.phase_ends_at
    ):
        _start_segment(change, room.segment_index + 1)
    elif room.phase == Room.Phase.BETWEEN and room.segment_ends_at and now >= room.segment_ends_at:
        _segment_done(change)
    else:
        raise NoChange


def _speaker_away(change: Change, payload: dict) -> None:
    speaker = change.room.speaker
    away = speaker.away_since(change.now) if speaker else None
    if away is None or change.now - away < SPEAKER_AWAY_SKIP:
        raise NoChange
    _end_turn(change, "away")


def _finish(change: Change, payload: dict) -> None:
    _end_turn(change, "finished")


def _while_live(change: Change, step) -> None:
    """Run a step that moves the agenda on; in a paused room the result stays paused."""
    if change.room.status != Room.Status.PAUSED:
        step()
        return
    _resume(change, {})
    step()
    _pause(change, {})


def _pass(change: Change, payload: dict) -> None:
    room, me = change.room, change.actor
    if room.phase == Room.Phase.TURN and room.speaker_id == me.pk:
        _while_live(change, lambda: _end_turn(change, "passed"))
        return
    if _in_open_sharing(change):
        if me.hand_raised_at is None:
            raise NoChange
        me.hand_raised_at = None
        return
    if me.round_status == Round.PENDING:
        me.round_status = Round.PASSED
    elif me.round_status == Round.OFFERED:
        me.round_status = Round.DECLINED
    else:
        raise RoomError("nothing_to_pass", "There is no turn of yours to pass right now.")
    change.event("turn.passed", subject=me, ahead=True, segment=room.segment_index)


def _skip(change: Change, payload: dict) -> None:
    room = change.room
    target = change.get(payload["participant"]) if payload.get("participant") else room.speaker
    if target is None:
        raise RoomError("nothing_to_skip", "Nobody is speaking.")
    if room.phase == Room.Phase.TURN and room.speaker_id == target.pk:
        _end_turn(change, "skipped")
    elif target.round_status in {Round.PENDING, Round.OFFERED}:
        target.round_status = Round.SKIPPED
        change.event("turn.skipped", subject=target, reason="facilitator")
    else:
        raise RoomError("nothing_to_skip", "That person is not waiting for a turn.")


def _extend(change: Change, payload: dict) -> None:
    room = change.room
    if room.phase == Room.Phase.TURN:
        room.turn_ends_at = max(room.turn_ends_at, change.now) + EXTEND_STEP
        room.grace_ends_at = room.turn_ends_at + timedelta(seconds=room.grace_seconds)
        room.turn_extended_seconds += int(EXTEND_STEP.total_seconds())
    else:
        room.phase_ends_at = max(room.phase_ends_at, change.now) + EXTEND_STEP
    change.event("extended", subject=room.speaker, seconds=int(EXTEND_STEP.total_seconds()))


def _give(change: Change, payload: dict) -> None:
    if not _in_open_sharing(change):
        raise RoomError("invalid_state", "The floor is given only in open sharing.")
    target = change.get(payload.get("participant"))
    if not target.is_admitted or not target.is_present(change.now):
        raise RoomError("not_present", "That person is not here right now.")
    _start_turn(change, target)


def _share_mode(change: Change, payload: dict) -> None:
    mode = payload["mode"]
    if mode == Room.ShareMode.REFLECTIONS and not change.segment.get("reflection_seconds"):
        raise RoomError("not_allowed", "This part of the call has no time for reflections.")
    change.room.share_mode = mode


def _share_typing(change: Change, payload: dict) -> None:
    change.room.typing = bool(payload["typing"])


def _resonate(change: Change, payload: dict) -> None:
    room, me = change.room, change.actor
    if room.speaker_id == me.pk or room.share_mode == Room.ShareMode.LISTEN:
        raise RoomError("not_allowed", "Resonance is not open for this share.")
    if me.resonated_turn == room.turn_number:
        raise NoChange
    me.resonated_turn = room.turn_number
    room.resonance_count += 1


def _hand_raise(change: Change, payload: dict) -> None:
    room, me = change.room, change.actor
    in_reflections = room.phase == Room.Phase.REFLECTIONS
    if in_reflections:
        if room.speaker_id == me.pk:
            raise RoomError("not_allowed", "This is your share; listeners raise hands to reflect.")
        if change.segment.get("reflection_mode") == "typed":
            raise RoomError("not_allowed", "Reflections are typed in this part of the call.")
    elif not _in_open_sharing(change):
        raise RoomError("not_allowed", "Hands are raised during reflections and open sharing.")
    if me.hand_raised_at is not None:
        raise NoChange
    me.hand_raised_at = change.now
    if in_reflections and room.reflector is None:
        _next_reflector(change)
    elif room.phase == Room.Phase.BETWEEN and room.speaker is None:
        _next_turn(change)


def _hand_lower(change: Change, payload: dict) -> None:
    room, me = change.room, change.actor
    if me.hand_raised_at is None:
        raise NoChange
    me.hand_raised_at = None
    if room.reflector_id == me.pk:
        _next_reflector(change)


def _hand_first(change: Change, payload: dict) -> None:
    target = change.get(payload.get("participant"))
    hands = change.hands()
    if target.hand_raised_at is None or not hands:
        raise RoomError("no_hand", "That person's hand is not raised.")
    target.hand_raised_at = hands[0].hand_raised_at - timedelta(milliseconds=1)


def _reflection_done(change: Change, payload: dict) -> None:
    room, me = change.room, change.actor
    reflector = room.reflector
    if reflector is None:
        raise NoChange
    is_facilitator = me is not None and me.is_facilitator
    if me is not None and me.pk not in {reflector.pk, room.speaker_id} and not is_facilitator:
        raise RoomError("forbidden", "Only the person reflecting, the sharer or a facilitator can do that.")
    change.event("reflection.spoken", subject=reflector)
    reflector.hand_raised_at = None
    _next_reflector(change)


def _reflections_end(change: Change, payload: dict) -> None:
    _end_reflections(change)


def _order_set(change: Change, payload: dict) -> None:
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


def _settings(change: Change, payload: dict) -> None:
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
                _admit(change, p)
    change.event("settings", **{key: value for key, value in changed.items() if isinstance(value, bool | str)})


def _admit(change: Change, p: Participant) -> None:
    p.state = Participant.State.ADMITTED
    p.admitted_at = change.now
    change.event("participant.admitted", subject=p)
    _append_to_round(change, p)


def _participant_admit(change: Change, payload: dict) -> None:
    target = change.get(payload.get("participant"))
    if target.state != Participant.State.LOBBY:
        raise NoChange
    _admit(change, target)


def _participant_remove(change: Change, payload: dict) -> None:
    room = change.room
    target = change.get(payload.get("participant"))
    if target.role == Participant.Role.FACILITATOR and not (change.actor_user and change.actor_user.is_staff):
        raise RoomError("forbidden", "The call's facilitator cannot be removed from it.")
    if target.state == Participant.State.REMOVED:
        raise NoChange
    if room.phase == Room.Phase.TURN and room.speaker_id == target.pk:
        _while_live(change, lambda: _end_turn(change, "removed"))
    if room.reflector_id == target.pk:
        target.hand_raised_at = None
        _next_reflector(change)
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


def _checkin_set(change: Change, payload: dict) -> None:
    word = clean_checkin(payload.get("word"))
    if change.actor.checkin == word:
        raise NoChange
    change.actor.checkin = word


def _support_request(change: Change, payload: dict) -> None:
    if change.actor.needs_support:
        raise NoChange
    change.actor.needs_support = True
    change.event("support.requested", subject=change.actor)


def _support_clear(change: Change, payload: dict) -> None:
    target = change.get(payload.get("participant"))
    if not target.needs_support:
        raise NoChange
    target.needs_support = False


def _presence_enter(change: Change, payload: dict) -> None:
    me, room = change.actor, change.room
    was_away = not me.is_present(change.now)
    me.connected = True
    me.last_seen_at = change.now
    me.disconnected_at = None
    if me.role == Participant.Role.FACILITATOR and room.acting_facilitator_id != me.user_id:
        room.acting_facilitator_id = me.user_id
        change.event("facilitator.returned", subject=me)
    if was_away and me.is_admitted:
        _append_to_round(change, me)
    change.event("presence.entered", subject=me)


def _presence_leave(change: Change, payload: dict) -> None:
    me = change.actor
    if not me.connected:
        raise NoChange
    me.connected = False
    me.disconnected_at = payload.get("at") or change.now
    change.event("presence.left", subject=me)


def _takeover(change: Change, payload: dict) -> None:
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


def _standing_changed(change: Change, payload: dict) -> None:
    _recheck_locked(change, payload.get("user"))


HANDLERS = {
    "call.start": _start,
    "call.end": _end,
    "pause": _pause,
    "resume": _resume,
    "segment.next": _segment_next,
    "deadline": _deadline,
    "speaker.away": _speaker_away,
    "turn.finish": _finish,
    "turn.pass": _pass,
    "turn.skip": _skip,
    "turn.extend": _extend,
    "turn.give": _give,
    "share.mode": _share_mode,
    "share.typing": _share_typing,
    "resonate": _resonate,
    "hand.raise": _hand_raise,
    "checkin.set": _checkin_set,
    "hand.lower": _hand_lower,
    "hand.first": _hand_first,
    "reflection.done": _reflection_done,
    "reflections.end": _reflections_end,
    "order.set": _order_set,
    "settings": _settings,
    "participant.admit": _participant_admit,
    "participant.remove": _participant_remove,
    "support.request": _support_request,
    "support.clear": _support_clear,
    "presence.enter": _presence_enter,
    "presence.leave": _presence_leave,
    "facilitator.takeover": _takeover,
    "standing.changed": _standing_changed,
}
if set(HANDLERS) != set(states.BY_ACTION):
    raise states.TableError("every action in the table needs exactly one handler")


# The unit of work


def _load(call_id: int, now: datetime) -> Change:
    room = Room.objects.select_for_update().get(pk=call_id)
    call = Call.objects.select_related("format", "community").get(pk=call_id)
    participants = {p.pk: p for p in Participant.objects.filter(room=room).select_related("user")}
    room.call = call
    if room.speaker_id:
        room.speaker = participants.get(room.speaker_id)
    if room.reflector_id:
        room.reflector = participants.get(room.reflector_id)
    loaded = {pk: _columns(p) for pk, p in participants.items()}
    return Change(room=room, call=call, now=now, participants=participants, loaded=loaded)


# The participant columns a change may write. Only those that changed are written: heartbeats update
# last_seen_at outside the room's lock, and writing back the value read here would undo them.
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


def _roles(change: Change, user) -> set[str]:
    """The roles a person has for the state table right now. Membership is checked on every action."""
    if user is None:
        return {states.SYSTEM}
    me = next((p for p in change.participants.values() if p.user_id == user.pk), None)
    change.actor = me
    if me is None or me.state != Participant.State.ADMITTED:
        raise RoomError("forbidden", "You are not in this call.")
    if not access.may_keep_seat(user, change.call.community_id):
        raise RoomError("forbidden", "You are no longer a member of this community.")
    roles = {states.SELF}
    if me.is_facilitator or access.staff_powers(user):
        roles.add(states.FACILITATOR)
    if change.room.speaker_id == me.pk:
        roles.add(states.SPEAKER)
    return roles


def _save(change: Change, row: states.Transition, user) -> dict:
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
    snapshot = snapshots.build(room, list(change.participants.values()), change.now)
    broadcast.state_after_commit(room.call_id, snapshot)
    logger.info(
        "room change",
        extra={"call": room.call_id, "action": row.action, "version": room.version, "state": room.state},
    )
    return snapshot


def _apply_locked(change: Change, action: str, payload: dict, user, expected: dict) -> dict | None:
    room = change.room
    row = states.check_allowed(action, room.state, _roles(change, user))
    current = {"version": room.version, "turn": room.turn_number, "segment": room.segment_index}
    for name, value in expected.items():
        if value is not None and value != current[name]:
            raise RoomError("stale", "The room changed before your action arrived.", version=room.version)
    try:
        HANDLERS[action](change, payload or {})
    except NoChange:
        return None
    return _save(change, row, user)


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
            change = _load(call_id, now)
            expected = {"version": expected_version, "turn": expected_turn, "segment": expected_segment}
            return _apply_locked(change, action, payload or {}, user, expected)
    except states.TransitionError as error:
        raise RoomError(error.code, str(error)) from None
    except Room.DoesNotExist:
        raise RoomError("not_open", "This call's room is not open.") from None


def due_actions(change: Change) -> list[str]:
    """What time and presence have made due in this room, in the order they apply."""
    room, now = change.room, change.now
    due = []
    stale = [p for p in change.participants.values() if p.connected and not p.is_present(now)]
    if stale:
        due.append("presence.leave")
    if (
        room.status in {Room.Status.LIVE, Room.Status.PAUSED, Room.Status.LOBBY}
        and now >= change.call.ends_at + AUTO_END_AFTER
    ):
        return [*due, "call.end"]
    if room.status == Room.Status.LIVE:
        deadline = room.next_deadline()
        if deadline is not None and now >= deadline:
            due.append("deadline")
        if room.phase == Room.Phase.TURN and room.speaker is not None:
            away = room.speaker.away_since(now)
            if away is not None and now - away >= SPEAKER_AWAY_SKIP:
                due.append("speaker.away")
    if room.status != Room.Status.ENDED:
        facilitator = next((p for p in change.participants.values() if p.role == Participant.Role.FACILITATOR), None)
        if facilitator is not None:
            away = facilitator.away_since(now)
            if away is not None and now - away >= FACILITATOR_TAKEOVER:
                due.append("facilitator.takeover")
    return due


def _mark_stale_away(change: Change) -> bool:
    """Everyone still marked connected whose heartbeats stopped is away since their last one."""
    marked = False
    for p in change.participants.values():
        if p.connected and not p.is_present(change.now):
            p.connected = False
            p.disconnected_at = p.last_seen_at
            change.event("presence.left", subject=p)
            marked = True
    return marked


def _apply_due_locked(change: Change) -> list[states.Transition]:
    """Apply, one at a time, whatever time and presence have made due; called while holding the
    room's row lock. What is due is worked out again after each step, because each step changes the
    room: a due action that the room has moved past (the speaker who was to be skipped for being away
    is no longer speaking, say) is left out, never raised."""
    applied = []
    for _ in range(MAX_CASCADE):
        progressed = False
        for action in due_actions(change):
            if action == "presence.leave":
                progressed = _mark_stale_away(change)
            else:
                try:
                    row = states.check_allowed(action, change.room.state, {states.SYSTEM})
                    HANDLERS[action](change, {})
                except (NoChange, states.TransitionError):
                    continue
                states.check_landed(row, change.room.state)
                applied.append(row)
                progressed = True
            if progressed:
                break  # the room changed: ask again what is due
        if not progressed or change.room.status == Room.Status.ENDED:
            break
    return applied


def room_tick(*, call_id: int, now=None, seen_version: int | None = None) -> dict | None:
    """Apply whatever is due now, once. A hundred simultaneous ticks produce one change: the row lock
    makes them queue, and each re-reads the room before deciding. Returns the snapshot if it changed.

    A nudge from a browser carries the version it saw; if the room has moved on since, someone else's
    nudge was answered already, and this one returns at once without taking the lock.
    """
    now = now or timezone.now()
    if seen_version is not None:
        head = Room.objects.filter(pk=call_id).values_list("version", flat=True).first()
        if head is None or head > seen_version:
            return None
    with transaction.atomic():
        try:
            change = _load(call_id, now)
        except Room.DoesNotExist:
            return None
        if change.room.status == Room.Status.ENDED:
            return None
        applied = _apply_due_locked(change)
        if not applied and not change.events:
            _rewake_locked(change)
            return None
        last = applied[-1] if applied else states.lookup("presence.leave")
        return _save(change, last, None)


def _rewake_locked(change: Change) -> None:
    """Nothing was due after all (a heartbeat came, or the moment was computed from rows that have
    changed since): store the room's real next wake time, and never one in the past, so that the
    sweep does not wake it again every second for nothing. No new version: nothing changed."""
    room = change.room
    wake = room.wake_time(change.participants.values())
    if wake is not None and wake <= change.now:
        wake = change.now + SWEEP_RETRY
    if wake != room.wake_at:
        Room.objects.filter(pk=room.pk).update(wake_at=wake)


def room_enter(*, call_id: int, user, now=None) -> Participant:
    """Someone's socket connects: check they may, then add or update their place in the room."""
    now = now or timezone.now()
    call = Call.objects.select_related("community").filter(pk=call_id).first()
    if call is None:
        raise RoomError("not_found", "There is no such call.")
    role, rsvp_going = check_entry(call=call, user=user, now=now)
    Room.objects.get_or_create(call=call, defaults={"acting_facilitator_id": call.facilitator_id})
    with transaction.atomic():
        change = _load(call_id, now)
        room = change.room
        if room.status == Room.Status.ENDED:
            raise RoomError("ended", "This call has ended.")
        me = next((p for p in change.participants.values() if p.user_id == user.pk), None)
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
        _presence_enter(change, {})
        _save(change, states.lookup("presence.enter"), user)
        return me


def _arrive(change: Change, me: Participant, rsvp_going: bool) -> None:
    """A new arrival waits in the lobby unless they facilitate, are staff, or RSVP'd to an auto-admitting room."""
    if me.role != Participant.Role.MEMBER or me.user.is_staff or (change.room.auto_admit and rsvp_going):
        _admit(change, me)
    else:
        change.event("participant.waiting", subject=me)


def room_leave(*, call_id: int, user, now=None) -> None:
    """A socket closed. The person stays in the room, marked away, and may come back."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            change = _load(call_id, now)
        except Room.DoesNotExist:
            return
        me = next((p for p in change.participants.values() if p.user_id == user.pk), None)
        if me is None or change.room.status == Room.Status.ENDED:
            return
        change.actor = me
        try:
            _presence_leave(change, {"at": now})
        except NoChange:
            return
        _save(change, states.lookup("presence.leave"), user)


def heartbeat(*, call_id: int, user, now=None) -> tuple[bool, int | None]:
    """Note that someone is still here. Returns (whether they were still marked present, the room's
    version): a socket that sees a newer version than it last sent missed a broadcast and resyncs."""
    now = now or timezone.now()
    present = bool(Participant.objects.filter(room_id=call_id, user=user, connected=True).update(last_seen_at=now))
    version = Room.objects.filter(pk=call_id).values_list("version", flat=True).first()
    return present, version


def current_snapshot(*, call_id: int, now=None) -> dict:
    now = now or timezone.now()
    room = Room.objects.select_related("call").get(pk=call_id)
    participants = list(Participant.objects.filter(room=room).select_related("user"))
    return snapshots.build(room, participants, now)


def sweep(*, now=None) -> int:
    """The room clock: tick every open room whose wake time has come, or where someone's heartbeats
    stopped, or whose call ended long ago. Returns how many rooms changed.

    Each room is handled on its own: one that fails is logged with its id, counted (the
    `attunement_sweep_failures_total` metric), and its wake time pushed back by SWEEP_RETRY; the rooms
    after it are still swept, and it is tried again then.
    """
    now = now or timezone.now()
    stale_presence = Participant.objects.filter(connected=True, last_seen_at__lt=now - PRESENCE_TIMEOUT)
    due = Room.objects.exclude(status=Room.Status.ENDED).filter(
        Q(wake_at__lte=now) | Q(pk__in=stale_presence.values("room_id")) | Q(call__ends_at__lt=now - AUTO_END_AFTER)
    )
    call_ids = list(due.values_list("pk", flat=True))
    retry_at = {}
    with contextlib.suppress(Exception):  # the cache only spares a failing room; it is never needed
        retry_at = cache.get_many([_sweep_failed_key(call_id) for call_id in call_ids])
    changed = 0
    for call_id in call_ids:
        if now < retry_at.get(_sweep_failed_key(call_id), now):
            continue  # failed a moment ago: wait for its pushed-back wake time
        try:
            if room_tick(call_id=call_id, now=now) is not None:
                changed += 1
        except Exception:
            logger.exception("sweep failed for a room", extra={"call": call_id})
            _sweep_failed(call_id, now)
    return changed


def _sweep_failed_key(call_id: int) -> str:
    return f"sweep-failed:{call_id}"


def _sweep_failed(call_id: int, now: datetime) -> None:
    """Count the failure and push the room's wake time back a little. Each step on its own: a broken
    database must not turn one room's failure into the end of the sweep."""
    retry = now + SWEEP_RETRY
    with contextlib.suppress(Exception):
        version = Room.objects.filter(pk=call_id).values_list("version", flat=True).first()
        RoomEvent.objects.create(room_id=call_id, version=version or 0, kind="sweep.failed", at=now)
    with contextlib.suppress(Exception):
        Room.objects.filter(pk=call_id).update(wake_at=retry)
    with contextlib.suppress(Exception):
        cache.set(_sweep_failed_key(call_id), retry, timeout=60)


def kick(*, call_id: int, user_id: int, now=None) -> None:
    """A moderator or a ban removes someone from a room: their place goes, and their sockets close."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            change = _load(call_id, now)
        except Room.DoesNotExist:
            return
        me = next((p for p in change.participants.values() if p.user_id == user_id), None)
        if me is not None and change.room.status != Room.Status.ENDED and me.state != Participant.State.REMOVED:
            row = states.check_allowed("participant.remove", change.room.state, {states.SYSTEM})
            _participant_remove(change, {"participant": me.pk})
            _save(change, row, None)
        broadcast.close_after_commit(call_id, user_id, "removed", "You were removed from this call.")


def _acting_after(change: Change) -> int | None:
    """Who holds the controls once the facilitators have changed: the facilitator if present, else
    a co-facilitator who is here, else nobody until one comes."""
    facilitating = [p for p in change.participants.values() if p.is_facilitator and p.is_admitted]
    facilitating.sort(key=lambda p: (p.role != Participant.Role.FACILITATOR, not p.is_present(change.now)))
    return facilitating[0].user_id if facilitating else None


def _recheck_locked(change: Change, user_id: int | None) -> list[Participant]:
    """Bring the seats of this room (or of one person in it) in line with what the community allows
    now. Called holding the room's lock. Returns the people who lost their seat."""
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
            _participant_remove(change, {"participant": p.pk})
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
    holder = next((p for p in change.participants.values() if p.user_id == acting), None)
    if acting is not None and (holder is None or not holder.is_facilitator or not holder.is_admitted):
        change.room.acting_facilitator_id = _acting_after(change)
        change.event("facilitator.changed")
    return gone


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
            change = _load(room_id, now)
            # A call given to someone else changes two people's roles: look at everyone in its room.
            row = states.check_allowed("standing.changed", change.room.state, {states.SYSTEM})
            gone = _recheck_locked(change, None if call_id is not None else user_id)
            if not change.events:
                continue
            _save(change, row, None)
            for p in gone:
                broadcast.close_after_commit(
                    room_id, p.user_id, "forbidden", "You can no longer take part in this call."
                )
            changed += 1
    return changed


def on_standing_changed(sender, *, user_id: int, community_id=None, call_id=None, **kwargs) -> None:
    standing_recheck(user_id=user_id, community_id=community_id, call_id=call_id)
