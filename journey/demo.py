"""Past calls with a known record: RSVPs, who came, who shared, check-outs and segment timings.

The demo seeds a few weeks of them so the insights page has something to show; the tests and the
insights benchmark build exact histories with `past_call`. Rows are written directly, as if the calls
had taken place, so every number is known: answers are given an hour after the call, and a call
whose check-out has closed is tallied, as the first look at the insights would have done."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from groups.models import RSVP, Call
from groups.models.calls import DEFAULT_CAPACITY
from journey import services
from journey.models import CheckOut
from sharing import demo as room_demo
from sharing import selectors as rooms


@dataclass
class Attendee:
    user: object
    came: bool = True
    shared: bool = True
    felt_heard: int | None = None
    helped: tuple = ()


def past_call(
    *,
    community,
    facilitator,
    call_format,
    weeks_ago: float,
    title="Weekly circle",
    attendees=(),
    segments=(),
    capacity=DEFAULT_CAPACITY,
    now=None,
) -> Call:
    """A call that took place `weeks_ago`, with an ended room. `segments` lists (planned_s, actual_s).

    The facilitator is in the room as its facilitator; attendees as members, whose answers count
    unless they facilitate the community."""
    now = now or timezone.now()
    starts_at = now - timedelta(weeks=weeks_ago)
    call = Call.objects.create(
        community=community,
        format=call_format,
        facilitator=facilitator,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=75),
        time_zone="Europe/Berlin",
        capacity=capacity,
        title=title,
        ended_at=starts_at + timedelta(hours=1),
    )
    planned = list(call_format.segments or [])
    agenda = [
        planned[i] if i < len(planned) else {"kind": "round", "title": f"Part {i + 1}", "turn_seconds": 60}
        for i in range(len(segments))
    ]
    for person in attendees:
        RSVP.objects.create(call=call, user=person.user, status=RSVP.Status.GOING)
        if person.felt_heard is not None:
            CheckOut.objects.create(
                call=call,
                user=person.user,
                felt_heard=person.felt_heard,
                helped=list(person.helped),
                answered_at=call.ends_at + timedelta(hours=1),
                as_member=services.answers_as_member(call=call, user=person.user, role=rooms.MEMBER_ROLE),
            )
    room_demo.past_room(
        call=call,
        facilitator=facilitator,
        started_at=starts_at,
        ended_at=starts_at + timedelta(hours=1),
        agenda=agenda,
        members=[(person.user, person.shared) for person in attendees if person.came],
        segments=list(segments),
    )
    services.checkouts_tally(call_ids=[call.pk], now=now)
    return call


def seed_history(
    *, community, facilitator, members, call_format, weeks: int = 12, title: str, seed: int = 7, capacity=None
) -> int:
    """`weeks` weekly calls before now, unless the community already has a record. Returns how many.

    Each call has at least three members' answers (with three members or more), so every one of
    them is published and the charts have something to show."""
    if rooms.community_has_ended_rooms(community_id=community.pk):
        return 0
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    helped = [value for value in CheckOut.Helped.values if value != "other"]
    for week in range(weeks, 0, -1):
        attendees = []
        sure = set(rng.sample(range(len(members)), min(3, len(members))))  # they come and answer
        for index, person in enumerate(members):
            came = index in sure or rng.random() < 0.8
            attendees.append(
                Attendee(
                    person,
                    came=came,
                    shared=came and rng.random() < 0.85,
                    felt_heard=rng.choice((3, 4, 4, 5, 5)) if came and (index in sure or rng.random() < 0.9) else None,
                    helped=tuple(rng.sample(helped, rng.randint(1, 2))),
                )
            )
        segments = [(60, 60), (300, 300 + rng.choice((0, 0, 30, 90))), (900, 900 + rng.choice((0, 120, 240)))]
        past_call(
            community=community,
            facilitator=facilitator,
            call_format=call_format,
            weeks_ago=week,
            title=title,
            attendees=attendees,
            segments=segments,
            capacity=capacity or DEFAULT_CAPACITY,
        )
    return weeks
