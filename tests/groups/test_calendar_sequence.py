"""Calendars that clients update: every change a client must apply comes with a higher SEQUENCE.

Each step changes the schedule through the pages, then the series' .ics, a call's .ics and a
member's private feed are exported again and diffed component by component with icalendar. A
component whose time, EXDATE, STATUS, RRULE, summary or location changed must have a higher
SEQUENCE than before.
"""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar
import pytest
import time_machine

from accounts.models import User
from groups.models import Call, Series
from groups.services.rsvps import rsvp_set

NOW = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
WATCHED = ("DTSTART", "DTEND", "EXDATE", "STATUS", "RRULE", "SUMMARY", "LOCATION")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def components(ics: bytes) -> dict[tuple[str, str], dict]:
    """(UID, RECURRENCE-ID) -> the watched properties and SEQUENCE of each VEVENT."""
    found = {}
    for event in icalendar.Calendar.from_ical(ics).walk("VEVENT"):
        key = (str(event["UID"]), event["RECURRENCE-ID"].to_ical().decode() if "RECURRENCE-ID" in event else "")
        watched = {}
        for name in WATCHED:
            values = event.get(name)
            if values is None:
                continue
            values = values if isinstance(values, list) else [values]
            watched[name] = sorted(value.to_ical().decode() for value in values)
        found[key] = {"watched": watched, "sequence": int(event.get("SEQUENCE", 0))}
    return found


def unannounced_changes(before: bytes, after: bytes) -> list[str]:
    """Components that changed what a client shows without a higher SEQUENCE."""
    old, new = components(before), components(after)
    problems = []
    for key in old.keys() & new.keys():
        if old[key]["watched"] != new[key]["watched"] and new[key]["sequence"] <= old[key]["sequence"]:
            changed = sorted(name for name in WATCHED if old[key]["watched"].get(name) != new[key]["watched"].get(name))
            problems.append(f"{key}: {changed} changed, SEQUENCE {old[key]['sequence']} -> {new[key]['sequence']}")
    return problems


def series_data(circle, **changes):
    data = {
        "title": "Evening circle",
        "time_zone": "Europe/Berlin",
        "start_date": "2027-01-06",
        "start_time": "18:30",
        "duration_minutes": "75",
        "frequency": "weekly",
        "interval": "1",
        "weekdays": ["2"],
        "ends": "after_count",
        "count": "8",
        "format": str(circle.call_format.pk),
        "facilitator": str(circle.facilitator.pk),
        "co_facilitator": "",
        "capacity": "8",
    }
    data.update(changes)
    return data


def call_data(call, **changes):
    local = call.local_start()
    data = {
        "title": call.title,
        "format": str(call.format_id),
        "facilitator": str(call.facilitator_id),
        "co_facilitator": str(call.co_facilitator_id or ""),
        "duration_minutes": str(int(call.duration.total_seconds() // 60)),
        "capacity": str(call.capacity),
        "day": local.date().isoformat(),
        "at": local.strftime("%H:%M"),
        "version": str(call.version),
    }
    data.update(changes)
    return data


def test_every_change_a_calendar_must_apply_raises_sequence(client, circle):
    client.force_login(circle.facilitator)
    assert client.post(f"/c/{circle.community.slug}/series/new/", series_data(circle)).status_code == 302
    series = Series.objects.get()
    calls = list(Call.objects.filter(series=series).order_by("starts_at"))
    member = circle.member
    for call in calls[1:4]:
        rsvp_set(call_id=call.pk, user=member, going=True)
    User.objects.filter(pk=member.pk).update(calendar_token="feed-token-for-maya")
    watched_call = calls[2]

    def exports() -> dict[str, bytes]:
        return {
            "series": client.get(f"/series/{series.pk}/calendar.ics").content,
            "call": client.get(f"/calls/{watched_call.pk}/calendar.ics").content,
            "feed": client.get("/calendar/feed-token-for-maya.ics").content,
        }

    def fresh(call):
        return Call.objects.get(pk=call.pk)

    steps = {
        "cancel one call": lambda: client.post(f"/calls/{calls[1].pk}/cancel/", {"scope": "this"}),
        "move one call": lambda: client.post(
            f"/calls/{watched_call.pk}/edit/", call_data(fresh(watched_call), at="19:00")
        ),
        "rename one call": lambda: client.post(
            f"/calls/{watched_call.pk}/edit/", call_data(fresh(watched_call), title="A quieter circle")
        ),
        "change the series' time": lambda: client.post(
            f"/series/{series.pk}/edit/",
            series_data(circle, start_time="17:30", version=str(Series.objects.get(pk=series.pk).version)),
        ),
        "rename the series": lambda: client.post(
            f"/series/{series.pk}/edit/",
            series_data(
                circle,
                start_time="17:30",
                title="Wednesday circle",
                version=str(Series.objects.get(pk=series.pk).version),
            ),
        ),
        "cancel this and following": lambda: client.post(f"/calls/{calls[5].pk}/cancel/", {"scope": "following"}),
    }
    before = exports()
    for step, act in steps.items():
        response = act()
        assert response.status_code == 302, f"{step}: {response.content.decode()[:1500]}"
        after = exports()
        assert before["series"] != after["series"], f"{step} did not change the series' .ics"
        for name in before:
            assert not unannounced_changes(before[name], after[name]), (step, name)
        before = after


def test_the_diff_catches_a_change_without_a_higher_sequence(client, circle):
    """The checker itself: a cancelled call whose SEQUENCE stayed put is reported."""
    client.force_login(circle.facilitator)
    call = circle.call()
    before = client.get(f"/calls/{call.pk}/calendar.ics").content
    Call.objects.filter(pk=call.pk).update(status=Call.Status.CANCELLED)
    after = client.get(f"/calls/{call.pk}/calendar.ics").content
    assert unannounced_changes(before, after)
