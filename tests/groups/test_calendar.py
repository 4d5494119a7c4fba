"""Calendar files read back with independent parsers: icalendar for the files themselves and
recurring_ical_events for expanding a series' RRULE, EXDATEs and overrides. What a calendar program
would show must be exactly the calls the app holds, across daylight-saving changes."""

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

import icalendar
import pytest
import recurring_ical_events
from django.conf import settings
from django.urls import reverse

from groups.models import Call
from groups.recurrence import Recurrence
from groups.services.rsvps import rsvp_set
from groups.services.scheduling import (
    CallDetails,
    call_cancel,
    call_update,
    series_create,
    series_materialise,
    series_update,
)

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
# 2027: Berlin springs forward on 28 March and falls back on 31 October.
BERLIN_SUMMER = (datetime(2027, 3, 28, 1, 0, tzinfo=UTC), datetime(2027, 10, 31, 1, 0, tzinfo=UTC))
WIDE = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC))
# 100 characters: commas, semicolons and a backslash to escape, and many two-byte letters to fold.
LONG_TITLE = "Ärger, Ängste; Übergänge à Öl, Süße; Ça va? Zoë; Łódź, Æsir; Ωμέγα, Привет; für dich, ß; Ruhe\\Pause!"


# Helpers


def _details(circle, *, title="Tuesday circle", minutes=75, capacity=8):
    return CallDetails(
        title=title,
        format=circle.call_format,
        facilitator=circle.facilitator,
        co_facilitator=None,
        duration_minutes=minutes,
        capacity=capacity,
    )


def _download(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    raw = response.content
    return raw, icalendar.Calendar.from_ical(raw)


def _events(calendar):
    return list(calendar.walk("VEVENT"))


def _only_event(calendar):
    events = _events(calendar)
    assert len(events) == 1
    return events[0]


def _call_ics(client, call):
    return _download(client, f"/calls/{call.pk}/calendar.ics")


def _series_ics(client, series):
    return _download(client, f"/series/{series.pk}/calendar.ics")


def _utc(moment):
    assert moment.tzinfo is not None, moment
    return moment.astimezone(UTC)


def _occurrences(calendar, start=WIDE[0], end=WIDE[1]):
    """UTC start instants of what a calendar program shows, and a check that there are no repeats."""
    events = recurring_ical_events.of(calendar).between(start, end)
    instants = [_utc(event["DTSTART"].dt) for event in events]
    assert len(instants) == len(set(instants))
    return set(instants)


def _starts(calls):
    return {_utc(call.starts_at) for call in calls}


def _is_berlin_summer(moment):
    return BERLIN_SUMMER[0] <= moment < BERLIN_SUMMER[1]


def _weekly_berlin(start_date=date(2027, 3, 2), until=date(2027, 11, 30), at=time(18, 0)):
    return Recurrence(
        time_zone="Europe/Berlin",
        start_date=start_date,
        start_time=at,
        frequency="weekly",
        weekdays=(1,),
        ends="on_date",
        until=until,
    )


def _every_week(first, last):
    days, day = [], first
    while day <= last:
        days.append(day)
        day += timedelta(days=7)
    return days


def _exdates(event):
    value = event.get("EXDATE")
    if value is None:
        return set()
    lists = value if isinstance(value, list) else [value]
    return {_utc(item.dt) for each in lists for item in each.dts}


def _main_and_overrides(calendar):
    events = _events(calendar)
    main = [event for event in events if "RECURRENCE-ID" not in event]
    assert len(main) == 1
    overrides = [event for event in events if "RECURRENCE-ID" in event]
    return main[0], overrides


# One call's file


def test_call_ics_keeps_its_uid_counts_sequence_and_carries_the_zone(client, circle, time_machine):
    now = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    call = circle.call(starts_in=timedelta(days=2), minutes=75)  # 12 January, 13:00 in Berlin
    client.force_login(circle.member)

    raw, first = _call_ics(client, call)
    _, second = _call_ics(client, call)
    event, again = _only_event(first), _only_event(second)
    assert str(event["UID"]) == str(again["UID"])
    assert str(call.uid) in str(event["UID"])
    assert event["SEQUENCE"] == 0

    start = event["DTSTART"]
    assert start.params["TZID"] == "Europe/Berlin" == call.time_zone
    assert start.dt == call.starts_at == datetime(2027, 1, 12, 12, 0, tzinfo=UTC)
    assert (start.dt.hour, start.dt.minute, start.dt.utcoffset()) == (13, 0, timedelta(hours=1))
    assert event["DTEND"].params["TZID"] == "Europe/Berlin"
    assert event["DTEND"].dt == call.ends_at == datetime(2027, 1, 12, 13, 15, tzinfo=UTC)
    assert b"DTSTART;TZID=Europe/Berlin:20270112T130000\r\n" in raw

    zones = first.walk("VTIMEZONE")
    assert [str(zone["TZID"]) for zone in zones] == ["Europe/Berlin"]
    own_zone = zones[0].to_tz(lookup_tzid=False)  # the file's VTIMEZONE, not the tz database
    assert datetime(2027, 1, 12, 13, 0, tzinfo=own_zone).astimezone(UTC) == call.starts_at

    page = settings.SITE_URL + reverse("call", kwargs={"call_id": call.pk})
    assert page.endswith(f"/calls/{call.pk}/")
    assert str(event["URL"]) == page
    assert page in str(event["LOCATION"])
    assert str(event["STATUS"]) == "CONFIRMED"

    call_update(
        call=call,
        actor=circle.facilitator,
        expected_version=call.version,
        details=_details(circle),
        day=date(2027, 1, 14),
        at=time(19, 30),
        now=now,
    )
    call.refresh_from_db()
    _, edited = _call_ics(client, call)
    event_edited = _only_event(edited)
    assert str(event_edited["UID"]) == str(event["UID"])
    assert event_edited["SEQUENCE"] == event["SEQUENCE"] + 1 == 1
    assert event_edited["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event_edited["DTSTART"].dt == call.starts_at == datetime(2027, 1, 14, 18, 30, tzinfo=UTC)
    assert str(event_edited["STATUS"]) == "CONFIRMED"

    call_cancel(call=call, actor=circle.facilitator, now=now)
    _, cancelled = _call_ics(client, call)
    event_cancelled = _only_event(cancelled)
    assert str(event_cancelled["UID"]) == str(event["UID"])
    assert event_cancelled["SEQUENCE"] == 2
    assert str(event_cancelled["STATUS"]) == "CANCELLED"


def test_long_summary_folds_at_75_octets_and_round_trips(client, circle):
    assert len(LONG_TITLE) == 100
    call = circle.call(title=LONG_TITLE)
    client.force_login(circle.member)

    raw, calendar = _call_ics(client, call)
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw[:-2].split(b"\r\n")
    for line in lines:
        assert len(line) <= 75, line
        line.decode("utf-8")  # a fold never splits a character
    index = next(i for i, line in enumerate(lines) if line.startswith(b"SUMMARY:"))
    assert lines[index + 1].startswith(b" ")  # the summary goes on over a folded line
    unfolded = raw.replace(b"\r\n ", b"").split(b"\r\n")
    # Commas, semicolons and backslashes are escaped as RFC 5545 (and icalendar's writer) escape them.
    assert b"SUMMARY:" + icalendar.vText(LONG_TITLE).to_ical() in unfolded
    assert str(_only_event(calendar)["SUMMARY"]) == LONG_TITLE


# A weekly series across both daylight-saving changes


def test_weekly_berlin_series_keeps_18_00_across_both_dst_changes(client, circle, time_machine):
    now = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    series = series_create(
        community=circle.community,
        actor=circle.facilitator,
        details=_details(circle),
        recurrence=_weekly_berlin(),
        now=now,
    )
    series_materialise(series=series, now=now, horizon=timedelta(weeks=60))

    calls = list(Call.objects.filter(series=series).order_by("starts_at"))
    expected_days = _every_week(date(2027, 3, 2), date(2027, 11, 30))
    assert len(expected_days) == 40
    assert [call.starts_at.astimezone(BERLIN).date() for call in calls] == expected_days
    for call in calls:
        local = call.starts_at.astimezone(BERLIN)
        assert (local.hour, local.minute) == (18, 0), call.starts_at
        assert call.starts_at.astimezone(UTC).hour == (16 if _is_berlin_summer(call.starts_at) else 17)
        assert call.ends_at - call.starts_at == timedelta(minutes=75)
        assert call.status == Call.Status.SCHEDULED
    assert {call.starts_at.astimezone(UTC).hour for call in calls} == {16, 17}
    by_day = {call.starts_at.astimezone(BERLIN).date(): call for call in calls}
    assert by_day[date(2027, 3, 23)].starts_at == datetime(2027, 3, 23, 17, 0, tzinfo=UTC)
    assert by_day[date(2027, 3, 30)].starts_at == datetime(2027, 3, 30, 16, 0, tzinfo=UTC)
    assert by_day[date(2027, 10, 26)].starts_at == datetime(2027, 10, 26, 16, 0, tzinfo=UTC)
    assert by_day[date(2027, 11, 2)].starts_at == datetime(2027, 11, 2, 17, 0, tzinfo=UTC)

    client.force_login(circle.member)
    _, calendar = _series_ics(client, series)
    event = _only_event(calendar)
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert "RRULE" in event
    occurrences = recurring_ical_events.of(calendar).between(*WIDE)
    assert len(occurrences) == len(calls)
    assert _occurrences(calendar) == _starts(calls)
    for occurrence in occurrences:
        local = occurrence["DTSTART"].dt.astimezone(BERLIN)
        assert (local.hour, local.minute) == (18, 0)
        assert _utc(occurrence["DTEND"].dt) - _utc(occurrence["DTSTART"].dt) == timedelta(minutes=75)

    # The file's own VTIMEZONE (not the tz database) puts every 18:00 at the app's instant.
    zones = calendar.walk("VTIMEZONE")
    assert [str(zone["TZID"]) for zone in zones] == ["Europe/Berlin"]
    onsets = {
        (part.name, part["DTSTART"].dt, part["TZOFFSETFROM"].td, part["TZOFFSETTO"].td)
        for part in zones[0].subcomponents
    }
    # RFC 5545: an onset is the local time as the offset in force before it reads it.
    assert ("DAYLIGHT", datetime(2027, 3, 28, 2, 0), timedelta(hours=1), timedelta(hours=2)) in onsets
    assert ("STANDARD", datetime(2027, 10, 31, 3, 0), timedelta(hours=2), timedelta(hours=1)) in onsets
    own_zone = zones[0].to_tz(lookup_tzid=False)
    for call in calls:
        local_day = call.starts_at.astimezone(BERLIN).date()
        assert datetime.combine(local_day, time(18, 0), tzinfo=own_zone).astimezone(UTC) == call.starts_at

    winter, summer, late_winter = (
        by_day[date(2027, 3, 2)],
        by_day[date(2027, 7, 6)],
        by_day[date(2027, 11, 30)],
    )
    for call, utc_hour in ((winter, 17), (summer, 16), (late_winter, 17)):
        _, own = _call_ics(client, call)
        own_event = _only_event(own)
        assert own_event["DTSTART"].params["TZID"] == "Europe/Berlin"
        assert _occurrences(own) == {_utc(call.starts_at)}
        assert (own_event["DTSTART"].dt.hour, own_event["DTSTART"].dt.minute) == (18, 0)
        assert own_event["DTSTART"].dt.astimezone(UTC).hour == utc_hour


def test_series_ics_excludes_a_cancelled_call_and_overrides_a_moved_one(client, circle, time_machine):
    now = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    series = series_create(
        community=circle.community,
        actor=circle.facilitator,
        details=_details(circle),
        recurrence=_weekly_berlin(until=date(2027, 4, 27)),
        now=now,
    )
    series_materialise(series=series, now=now, horizon=timedelta(weeks=60))
    by_day = {call.starts_at.astimezone(BERLIN).date(): call for call in Call.objects.filter(series=series)}
    assert sorted(by_day) == _every_week(date(2027, 3, 2), date(2027, 4, 27))
    client.force_login(circle.member)

    cancelled = by_day[date(2027, 3, 16)]
    call_cancel(call=cancelled, actor=circle.facilitator, now=now)
    _, calendar = _series_ics(client, series)
    main, overrides = _main_and_overrides(calendar)
    assert overrides == []
    assert _exdates(main) == {_utc(cancelled.original_start)}
    scheduled = Call.objects.filter(series=series, status=Call.Status.SCHEDULED)
    assert len(scheduled) == len(by_day) - 1
    shown = _occurrences(calendar)
    assert _utc(cancelled.starts_at) not in shown
    assert shown == _starts(scheduled)

    moved = by_day[date(2027, 4, 6)]  # summer time: 18:00 Berlin is 16:00 UTC
    original = moved.starts_at
    call_update(
        call=moved,
        actor=circle.facilitator,
        expected_version=moved.version,
        details=_details(circle),
        day=date(2027, 4, 6),
        at=time(20, 30),
        now=now,
    )
    moved.refresh_from_db()
    assert moved.starts_at == datetime(2027, 4, 6, 18, 30, tzinfo=UTC)
    assert moved.original_start == original

    _, calendar = _series_ics(client, series)
    main, overrides = _main_and_overrides(calendar)
    assert _exdates(main) == {_utc(cancelled.original_start)}
    assert len(overrides) == 1
    override = overrides[0]
    assert str(override["UID"]) == str(main["UID"])
    assert override["RECURRENCE-ID"].params["TZID"] == "Europe/Berlin"
    assert _utc(override["RECURRENCE-ID"].dt) == _utc(original)
    assert _utc(override["DTSTART"].dt) == _utc(moved.starts_at)
    assert override["SEQUENCE"] == moved.sequence == 1
    shown = _occurrences(calendar)
    assert _utc(moved.starts_at) in shown
    assert _utc(original) not in shown
    assert _utc(cancelled.starts_at) not in shown
    assert shown == _starts(Call.objects.filter(series=series, status=Call.Status.SCHEDULED))


# This and following


@pytest.mark.parametrize(
    ("new_time", "utc_23_march", "utc_30_march"),
    [
        pytest.param(time(19, 0), (18, 0), (17, 0), id="later-19:00"),
        pytest.param(time(17, 0), (16, 0), (15, 0), id="earlier-17:00"),
    ],
)
def test_this_and_following_keeps_uids_counts_sequence_and_leaves_earlier_calls(
    client, circle, time_machine, new_time, utc_23_march, utc_30_march
):
    now = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    series = series_create(
        community=circle.community,
        actor=circle.facilitator,
        details=_details(circle),
        recurrence=_weekly_berlin(),
        now=now,
    )  # materialises ten weeks: 2 March to 6 April
    before = {call.pk: call for call in Call.objects.filter(series=series)}
    by_day = {call.starts_at.astimezone(BERLIN).date(): call for call in before.values()}
    assert sorted(by_day) == _every_week(date(2027, 3, 2), date(2027, 4, 6))
    client.force_login(circle.member)
    ics_uids = {pk: str(_only_event(_call_ics(client, call)[1])["UID"]) for pk, call in before.items()}

    from_call = by_day[date(2027, 3, 23)]  # the last winter Tuesday; the next ones are in summer time
    series.refresh_from_db()
    target = series_update(
        series=series,
        actor=circle.facilitator,
        expected_version=series.version,
        details=_details(circle),
        recurrence=_weekly_berlin(start_date=date(2027, 3, 23), at=new_time),
        from_call=from_call,
        now=now,
    )

    after = {call.pk: call for call in Call.objects.filter(series__community=circle.community)}
    # Every call stays on its own day and stays scheduled; no call is added.
    assert {pk: (call.starts_at.astimezone(BERLIN).date(), call.status) for pk, call in after.items()} == {
        pk: (call.starts_at.astimezone(BERLIN).date(), Call.Status.SCHEDULED) for pk, call in before.items()
    }
    for pk, old in before.items():
        new = after[pk]
        day = old.starts_at.astimezone(BERLIN).date()
        assert new.uid == old.uid
        _, own = _call_ics(client, new)
        own_event = _only_event(own)
        assert str(own_event["UID"]) == ics_uids[pk]
        local = new.starts_at.astimezone(BERLIN)
        assert local.date() == day
        if day >= date(2027, 3, 23):
            assert local.time() == new_time
            assert new.series_id == target.pk
            assert new.sequence == old.sequence + 1
            assert own_event["SEQUENCE"] == old.sequence + 1
        else:
            assert new.starts_at == old.starts_at
            assert (local.hour, local.minute) == (18, 0)
            assert new.series_id == series.pk
            assert new.sequence == old.sequence
            assert own_event["SEQUENCE"] == old.sequence
        assert _occurrences(own) == {_utc(new.starts_at)}
    assert after[from_call.pk].starts_at == datetime(2027, 3, 23, *utc_23_march, tzinfo=UTC)
    assert after[by_day[date(2027, 3, 30)].pk].starts_at == datetime(2027, 3, 30, *utc_30_march, tzinfo=UTC)

    # Each series' file describes exactly its own calls.
    earlier = [call for call in after.values() if call.series_id == series.pk]
    later = [call for call in after.values() if call.series_id == target.pk]
    assert len(earlier) == 3
    assert len(later) == 3
    _, old_calendar = _series_ics(client, series)
    assert _occurrences(old_calendar) == _starts(earlier)
    _, new_calendar = _series_ics(client, target)
    window_end = datetime(2027, 4, 12, tzinfo=UTC)  # what is materialised so far
    assert _occurrences(new_calendar, WIDE[0], window_end) == _starts(later)


def test_cancelling_this_and_following_ends_the_series_in_its_file(client, circle, time_machine):
    now = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    series = series_create(
        community=circle.community,
        actor=circle.facilitator,
        details=_details(circle),
        recurrence=_weekly_berlin(until=date(2027, 4, 27)),
        now=now,
    )
    series_materialise(series=series, now=now, horizon=timedelta(weeks=60))
    by_day = {call.starts_at.astimezone(BERLIN).date(): call for call in Call.objects.filter(series=series)}
    cancelled = call_cancel(call=by_day[date(2027, 4, 6)], actor=circle.facilitator, following=True, now=now)
    assert {call.starts_at.astimezone(BERLIN).date() for call in cancelled} == {
        date(2027, 4, 6),
        date(2027, 4, 13),
        date(2027, 4, 20),
        date(2027, 4, 27),
    }
    scheduled = list(Call.objects.filter(series=series, status=Call.Status.SCHEDULED))
    assert sorted(call.starts_at.astimezone(BERLIN).date() for call in scheduled) == _every_week(
        date(2027, 3, 2), date(2027, 3, 30)
    )
    client.force_login(circle.member)
    _, calendar = _series_ics(client, series)
    assert _occurrences(calendar) == _starts(scheduled)


def test_times_in_the_spring_gap_and_the_autumn_repeat_match_rfc_5545(client, circle, time_machine):
    """02:30 on a Sunday: on 28 March 2027 Berlin skips it, on 31 October it happens twice.
    RFC 5545 reads a skipped time with the offset before the gap, and a repeated one as the first."""
    now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    series = series_create(
        community=circle.community,
        actor=circle.facilitator,
        details=_details(circle, minutes=60),
        recurrence=Recurrence(
            time_zone="Europe/Berlin",
            start_date=date(2027, 3, 21),
            start_time=time(2, 30),
            frequency="weekly",
            weekdays=(6,),
            ends="on_date",
            until=date(2027, 11, 7),
        ),
        now=now,
    )
    series_materialise(series=series, now=now, horizon=timedelta(weeks=60))
    calls = list(Call.objects.filter(series=series).order_by("starts_at"))
    by_day = {call.starts_at.astimezone(BERLIN).date(): call for call in calls}
    assert len(calls) == len(_every_week(date(2027, 3, 21), date(2027, 11, 7)))
    assert by_day[date(2027, 3, 21)].starts_at == datetime(2027, 3, 21, 1, 30, tzinfo=UTC)
    assert by_day[date(2027, 3, 28)].starts_at == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert by_day[date(2027, 4, 4)].starts_at == datetime(2027, 4, 4, 0, 30, tzinfo=UTC)
    assert by_day[date(2027, 10, 31)].starts_at == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # the first
    assert by_day[date(2027, 11, 7)].starts_at == datetime(2027, 11, 7, 1, 30, tzinfo=UTC)

    client.force_login(circle.member)
    _, calendar = _series_ics(client, series)
    assert _occurrences(calendar) == _starts(calls)
    for day in (date(2027, 3, 28), date(2027, 10, 31)):
        _, own = _call_ics(client, by_day[day])
        assert _occurrences(own) == {_utc(by_day[day].starts_at)}


# The private feed


def _feed_uids(client, token):
    _, calendar = _download(client, f"/calendar/{token}.ics")
    return {str(event["UID"]) for event in _events(calendar)}


def _uid_of(client, call):
    return str(_only_event(_call_ics(client, call)[1])["UID"])


def test_private_feed_lists_only_my_calls_and_its_address_can_be_reset_or_turned_off(client, circle):
    going = circle.call(starts_in=timedelta(days=2), title="Going")
    other = circle.call(starts_in=timedelta(days=3), title="Not mine")
    withdrawn = circle.call(starts_in=timedelta(days=4), title="Withdrawn")
    by_someone_else = circle.call(starts_in=timedelta(days=5), title="Cody's")
    co_facilitated = circle.call(starts_in=timedelta(days=6), title="Together")
    Call.objects.filter(pk=by_someone_else.pk).update(facilitator=circle.co_facilitator)
    Call.objects.filter(pk=co_facilitated.pk).update(
        facilitator=circle.co_facilitator, co_facilitator=circle.facilitator
    )
    rsvp_set(call_id=going.pk, user=circle.member, going=True)
    rsvp_set(call_id=withdrawn.pk, user=circle.member, going=True)
    rsvp_set(call_id=withdrawn.pk, user=circle.member, going=False)
    client.force_login(circle.member)
    uids = {call.pk: _uid_of(client, call) for call in (going, other, withdrawn, by_someone_else, co_facilitated)}

    assert circle.member.calendar_token is None
    response = client.post("/accounts/calendar-address/")
    assert response.status_code == 302
    circle.member.refresh_from_db()
    token = circle.member.calendar_token
    assert token

    client.logout()  # calendar programs have no session
    assert _feed_uids(client, token) == {uids[going.pk]}
    assert client.get("/calendar/not-a-real-token.ics").status_code == 404

    client.force_login(circle.facilitator)
    assert client.post("/accounts/calendar-address/").status_code == 302
    circle.facilitator.refresh_from_db()
    client.logout()
    assert _feed_uids(client, circle.facilitator.calendar_token) == {
        uids[going.pk],
        uids[other.pk],
        uids[withdrawn.pk],
        uids[co_facilitated.pk],
    }

    client.force_login(circle.member)
    assert client.post("/accounts/calendar-address/").status_code == 302
    circle.member.refresh_from_db()
    new_token = circle.member.calendar_token
    assert new_token
    assert new_token != token
    client.logout()
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    assert _feed_uids(client, new_token) == {uids[going.pk]}

    client.force_login(circle.member)
    assert client.post("/accounts/calendar-address/", {"action": "off"}).status_code == 302
    circle.member.refresh_from_db()
    assert circle.member.calendar_token is None
    client.logout()
    assert client.get(f"/calendar/{new_token}.ics").status_code == 404
    assert client.get("/calendar/None.ics").status_code == 404


# A monthly series across the American autumn change


def test_monthly_last_friday_new_york_series_matches_across_november_dst_change(client, circle, time_machine):
    now = datetime(2027, 7, 1, 12, 0, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    series = series_create(
        community=circle.community,
        actor=circle.facilitator,
        details=_details(circle, minutes=60),
        recurrence=Recurrence(
            time_zone="America/New_York",
            start_date=date(2027, 8, 1),
            start_time=time(19, 0),
            frequency="monthly",
            month_week=-1,
            month_weekday=4,
            ends="on_date",
            until=date(2028, 1, 28),
        ),
        now=now,
    )
    series_materialise(series=series, now=now, horizon=timedelta(weeks=60))
    calls = list(Call.objects.filter(series=series).order_by("starts_at"))
    # New York falls back on 7 November 2027: 19:00 is 23:00 UTC before, 00:00 UTC the next day after.
    assert [call.starts_at for call in calls] == [
        datetime(2027, 8, 27, 23, 0, tzinfo=UTC),
        datetime(2027, 9, 24, 23, 0, tzinfo=UTC),
        datetime(2027, 10, 29, 23, 0, tzinfo=UTC),
        datetime(2027, 11, 27, 0, 0, tzinfo=UTC),
        datetime(2028, 1, 1, 0, 0, tzinfo=UTC),
        datetime(2028, 1, 29, 0, 0, tzinfo=UTC),
    ]
    for call in calls:
        local = call.starts_at.astimezone(NEW_YORK)
        assert (local.weekday(), local.hour, local.minute) == (4, 19, 0)
        assert (local + timedelta(days=7)).month != local.month  # the last Friday of its month

    client.force_login(circle.member)
    _, calendar = _series_ics(client, series)
    event = _only_event(calendar)
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert _occurrences(calendar) == _starts(calls)
    zones = calendar.walk("VTIMEZONE")
    assert [str(zone["TZID"]) for zone in zones] == ["America/New_York"]
    own_zone = zones[0].to_tz(lookup_tzid=False)
    for call in calls:
        local_day = call.starts_at.astimezone(NEW_YORK).date()
        assert datetime.combine(local_day, time(19, 0), tzinfo=own_zone).astimezone(UTC) == call.starts_at
