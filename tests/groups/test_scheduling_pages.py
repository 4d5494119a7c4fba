"""The facilitator's scheduling forms: clear messages for bad input, and nothing changed."""

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from groups.models import Call, Series

NOW = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def series_data(circle, **changes):
    data = {
        "title": "Evening circle",
        "time_zone": "Europe/Berlin",
        "start_date": "2027-01-05",
        "start_time": "18:00",
        "duration_minutes": "75",
        "frequency": "weekly",
        "interval": "1",
        "weekdays": ["1"],
        "ends": "never",
        "format": str(circle.call_format.pk),
        "facilitator": str(circle.facilitator.pk),
        "co_facilitator": "",
        "capacity": "8",
    }
    data.update(changes)
    return data


@pytest.fixture
def facilitator_client(client, circle):
    client.force_login(circle.facilitator)
    return client


def post_series(client, circle, **changes):
    return client.post(f"/c/{circle.community.slug}/series/new/", series_data(circle, **changes))


def test_facilitator_schedules_a_weekly_series(facilitator_client, circle):
    response = post_series(facilitator_client, circle)
    assert response.status_code == 302
    series = Series.objects.get()
    assert series.weekdays == [1]
    assert Call.objects.filter(series=series).count() == 10


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"time_zone": "Mars/Base"}, "Mars/Base is not one of the available choices"),
        ({"start_date": "2026-12-01"}, "Choose a first date and time in the future."),
        ({"capacity": "13"}, "Ensure this value is less than or equal to 12."),
        ({"capacity": "1"}, "Ensure this value is greater than or equal to 2."),
        ({"weekdays": []}, "Choose at least one day of the week."),
        ({"ends": "on_date", "until": "2027-01-02"}, "The last date must be on or after the first date."),
        (
            {"frequency": "monthly", "month_week": "", "month_weekday": ""},
            "Choose the first, second, third, fourth or last week.",
        ),
        ({"start_time": "25:99"}, "Enter a valid time."),
        ({"facilitator": str(10**6)}, "Select a valid choice."),
    ],
)
def test_bad_series_input_is_explained_and_nothing_is_saved(facilitator_client, circle, changes, message):
    response = post_series(facilitator_client, circle, **changes)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Series.objects.exists()
    assert not Call.objects.exists()


def test_two_facilitators_editing_the_same_series_the_second_is_told(client, circle):
    client.force_login(circle.facilitator)
    post_series(client, circle)
    series = Series.objects.get()
    url = f"/series/{series.pk}/edit/"
    first = series_data(circle, start_time="18:30", version=str(series.version))
    second = series_data(circle, start_time="20:00", title="Changed by Cody", version=str(series.version))
    assert client.post(url, first).status_code == 302
    client.force_login(circle.co_facilitator)
    response = client.post(url, second)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else changed this while you were editing" in html
    assert 'value="18:30"' in html  # the form now shows the latest version
    series.refresh_from_db()
    assert (series.title, series.start_time.strftime("%H:%M")) == ("Evening circle", "18:30")


def test_editing_one_call_from_its_page(facilitator_client, circle):
    post_series(facilitator_client, circle)
    call = Call.objects.order_by("starts_at").first()
    data = {
        "title": "Moved circle",
        "day": "2027-01-06",
        "at": "17:00",
        "duration_minutes": "60",
        "format": str(circle.call_format.pk),
        "facilitator": str(circle.facilitator.pk),
        "co_facilitator": "",
        "capacity": "6",
        "version": str(call.version),
    }
    response = facilitator_client.post(f"/calls/{call.pk}/edit/", data)
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.local_start().strftime("%Y-%m-%d %H:%M") == "2027-01-06 17:00"
    assert call.duration == timedelta(minutes=60)
    response = facilitator_client.post(
        f"/calls/{call.pk}/edit/", {**data, "day": "2026-12-31", "version": str(call.version)}
    )
    assert response.status_code == 200
    assert "Choose a start time in the future." in response.content.decode()
    version = call.version
    call.refresh_from_db()
    assert (call.version, call.local_start().day) == (version, 6)  # the failed edit changed nothing


def test_cancelling_this_and_following_from_the_page(facilitator_client, circle):
    post_series(facilitator_client, circle)
    calls = list(Call.objects.order_by("starts_at"))
    response = facilitator_client.post(f"/calls/{calls[5].pk}/cancel/", {"scope": "following"})
    assert response.status_code == 302
    assert Call.objects.filter(status="scheduled").count() == 5
    assert Series.objects.get().until == date(2027, 2, 8)


def test_call_page_shows_the_viewers_time_and_the_calls_zone(client, circle):
    call = circle.call(starts_in=timedelta(days=3))
    client.force_login(circle.member)  # the member lives in America/New_York; the call is in Berlin
    html = client.get(f"/calls/{call.pk}/").content.decode()
    new_york = call.starts_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    berlin = call.local_start()
    assert new_york.strftime("%H:%M") in html
    assert f"{berlin.strftime('%H:%M')} in Europe/Berlin" in html
    assert "The room opens 10 minutes before the start." not in html  # not going yet


def test_join_button_becomes_active_ten_minutes_before_the_start(client, circle):
    from groups.services.rsvps import rsvp_set

    call = circle.call(starts_in=timedelta(minutes=30))
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    client.force_login(circle.member)
    html = client.get(f"/calls/{call.pk}/").content.decode()
    assert 'aria-disabled="true">Join the call' in html
    with time_machine.travel(call.starts_at - timedelta(minutes=10), tick=False):
        html = client.get(f"/calls/{call.pk}/").content.decode()
    assert f'href="/calls/{call.pk}/room/">Join the call' in html
