"""A community with known history, for insights tests and the benchmark: calls, RSVPs, who came,
who shared, check-outs and segment timings, all written directly so every number is known."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from groups.models import RSVP, Call
from journey.models import CheckOut
from sharing.models import Participant, Room, RoomEvent


@dataclass
class Attendee:
    user: object
    came: bool = True
    shared: bool = True
    felt_heard: int | None = None
    helped: tuple = ()


def past_call(circle, *, weeks_ago: float, title="Tuesday circle", attendees=(), segments=(), now=None) -> Call:
    """A call that took place `weeks_ago`, with an ended room. `segments` lists (planned_s, actual_s)."""
    now = now or timezone.now()
    starts_at = now - timedelta(weeks=weeks_ago)
    call = Call.objects.create(
        community=circle.community,
        format=circle.call_format,
        facilitator=circle.facilitator,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=75),
        time_zone="Europe/Berlin",
        capacity=12,
        title=title,
    )
    agenda = [{"kind": "round", "title": f"Part {i + 1}", "turn_seconds": 60} for i in range(len(segments))]
    room = Room.objects.create(
        call=call,
        status=Room.Status.ENDED,
        started_at=starts_at,
        ended_at=starts_at + timedelta(hours=1),
        segments=agenda,
    )
    Participant.objects.create(
        room=room,
        user=circle.facilitator,
        role=Participant.Role.FACILITATOR,
        state=Participant.State.ADMITTED,
        admitted_at=starts_at,
        has_shared=True,
    )
    for person in attendees:
        RSVP.objects.create(call=call, user=person.user, status=RSVP.Status.GOING)
        if person.came:
            Participant.objects.create(
                room=room,
                user=person.user,
                state=Participant.State.ADMITTED,
                admitted_at=starts_at,
                has_shared=person.shared,
            )
        if person.felt_heard is not None:
            CheckOut.objects.create(
                call=call, user=person.user, felt_heard=person.felt_heard, helped=list(person.helped)
            )
    for index, (planned, actual) in enumerate(segments):
        RoomEvent.objects.create(
            room=room,
            version=index + 2,
            kind="segment.ended",
            at=starts_at + timedelta(minutes=10 * (index + 1)),
            duration_ms=actual * 1000,
            detail={"segment": index, "segment_kind": "round", "planned_ms": planned * 1000},
        )
    return call
