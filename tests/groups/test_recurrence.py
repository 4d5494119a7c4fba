import zoneinfo
from datetime import UTC, date, datetime, time

import pytest
from django.core.exceptions import ValidationError

from groups.recurrence import Recurrence

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def local(instants, zone=BERLIN):
    return [instant.astimezone(zone).strftime("%a %Y-%m-%d %H:%M") for instant in instants]


def test_weekly_on_two_days_every_second_week():
    rule = Recurrence(
        time_zone="Europe/Berlin",
        start_date=date(2027, 1, 4),
        start_time=time(18, 0),
        weekdays=(0, 3),
        interval=2,
    )
    found = rule.occurrences(datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC))
    assert local(found) == [
        "Mon 2027-01-04 18:00",
        "Thu 2027-01-07 18:00",
        "Mon 2027-01-18 18:00",
        "Thu 2027-01-21 18:00",
    ]


def test_monthly_on_the_last_friday_and_the_second_tuesday():
    last_friday = Recurrence(
        time_zone="Europe/Berlin",
        start_date=date(2027, 1, 1),
        start_time=time(10, 30),
        frequency="monthly",
        month_week=-1,
        month_weekday=4,
    )
    found = last_friday.occurrences(datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC))
    assert local(found) == ["Fri 2027-01-29 10:30", "Fri 2027-02-26 10:30", "Fri 2027-03-26 10:30"]
    second_tuesday = Recurrence(
        time_zone="Europe/Berlin",
        start_date=date(2027, 1, 1),
        start_time=time(10, 30),
        frequency="monthly",
        month_week=2,
        month_weekday=1,
    )
    assert local(second_tuesday.occurrences(datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC))) == [
        "Tue 2027-01-12 10:30"
    ]


def test_weekly_series_keeps_wall_clock_time_across_dst_in_berlin():
    rule = Recurrence(time_zone="Europe/Berlin", start_date=date(2027, 3, 1), start_time=time(18, 0), weekdays=(1,))
    found = rule.occurrences(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 11, 10, tzinfo=UTC))
    assert {instant.astimezone(BERLIN).time() for instant in found} == {time(18, 0)}
    utc_hours = {instant.date(): instant.hour for instant in found}
    assert utc_hours[date(2027, 3, 23)] == 17  # before the spring change: UTC+1
    assert utc_hours[date(2027, 3, 30)] == 16  # after: UTC+2
    assert utc_hours[date(2027, 10, 26)] == 16
    assert utc_hours[date(2027, 11, 2)] == 17  # after the autumn change


def test_a_time_that_does_not_exist_on_the_spring_change_moves_an_hour_later():
    rule = Recurrence(time_zone="Europe/Berlin", start_date=date(2027, 3, 28), start_time=time(2, 30), weekdays=(6,))
    first = rule.first()
    assert first.astimezone(BERLIN).strftime("%H:%M") == "03:30"


def test_ends_on_a_date_includes_that_date_and_count_limits_calls():
    on_date = Recurrence(
        time_zone="UTC",
        start_date=date(2027, 1, 4),
        start_time=time(9, 0),
        weekdays=(0,),
        ends="on_date",
        until=date(2027, 1, 18),
    )
    assert len(on_date.occurrences(datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))) == 3
    counted = Recurrence(
        time_zone="UTC",
        start_date=date(2027, 1, 4),
        start_time=time(9, 0),
        weekdays=(0,),
        ends="after_count",
        count=5,
    )
    assert len(counted.occurrences(datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))) == 5


def test_ical_rrule_describes_the_same_rule():
    rule = Recurrence(
        time_zone="Europe/Berlin",
        start_date=date(2027, 1, 4),
        start_time=time(18, 0),
        weekdays=(0, 3),
        interval=2,
        ends="on_date",
        until=date(2027, 6, 30),
    )
    assert rule.ical_rrule() == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;UNTIL=20270630T215959Z;WKST=MO"
    monthly = Recurrence(
        time_zone="UTC",
        start_date=date(2027, 1, 1),
        start_time=time(9, 0),
        frequency="monthly",
        month_week=-1,
        month_weekday=4,
        ends="after_count",
        count=6,
    )
    assert monthly.ical_rrule() == "FREQ=MONTHLY;BYDAY=-1FR;COUNT=6"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"weekdays": ()}, "weekdays", "at least one day"),
        ({"weekdays": (0,), "interval": 9}, "interval", "1 to 8 weeks"),
        ({"frequency": "monthly", "month_week": 5, "month_weekday": 0}, "month_week", "first, second"),
        (
            {"frequency": "monthly", "month_week": 1, "month_weekday": None},
            "month_weekday",
            "day of the week",
        ),
        ({"weekdays": (0,), "ends": "on_date", "until": None}, "until", "date of the last call"),
        ({"weekdays": (0,), "ends": "on_date", "until": date(2026, 1, 1)}, "until", "on or after the first"),
        ({"weekdays": (0,), "ends": "after_count", "count": 0}, "count", "between 1 and 200"),
        ({"frequency": "yearly"}, "frequency", "weekly or monthly"),
    ],
)
def test_impossible_recurrences_are_explained_on_their_field(fields, field, message):
    rule = Recurrence(time_zone="UTC", start_date=date(2027, 1, 4), start_time=time(9, 0), **fields)
    with pytest.raises(ValidationError) as error:
        rule.validate()
    assert message in " ".join(error.value.message_dict[field])


def test_a_rule_with_no_dates_before_its_end_is_refused():
    # Starts on a Monday, only on Sundays, and ends that same Monday: nothing can happen.
    rule = Recurrence(
        time_zone="UTC",
        start_date=date(2027, 1, 4),
        start_time=time(9, 0),
        weekdays=(6,),
        ends="on_date",
        until=date(2027, 1, 4),
    )
    with pytest.raises(ValidationError) as error:
        rule.validate()
    assert "no dates" in " ".join(error.value.message_dict["until"])
