"""The series page: the schedule in words, its calls with their states, its .ics, and the
facilitator's edit and cancel actions. Scheduling a series lands there."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groups.models import Call, Series
from groups.services.rsvps import rsvp_set
from groups.services.scheduling import call_cancel

NOW = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


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


@pytest.fixture
def series(client, circle):
    client.force_login(circle.facilitator)
    response = client.post(f"/c/{circle.community.slug}/series/new/", series_data(circle))
    series = Series.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/series/{series.pk}/"
    return series


def test_scheduling_lands_on_the_series_page_with_its_calls(client, circle, series):
    response = client.get(f"/series/{series.pk}/")
    html = response.content.decode()
    assert "The series is scheduled. Its calls are listed below." in html
    assert "Every Wednesday at 18:30 Berlin time, 8 calls, until 24 February 2027" in html
    calls = list(Call.objects.filter(series=series).order_by("starts_at"))
    assert len(calls) == 8
    assert [int(pk) for pk in re.findall(r'href="/calls/(\d+)/"', html)] == [call.pk for call in calls]
    assert f'href="/series/{series.pk}/calendar.ics"' in html
    assert f'href="/series/{series.pk}/edit/?from={calls[0].pk}"' in html
    assert f'href="/calls/{calls[0].pk}/cancel/"' in html


def test_the_series_page_shows_each_calls_state(client, circle, series):
    calls = list(Call.objects.filter(series=series).order_by("starts_at"))
    call_cancel(call=calls[1], actor=circle.facilitator)
    rsvp_set(call_id=calls[2].pk, user=circle.member, going=True)
    client.force_login(circle.member)
    html = client.get(f"/series/{series.pk}/").content.decode()
    items = re.findall(r"<li>\s*(.*?)</li>", html.split('id="calls-title"')[1], flags=re.S)
    assert "Cancelled" in items[1]
    assert "You are going" in items[2] and "1 of 8 seats taken" in items[2]
    assert "0 of 8 seats taken" in items[3]
    assert "For facilitators" not in html  # a member sees no edit or cancel actions
    assert "/edit/" not in html and "/cancel/" not in html


def test_the_call_page_links_to_its_series(client, circle, series):
    call = Call.objects.filter(series=series).first()
    html = client.get(f"/calls/{call.pk}/").content.decode()
    assert f'href="/series/{series.pk}/"' in html


def test_anyone_may_read_a_series_like_its_calls_but_not_someone_banned(client, circle, series):
    client.logout()
    html = client.get(f"/series/{series.pk}/").content.decode()
    assert "Every Wednesday at 18:30" in html
    assert "For facilitators" not in html
    client.force_login(circle.banned)
    assert client.get(f"/series/{series.pk}/").status_code == 403
    assert client.get("/series/999999/").status_code == 404


def test_the_series_page_makes_as_many_queries_for_200_calls_as_for_10(client, circle):
    client.force_login(circle.facilitator)
    counts = []
    for count in (10, 200):
        client.post(f"/c/{circle.community.slug}/series/new/", series_data(circle, count=str(count), title=f"S{count}"))
        series = Series.objects.get(title=f"S{count}")
        Call.objects.bulk_create(
            [
                Call(
                    community=circle.community,
                    series=series,
                    title=series.title,
                    format=circle.call_format,
                    facilitator=circle.facilitator,
                    starts_at=NOW + timedelta(days=100 + n),
                    ends_at=NOW + timedelta(days=100 + n, hours=1),
                    time_zone="Europe/Berlin",
                )
                for n in range(count - Call.objects.filter(series=series).count())
            ]
        )
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/series/{series.pk}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
