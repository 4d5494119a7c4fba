"""The agenda: segments, rounds and turns, over the call's typed segments (groups.formats.Segment).

A call runs its segments in order. A grounding is a timed pause; a round (or the closing round)
gives each person here a turn in the round's order, then offers a second turn to those who passed;
open sharing gives the floor to raised hands until its time is up. `next_speaker` alone decides
who is next, for the turn that starts and for the snapshot's "next".

Every function here changes a Change in memory, under the room's lock (sharing.room.work).
"""

from __future__ import annotations

import random
from datetime import timedelta

from groups.models import RSVP
from sharing.models import BETWEEN_SEGMENTS, Participant, Room
from sharing.room.work import Change

Round = Participant.Round


def clear_turn(room: Room) -> None:
    room.speaker = None
    room.turn_started_at = room.turn_ends_at = room.grace_ends_at = None
    room.turn_extended_seconds = 0
    room.share_mode = ""
    room.typing = False
    room.resonance_count = 0
    room.reflector = None


def clear_hands(change: Change) -> None:
    for p in change.participants.values():
        p.hand_raised_at = None


def round_order(change: Change) -> list[int]:
    """The order of a new round: as the facilitator arranged it, shuffled, or facilitators first and
    then in the order people RSVP'd."""
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


def start_segment(change: Change, index: int) -> None:
    room = change.room
    room.segment_index = index
    room.segment_started_at = change.now
    room.segment_complete = False
    room.segment_ends_at = None
    room.phase_started_at = change.now
    room.phase_ends_at = None
    room.round_pass = 1
    clear_turn(room)
    clear_hands(change)
    for p in change.participants.values():
        p.round_status = Round.NONE
    segment = change.segment
    change.event("segment.started", segment=index, segment_kind=segment.kind)
    if segment.kind == "grounding":
        room.phase = Room.Phase.GROUNDING
        room.phase_ends_at = change.now + timedelta(seconds=segment.seconds)
        return
    if segment.kind == "open":
        room.segment_ends_at = change.now + timedelta(seconds=segment.seconds)
        room.order = []
        next_turn(change)
        return
    room.order = round_order(change)
    for pid in room.order:
        change.participants[pid].round_status = Round.PENDING
    next_turn(change)


def segment_done(change: Change) -> None:
    room = change.room
    segment = change.segment
    if segment is not None and room.segment_started_at is not None:
        change.event(
            "segment.ended",
            duration=change.now - room.segment_started_at,
            segment=room.segment_index,
            segment_kind=segment.kind,
            planned_ms=segment.planned_seconds(people=len(room.order)) * 1000,
        )
    clear_turn(room)
    clear_hands(change)
    room.phase = Room.Phase.BETWEEN
    room.phase_started_at = change.now
    room.segment_complete = True
    room.segment_ends_at = None
    if room.segment_index + 1 < len(room.segments):
        room.phase_ends_at = change.now + BETWEEN_SEGMENTS
    else:
        room.phase_ends_at = None  # the agenda is complete; the facilitator closes the call


def start_turn(change: Change, speaker: Participant) -> None:
    room = change.room
    segment = change.segment
    room.phase = Room.Phase.TURN
    room.speaker = speaker
    room.turn_number += 1
    room.turn_started_at = change.now
    seconds = segment.turn_seconds * speaker.user.turn_multiplier
    room.turn_ends_at = change.now + timedelta(seconds=seconds)
    room.grace_ends_at = room.turn_ends_at + timedelta(seconds=room.grace_seconds)
    room.turn_extended_seconds = 0
    room.resonance_count = 0
    room.reflector = None
    room.typing = speaker.user.prefers_typing
    preferred = speaker.user.reflections_default
    if preferred == Room.ShareMode.REFLECTIONS and not segment.allows_reflections:
        preferred = Room.ShareMode.RESONANCE
    room.share_mode = preferred
    speaker.hand_raised_at = None
    if segment.kind != "open":
        speaker.round_status = Round.SPEAKING
    change.event("turn.started", subject=speaker, segment=room.segment_index, seconds=int(seconds))


def _waiting_statuses(room: Room) -> tuple[str, ...]:
    """On a round's first pass, those still waiting and then those who passed (to be offered a turn
    again); on its second pass, those offered a turn again."""
    if room.round_pass == 1:
        return (Round.PENDING, Round.PASSED)
    return (Round.OFFERED,)


def next_speaker(change: Change) -> Participant | None:
    """Who speaks next: in open sharing, the first raised hand of someone here (not the speaker's);
    in a round, the first person here in the round's order still waiting, then the first here who
    passed. None when the segment is over, or nobody is left."""
    room = change.room
    segment = change.segment
    if segment is None or room.segment_complete or room.status == Room.Status.ENDED:
        return None
    if segment.kind == "open":
        return next((p for p in change.hands() if p.pk != room.speaker_id and p.is_present(change.now)), None)
    for status in _waiting_statuses(room):
        for pid in room.order:
            p = change.participants.get(pid)
            if p is not None and p.round_status == status and p.is_admitted and p.is_present(change.now):
                return p
    return None


def _skip_away_ahead(change: Change, status: str, speaker: Participant | None) -> None:
    """Those waiting with this status ahead of the next speaker are away: they lose their turn."""
    for pid in change.room.order:
        p = change.participants.get(pid)
        if p is None or p.round_status != status:
            continue
        if p is speaker:
            return
        p.round_status = Round.SKIPPED
        change.event("turn.skipped", subject=p, reason="away")


def next_turn(change: Change) -> None:
    """Give the floor to whoever is next, or close the segment when nobody is."""
    room = change.room
    clear_turn(room)
    if change.segment.kind == "open":
        if room.segment_ends_at is not None and change.now >= room.segment_ends_at:
            segment_done(change)
            return
        speaker = next_speaker(change)
        if speaker is not None:
            start_turn(change, speaker)
        else:
            room.phase = Room.Phase.BETWEEN
            room.phase_started_at = change.now
            room.phase_ends_at = None
        return
    speaker = next_speaker(change)
    if room.round_pass == 1:
        _skip_away_ahead(change, Round.PENDING, speaker)
        passed = [
            change.participants[pid] for pid in room.order if change.participants[pid].round_status == Round.PASSED
        ]
        if passed and (speaker is None or speaker.round_status == Round.PASSED):
            room.round_pass = 2  # everyone waiting has had their turn: offer those who passed another
            for p in passed:
                p.round_status = Round.OFFERED
    if room.round_pass == 2:
        _skip_away_ahead(change, Round.OFFERED, speaker)
    if speaker is not None:
        start_turn(change, speaker)
    else:
        segment_done(change)


def end_turn(change: Change, outcome: str) -> None:
    """The speaker's turn is over: record how long and how it ended, then move on."""
    room = change.room
    speaker = room.speaker
    segment = change.segment
    if speaker is not None:
        if segment.kind != "open":
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
        and segment.allows_reflections
    )
    if wants_reflections:
        room.phase = Room.Phase.REFLECTIONS
        room.phase_started_at = change.now
        room.phase_ends_at = change.now + timedelta(seconds=segment.reflection_seconds)
        room.turn_ends_at = room.grace_ends_at = None
        room.reflector = None
        clear_hands(change)
        return
    next_turn(change)


def end_turn_quietly(change: Change, outcome: str) -> None:
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


def end_reflections(change: Change) -> None:
    room = change.room
    change.event(
        "reflections.ended",
        subject=room.speaker,
        duration=change.now - room.phase_started_at,
        segment=room.segment_index,
    )
    clear_hands(change)
    next_turn(change)


def next_reflector(change: Change) -> None:
    hands = [p for p in change.hands() if p.pk != (change.room.speaker_id or 0)]
    change.room.reflector = hands[0] if hands else None


def append_to_round(change: Change, p: Participant) -> None:
    """Someone arrives (or returns) during a round: they join its end."""
    room = change.room
    segment = change.segment
    if room.status == Room.Status.ENDED or segment is None or room.segment_complete:
        return
    if not segment.is_round:
        return
    if p.round_status in {Round.NONE, Round.SKIPPED}:
        room.order = [pid for pid in room.order if pid != p.pk] + [p.pk]
        p.round_status = Round.PENDING if room.round_pass == 1 else Round.OFFERED
        if room.phase == Room.Phase.BETWEEN and not room.segment_complete:
            next_turn(change)


def admit(change: Change, p: Participant) -> None:
    p.state = Participant.State.ADMITTED
    p.admitted_at = change.now
    change.event("participant.admitted", subject=p)
    append_to_round(change, p)
