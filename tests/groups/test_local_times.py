"""Local times that daylight saving makes missing or doubled: refused or explained, never guessed
silently. Through the pages, with the .ics read back by icalendar and recurring-ical-events."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar
import pytest
import recurring_ical_events
import time_machine
from django.contrib.messages import get_messages

from groups.models import Call, Series

NOW = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def facilitator_client(client, circle):
    client.force_login(circle.facilitator)
    return client


def call_data(circle, **changes):
    data = {
        "title": "Night owls",
        "format": str(circle.call_format.pk),
        "facilitator": str(circle.facilitator.pk),
        "co_facilitator": "",
        "duration_minutes": "60",
        "capacity": "8",
        "time_zone": "Europe/Berlin",
        "day": "2027-03-28",
        "at": "02:30",
    }
    data.update(changes)
    return data


def notes(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.mark.parametrize(
    ("zone", "day", "message"),
    [
        ("Europe/Berlin", "2027-03-28", "02:30 does not exist on 28 March in Berlin; clocks jump to 03:00. Use 03:00?"),
        (
            "America/New_York",
            "2027-03-14",
            "02:30 does not exist on 14 March in New York; clocks jump to 03:00. Use 03:00?",
        ),
        (
            "Australia/Sydney",
            "2027-10-03",
            "02:30 does not exist on 3 October in Sydney; clocks jump to 03:00. Use 03:00?",
        ),
    ],
)
def test_a_time_that_does_not_exist_is_refused_naming_the_next_valid_time(
    facilitator_client, circle, zone, day, message
):
    response = facilitator_client.post(
        f"/c/{circle.community.slug}/calls/new/", call_data(circle, time_zone=zone, day=day)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Call.objects.exists()


def test_tokyo_has_no_gap_so_the_same_time_is_scheduled(facilitator_client, circle):
    response = facilitator_client.post(
        f"/c/{circle.community.slug}/calls/new/", call_data(circle, time_zone="Asia/Tokyo")
    )
    assert response.status_code == 302
    call = Call.objects.get()
    assert call.starts_at == datetime(2027, 3, 27, 17, 30, tzinfo=UTC)
    assert notes(response) == ["The call is scheduled."]


def test_a_time_that_happens_twice_is_the_first_and_the_confirmation_says_so(facilitator_client, circle):
    response = facilitator_client.post(f"/c/{circle.community.slug}/calls/new/", call_data(circle, day="2027-10-31"))
    assert response.status_code == 302
    call = Call.objects.get()
    assert call.starts_at == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 02:30 CEST, before clocks go back
    assert notes(response) == [
        "The call is scheduled.",
        "02:30 happens twice on 31 October in Berlin, when clocks go back; the call is at the first 02:30.",
    ]
    event = icalendar.Calendar.from_ical(facilitator_client.get(f"/calls/{call.pk}/calendar.ics").content).walk(
        "VEVENT"
    )[0]
    assert event.decoded("DTSTART").astimezone(UTC) == call.starts_at


def test_moving_a_call_into_a_gap_is_refused_and_changes_nothing(facilitator_client, circle):
    call = circle.call()
    before = (call.starts_at, call.version, call.sequence)
    local = call.local_start()
    data = call_data(circle, title=call.title, day="2027-03-28", at="02:15", version=str(call.version))
    data.pop("time_zone")
    response = facilitator_client.post(f"/calls/{call.pk}/edit/", data)
    assert response.status_code == 200
    assert "02:15 does not exist on 28 March in Berlin; clocks jump to 03:00." in response.content.decode()
    call.refresh_from_db()
    assert (call.starts_at, call.version, call.sequence) == before
    assert call.local_start() == local


@time_machine.travel(datetime(2027, 3, 1, 9, 0, tzinfo=UTC), tick=False)
def test_a_series_across_a_gap_says_which_call_moves_and_calendars_agree(client, circle):
    client.force_login(circle.facilitator)
    facilitator_client = client
    data = {
        "title": "Night owls",
        "format": str(circle.call_format.pk),
        "facilitator": str(circle.facilitator.pk),
        "co_facilitator": "",
        "duration_minutes": "60",
        "capacity": "8",
        "time_zone": "Europe/Berlin",
        "start_date": "2027-03-14",
        "start_time": "02:30",
        "frequency": "weekly",
        "interval": "1",
        "weekdays": ["6"],
        "ends": "after_count",
        "count": "4",
    }
    response = facilitator_client.post(f"/c/{circle.community.slug}/series/new/", data)
    assert response.status_code == 302
    assert notes(response) == [
        "The series is scheduled. Its calls are listed below.",
        "02:30 does not exist on 28 March in Berlin (clocks jump from 02:00 to 03:00), so that call starts at 03:30.",
    ]
    series = Series.objects.get()
    starts = list(Call.objects.filter(series=series).order_by("starts_at").values_list("starts_at", flat=True))
    assert starts == [
        datetime(2027, 3, 14, 1, 30, tzinfo=UTC),
        datetime(2027, 3, 21, 1, 30, tzinfo=UTC),
        datetime(2027, 3, 28, 1, 30, tzinfo=UTC),  # 03:30 CEST
        datetime(2027, 4, 4, 0, 30, tzinfo=UTC),
    ]
    ics = icalendar.Calendar.from_ical(facilitator_client.get(f"/series/{series.pk}/calendar.ics").content)
    expanded = sorted(
        event.decoded("DTSTART").astimezone(UTC)
        for event in recurring_ical_events.of(ics).between((2027, 3, 1), (2027, 5, 1))
    )
    assert expanded == starts
