"""'This and following' through the pages: the two parts of a split series together have exactly
the calls the series had, each at its new time from the split on. Checked over random series
with an independent reader: icalendar and recurring-ical-events expand both parts' .ics."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from html.parser import HTMLParser

import icalendar
import recurring_ical_events
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groups.models import Call, Series

NOW = datetime(2027, 2, 20, 12, 0, tzinfo=UTC)
ZONES = ["Europe/Berlin", "Australia/Sydney", "America/New_York", "Asia/Tokyo"]
HORIZON_END = NOW + timedelta(weeks=10)
FAR = NOW + timedelta(days=3 * 366)  # beyond the last call of any series drawn here that ends


class FormValues(HTMLParser):
    """The values a browser would submit for the page's forms, as a dict of lists."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            kind = attrs.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self.values.setdefault(name, []).append(attrs.get("value", "on"))
                else:
                    self.values.setdefault(name, [])
            elif kind not in {"submit", "button"}:
                self.values[name] = [attrs.get("value", "")]
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select].append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def form_values(html: str) -> dict[str, list[str]]:
    parser = FormValues()
    parser.feed(html)
    return parser.values


def starts_in(ics: bytes, start: datetime, end: datetime) -> list[datetime]:
    calendar = icalendar.Calendar.from_ical(ics)
    found = []
    for event in recurring_ical_events.of(calendar).between(start, end):
        if str(event.get("STATUS", "CONFIRMED")) == "CANCELLED":
            continue
        moment = event.decoded("DTSTART").astimezone(UTC)
        if start <= moment < end:
            found.append(moment)
    return sorted(found)


@st.composite
def series_cases(draw):
    zone = draw(st.sampled_from(ZONES))
    frequency = draw(st.sampled_from(["weekly", "monthly"]))
    start_date = date(2027, 2, 22) + timedelta(days=draw(st.integers(0, 30)))
    start_time = time(draw(st.integers(7, 20)), draw(st.sampled_from([0, 15, 30, 45])))
    new_hour = draw(st.integers(7, 21).filter(lambda hour: hour != start_time.hour))
    ends = draw(st.sampled_from(["never", "on_date", "after_count"]))
    data = {
        "time_zone": zone,
        "start_date": start_date.isoformat(),
        "start_time": start_time.strftime("%H:%M"),
        "frequency": frequency,
        "interval": "1",
        "ends": ends,
    }
    if frequency == "weekly":
        data["weekdays"] = [str(day) for day in sorted(draw(st.sets(st.integers(0, 6), min_size=1, max_size=3)))]
    else:
        data["month_week"] = str(draw(st.sampled_from([1, 2, 3, 4, -1])))
        data["month_weekday"] = str(draw(st.integers(0, 6)))
    if ends == "on_date":
        shortest = 2 if frequency == "weekly" else 6  # so that the pattern has a date before it ends
        data["until"] = (start_date + timedelta(weeks=draw(st.integers(shortest, 30)))).isoformat()
    elif ends == "after_count":
        data["count"] = str(draw(st.integers(2, 12)))
    split_at = draw(st.floats(0, 1, exclude_max=True))
    return data, time(new_hour, start_time.minute), split_at


def base_data(circle) -> dict:
    return {
        "title": "Evening circle",
        "duration_minutes": "60",
        "format": str(circle.call_format.pk),
        "facilitator": str(circle.facilitator.pk),
        "co_facilitator": "",
        "capacity": "8",
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=series_cases())
def test_this_and_following_keeps_every_call_and_adds_none(client, circle, case):
    recurrence, new_time, split_at = case
    with time_machine.travel(NOW, tick=False):
        client.force_login(circle.facilitator)
        savepoint = transaction.savepoint()
        try:
            check_split(client, circle, recurrence, new_time, split_at)
        finally:
            transaction.savepoint_rollback(savepoint)


def check_split(client, circle, recurrence, new_time, split_at):
    zone = zoneinfo.ZoneInfo(recurrence["time_zone"])
    response = client.post(f"/c/{circle.community.slug}/series/new/", {**base_data(circle), **recurrence})
    assert response.status_code == 302, response.content.decode()[:2000]
    series = Series.objects.get(community=circle.community)
    # A series that never ends is compared over the materialised weeks and two days more, so that
    # a call moved across the horizon by the new time is on both sides of the comparison.
    end = HORIZON_END + timedelta(days=2) if recurrence["ends"] == "never" else FAR
    before = starts_in(client.get(f"/series/{series.pk}/calendar.ics").content, NOW, end)
    calls = list(Call.objects.filter(series=series).order_by("starts_at"))
    assert [call.starts_at for call in calls] == [moment for moment in before if moment < HORIZON_END]
    if recurrence["ends"] == "after_count":
        assert len(before) == int(recurrence["count"])

    pivot = calls[int(split_at * len(calls))]
    page = client.get(f"/series/{series.pk}/edit/?from={pivot.pk}")
    assert page.status_code == 200
    data = form_values(page.content.decode())
    data["start_time"] = [new_time.strftime("%H:%M")]
    response = client.post(f"/series/{series.pk}/edit/?from={pivot.pk}", data)
    assert response.status_code == 302, response.content.decode()[:3000]

    def moved(moment: datetime) -> datetime:
        if moment < pivot.starts_at:
            return moment
        local = datetime.combine(moment.astimezone(zone).date(), new_time, tzinfo=zone)
        return local.astimezone(UTC)

    cut = end - timedelta(days=1)
    expected = sorted(moved(moment) for moment in before if moved(moment) < cut)
    parts = list(Series.objects.filter(community=circle.community).order_by("pk"))
    assert len(parts) == (2 if pivot != calls[0] else 1)
    union = sorted(
        moment
        for part in parts
        for moment in starts_in(client.get(f"/series/{part.pk}/calendar.ics").content, NOW, cut)
    )
    assert union == expected, (recurrence, new_time, pivot.starts_at)
    listed = set()
    for part in parts:  # the series pages the facilitator lands on list the same calls
        page = client.get(f"/series/{part.pk}/").content.decode()
        listed |= {int(pk) for pk in re.findall(r'href="/calls/(\d+)/"', page)}
    scheduled = Call.objects.filter(community=circle.community, status=Call.Status.SCHEDULED)
    assert listed == set(scheduled.values_list("pk", flat=True))
    in_database = sorted(scheduled.values_list("starts_at", flat=True))
    assert in_database == [moment for moment in expected if moment < HORIZON_END]
    assert not Call.objects.filter(community=circle.community, status=Call.Status.CANCELLED).exists()
