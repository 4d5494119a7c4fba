import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from core import standing
from groups.models import RSVP, Call, Notification, Series
from groups.recurrence import Recurrence
from groups.services.rsvps import rsvp_set
from groups.services.scheduling import (
    CallDetails,
    call_cancel,
    call_create,
    call_update,
    series_create,
    series_materialise,
    series_materialise_all,
    series_update,
)

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NOW = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)  # a Friday


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def details(circle, **changes):
    values = {
        "title": "Evening circle",
        "format": circle.call_format,
        "facilitator": circle.facilitator,
        "co_facilitator": circle.co_facilitator,
        "duration_minutes": 75,
        "capacity": 6,
    }
    values.update(changes)
    return CallDetails(**values)


def weekly(**changes):
    values = {
        "time_zone": "Europe/Berlin",
        "start_date": date(2027, 1, 5),
        "start_time": time(18, 0),
        "weekdays": (1,),
    }
    values.update(changes)
    return Recurrence(**values)


def berlin(call):
    return call.starts_at.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def series(circle):
    return series_create(
        community=circle.community, actor=circle.facilitator, details=details(circle), recurrence=weekly()
    )


def test_series_materialises_ten_weeks_of_calls(circle, series):
    calls = list(Call.objects.filter(series=series))
    assert [berlin(call) for call in calls[:3]] == [
        "2027-01-05 18:00",
        "2027-01-12 18:00",
        "2027-01-19 18:00",
    ]
    assert len(calls) == 10
    first = calls[0]
    assert first.facilitator == circle.facilitator
    assert first.co_facilitator == circle.co_facilitator
    assert first.capacity == 6
    assert first.duration == timedelta(minutes=75)
    assert first.time_zone == "Europe/Berlin"


def test_materialising_again_creates_nothing_and_the_horizon_rolls_forward(series):
    assert series_materialise(series=series, now=NOW) == 0
    assert Call.objects.filter(series=series).count() == 10
    later = NOW + timedelta(weeks=3)
    assert series_materialise_all(now=later) == 3
    assert series_materialise_all(now=later) == 0
    assert Call.objects.filter(series=series).count() == 13


def test_members_cannot_schedule(circle):
    with pytest.raises(PermissionDenied):
        series_create(community=circle.community, actor=circle.member, details=details(circle), recurrence=weekly())
    assert not Series.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"capacity": 1}, "capacity"),
        ({"capacity": 13}, "capacity"),
        ({"duration_minutes": 5}, "duration_minutes"),
        ({"title": "  "}, "title"),
    ],
)
def test_bad_details_are_refused_and_nothing_is_written(circle, change, field):
    with pytest.raises(ValidationError) as error:
        series_create(
            community=circle.community,
            actor=circle.facilitator,
            details=details(circle, **change),
            recurrence=weekly(),
        )
    assert field in error.value.message_dict
    assert not Series.objects.exists()
    assert not Call.objects.exists()


def test_only_the_communitys_facilitators_can_run_a_call(circle):
    with pytest.raises(ValidationError) as error:
        series_create(
            community=circle.community,
            actor=circle.facilitator,
            details=details(circle, facilitator=circle.member, co_facilitator=circle.facilitator),
            recurrence=weekly(),
        )
    assert "facilitator" in error.value.message_dict


def test_a_start_in_the_past_is_refused(circle):
    with pytest.raises(ValidationError) as error:
        series_create(
            community=circle.community,
            actor=circle.facilitator,
            details=details(circle),
            recurrence=weekly(start_date=date(2026, 12, 1)),
        )
    assert "future" in " ".join(error.value.message_dict["start_date"])
    with pytest.raises(ValidationError):
        call_create(
            community=circle.community,
            actor=circle.facilitator,
            details=details(circle),
            day=date(2027, 1, 1),
            at=time(9, 0),
            time_zone="Europe/Berlin",
        )
    assert not Call.objects.exists()


def test_one_off_call_is_stored_in_utc_from_its_own_zone(circle):
    call = call_create(
        community=circle.community,
        actor=circle.facilitator,
        details=details(circle),
        day=date(2027, 7, 1),
        at=time(18, 0),
        time_zone="America/New_York",
    )
    assert call.starts_at == datetime(2027, 7, 1, 22, 0, tzinfo=UTC)
    assert call.series is None


def test_editing_one_call_keeps_its_identity_and_tells_people(circle, series):
    call = Call.objects.filter(series=series).first()
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    uid, sequence = call.uid, call.sequence
    call_update(
        call=call,
        actor=circle.facilitator,
        expected_version=call.version,
        details=details(circle, title="Special circle"),
        day=date(2027, 1, 5),
        at=time(19, 30),
    )
    call.refresh_from_db()
    assert call.uid == uid
    assert call.sequence == sequence + 1
    assert berlin(call) == "2027-01-05 19:30"
    assert call.detached is True
    assert call.original_start == datetime(2027, 1, 5, 17, 0, tzinfo=UTC)
    notified = set(Notification.objects.filter(call=call, kind="call_changed").values_list("recipient", flat=True))
    assert notified == {circle.member.pk, circle.co_facilitator.pk}  # not the facilitator who made the change
    # Materialising again does not bring the old time back as a second call.
    series_materialise(series=series, now=NOW)
    assert Call.objects.filter(series=series).count() == 10


def test_a_stale_edit_is_refused_and_changes_nothing(circle, series):
    call = Call.objects.filter(series=series).first()
    version = call.version
    call_update(
        call=call,
        actor=circle.facilitator,
        expected_version=version,
        details=details(circle),
        day=date(2027, 1, 5),
        at=time(19, 0),
    )
    with pytest.raises(ValidationError) as error:
        call_update(
            call=call,
            actor=circle.co_facilitator,
            expected_version=version,
            details=details(circle, title="Other"),
            day=date(2027, 1, 5),
            at=time(20, 0),
        )
    assert error.value.code == "stale"
    call.refresh_from_db()
    assert (berlin(call), call.title) == ("2027-01-05 19:00", "Evening circle")
    with pytest.raises(ValidationError) as error:
        series_update(
            series=series,
            actor=circle.facilitator,
            expected_version=series.version - 1,
            details=details(circle),
            recurrence=weekly(start_time=time(20, 0)),
        )
    assert error.value.code == "stale"


def test_changing_the_whole_series_before_it_starts_keeps_calls_and_rsvps(circle, series):
    calls = list(Call.objects.filter(series=series))
    rsvp_set(call_id=calls[1].pk, user=circle.member, going=True)
    series_update(
        series=series,
        actor=circle.facilitator,
        expected_version=series.version,
        details=details(circle),
        recurrence=weekly(start_time=time(18, 30)),
    )
    after = list(Call.objects.filter(series=series))
    assert [call.uid for call in after] == [call.uid for call in calls]
    assert {berlin(call)[-5:] for call in after} == {"18:30"}
    assert all(call.sequence == 1 for call in after)
    assert RSVP.objects.get(call=calls[1], user=circle.member).status == RSVP.Status.GOING
    assert Series.objects.count() == 1


def test_this_and_following_splits_the_series_and_keeps_earlier_calls(circle, series):
    calls = list(Call.objects.filter(series=series))
    pivot = calls[3]
    with time_machine.travel(NOW + timedelta(days=10), tick=False):  # two calls have happened
        new_series = series_update(
            series=series,
            actor=circle.facilitator,
            expected_version=series.version,
            details=details(circle, title="Later circle"),
            recurrence=weekly(start_date=date(2027, 1, 26), weekdays=(3,)),
            from_call=pivot,
        )
    assert new_series.pk != series.pk
    series.refresh_from_db()
    assert (series.ends, series.until) == ("on_date", date(2027, 1, 25))
    kept = Call.objects.filter(series=series).order_by("starts_at")
    assert [berlin(call) for call in kept] == ["2027-01-05 18:00", "2027-01-12 18:00", "2027-01-19 18:00"]
    moved = list(Call.objects.filter(series=new_series).order_by("starts_at"))
    # Tuesday calls moved to the Thursday of the same week, keeping their identity.
    assert berlin(moved[0]) == "2027-01-28 18:00"
    assert moved[0].uid == pivot.uid
    assert moved[0].title == "Later circle"
    assert all(call.status == Call.Status.SCHEDULED for call in moved)


def test_cancelling_one_call_skips_only_that_call(circle, series):
    calls = list(Call.objects.filter(series=series))
    rsvp_set(call_id=calls[2].pk, user=circle.member, going=True)
    call_cancel(call=calls[2], actor=circle.facilitator)
    calls[2].refresh_from_db()
    assert calls[2].status == Call.Status.CANCELLED
    assert calls[2].sequence == 1
    assert Call.objects.filter(series=series, status="scheduled").count() == 9
    assert Notification.objects.filter(call=calls[2], kind="call_cancelled", recipient=circle.member).exists()
    series_materialise(series=series, now=NOW)
    assert Call.objects.filter(series=series).count() == 10


def test_cancelling_this_and_following_ends_the_series(circle, series):
    calls = list(Call.objects.filter(series=series))
    cancelled = call_cancel(call=calls[4], actor=circle.facilitator, following=True)
    assert len(cancelled) == 6
    assert Call.objects.filter(series=series, status="scheduled").count() == 4
    series.refresh_from_db()
    assert series.until == date(2027, 2, 1)
    assert series_materialise(series=series, now=NOW + timedelta(weeks=8)) == 0


def test_a_started_call_cannot_be_changed_or_cancelled(circle, series):
    call = Call.objects.filter(series=series).first()
    with time_machine.travel(call.starts_at + timedelta(minutes=1), tick=False):
        with pytest.raises(ValidationError):
            call_cancel(call=call, actor=circle.facilitator)
        with pytest.raises(ValidationError):
            call_update(
                call=call,
                actor=circle.facilitator,
                expected_version=call.version,
                details=details(circle),
                day=date(2027, 1, 5),
                at=time(20, 0),
            )
    call.refresh_from_db()
    assert call.status == Call.Status.SCHEDULED


def test_raising_capacity_promotes_the_waitlist(circle, series):
    call = Call.objects.filter(series=series).first()
    call_update(
        call=call,
        actor=circle.facilitator,
        expected_version=call.version,
        details=details(circle, capacity=2),
        day=date(2027, 1, 5),
        at=time(18, 0),
    )
    others = [circle.add_member(f"m{n}@example.com") for n in range(3)]
    for person in [circle.member, *others]:
        rsvp_set(call_id=call.pk, user=person, going=True)
    assert RSVP.objects.filter(call=call, status="waitlisted").count() == 2
    call.refresh_from_db()
    call_update(
        call=call,
        actor=circle.facilitator,
        expected_version=call.version,
        details=details(circle, capacity=3),
        day=date(2027, 1, 5),
        at=time(18, 0),
    )
    assert RSVP.objects.filter(call=call, status="going").count() == 3
    promoted = RSVP.objects.get(call=call, promoted_at__isnull=False)
    assert promoted.user == others[1]


def test_a_call_given_to_another_facilitator_announces_the_previous_one_inside_the_transaction(circle, series):
    heard = []

    def listener(sender, **kwargs):
        heard.append((kwargs["user_id"], kwargs["call_id"], connection.in_atomic_block))

    call = Call.objects.filter(series=series).order_by("starts_at")[2]
    standing.changed.connect(listener)
    try:
        call_update(
            call=call,
            actor=circle.facilitator,
            expected_version=call.version,
            details=details(circle, facilitator=circle.co_facilitator, co_facilitator=None),
            day=call.local_start().date(),
            at=call.local_start().time(),
        )
        assert set(heard) == {(circle.facilitator.pk, call.pk, True)}
        heard.clear()
        series.refresh_from_db()
        series_update(
            series=series,
            actor=circle.facilitator,
            expected_version=series.version,
            details=details(circle, co_facilitator=None),
            recurrence=weekly(),
        )
        assert heard and {user_id for user_id, _, _ in heard} == {circle.co_facilitator.pk}
        assert all(inside for _, _, inside in heard)
    finally:
        standing.changed.disconnect(listener)
