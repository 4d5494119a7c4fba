"""Recurrence rules for series: wall-clock times in the series' zone, turned into UTC instants.

The rule runs on naive local date-times (dateutil.rrule), and each occurrence is then placed in
the series' zone. So a series at 18:00 Europe/Berlin stays at 18:00 in Berlin across DST changes,
and its UTC time moves by an hour instead. A local time that does not exist on a spring-forward
day (02:30 when clocks jump from 02:00 to 03:00) is placed an hour later, as clocks read then.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from dateutil import rrule
from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.dates import WEEKDAYS
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

WEEKDAY_CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
MAX_COUNT = 200
MAX_WEEKLY_INTERVAL = 8
MAX_MONTHLY_INTERVAL = 12
MIN_DURATION, MAX_DURATION = 15, 240  # minutes


@dataclass(frozen=True)
class Recurrence:
    """Everything that decides when a series' calls happen."""

    time_zone: str
    start_date: date
    start_time: time
    frequency: str = "weekly"  # or "monthly"
    interval: int = 1
    weekdays: tuple[int, ...] = ()
    month_week: int | None = None  # 1..4, or -1 for the last
    month_weekday: int | None = None
    ends: str = "never"  # "on_date" or "after_count"
    until: date | None = None
    count: int | None = None

    @classmethod
    def of(cls, series) -> Recurrence:
        return cls(
            time_zone=series.time_zone,
            start_date=series.start_date,
            start_time=series.start_time,
            frequency=series.frequency,
            interval=series.interval,
            weekdays=tuple(sorted(series.weekdays or ())),
            month_week=series.month_week,
            month_weekday=series.month_weekday,
            ends=series.ends,
            until=series.until,
            count=series.count,
        )

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def _rule(self) -> rrule.rrule:
        dtstart = datetime.combine(self.start_date, self.start_time)
        options = {"dtstart": dtstart, "interval": self.interval}
        if self.frequency == "weekly":
            options["byweekday"] = [rrule.weekday(day) for day in self.weekdays]
            freq = rrule.WEEKLY
        else:
            options["byweekday"] = [rrule.weekday(self.month_weekday)(self.month_week)]
            freq = rrule.MONTHLY
        if self.ends == "on_date":
            options["until"] = datetime.combine(self.until, time(23, 59, 59))
        elif self.ends == "after_count":
            options["count"] = self.count
        return rrule.rrule(freq, **options)

    def local_starts(self, after_local: datetime | None = None, before_local: datetime | None = None):
        """Naive local start times, in order, within the optional bounds (inclusive)."""
        for local in self._rule():
            if before_local is not None and local > before_local:
                return
            if after_local is not None and local < after_local:
                continue
            yield local

    def to_utc(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self.zone).astimezone(UTC)

    def occurrences(self, start: datetime, end: datetime) -> list[datetime]:
        """UTC start times of occurrences with start <= t < end (both aware)."""
        zone = self.zone
        # Widen by a day each side in local time, then filter exactly in UTC.
        after_local = start.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
        before_local = end.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
        found = []
        for local in self.local_starts(after_local, before_local):
            instant = self.to_utc(local)
            if start <= instant < end:
                found.append(instant)
        return found

    def starting_from(self, day: date) -> Recurrence | None:
        """The same rule for its occurrences on or after `day` only, or None when none is left.

        The first of them becomes the start date (so an every-other-week rule keeps its weeks),
        a COUNT keeps only the calls still to come, and an end date stays as it is."""
        for skipped, local in enumerate(self._rule()):
            if local.date() >= day:
                count = self.count - skipped if self.ends == "after_count" else self.count
                return replace(self, start_date=local.date(), count=count)
        return None

    def first(self) -> datetime | None:
        for local in self.local_starts():
            return self.to_utc(local)
        return None

    def ical_rrule(self) -> str:
        """The rule as an RFC 5545 RRULE value, for a VEVENT whose DTSTART carries the series' TZID."""
        parts = [f"FREQ={'WEEKLY' if self.frequency == 'weekly' else 'MONTHLY'}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.frequency == "weekly":
            parts.append("BYDAY=" + ",".join(WEEKDAY_CODES[day] for day in self.weekdays))
        else:
            parts.append(f"BYDAY={self.month_week}{WEEKDAY_CODES[self.month_weekday]}")
        if self.ends == "on_date":
            # UNTIL is in UTC when DTSTART has a zone: the last moment of the local end date.
            last = datetime.combine(self.until, time(23, 59, 59)).replace(tzinfo=self.zone).astimezone(UTC)
            parts.append("UNTIL=" + last.strftime("%Y%m%dT%H%M%SZ"))
        elif self.ends == "after_count":
            parts.append(f"COUNT={self.count}")
        if self.frequency == "weekly":
            parts.append("WKST=MO")
        return ";".join(parts)

    def validate(self) -> None:
        """Raise ValidationError, per field, for a rule that cannot produce a call."""
        errors = self.rule_errors()
        if errors:
            raise ValidationError(errors)
        if self.first() is None:
            raise ValidationError(
                {"until": [_("This pattern has no dates before it ends. Choose a later end or other days.")]}
            )

    def rule_errors(self) -> dict[str, list[str]]:
        """Every problem with the rule's fields, per field; empty when the rule can be read."""
        errors: dict[str, list[str]] = {}

        def add(field, message):
            errors.setdefault(field, []).append(message)

        if self.frequency == "weekly":
            if not self.weekdays:
                add("weekdays", _("Choose at least one day of the week."))
            elif any(day not in range(7) for day in self.weekdays):
                add("weekdays", _("Choose days from Monday to Sunday."))
            if not 1 <= self.interval <= MAX_WEEKLY_INTERVAL:
                add("interval", _("Repeat every 1 to %(max)s weeks.") % {"max": MAX_WEEKLY_INTERVAL})
        elif self.frequency == "monthly":
            if self.month_week not in {1, 2, 3, 4, -1}:
                add("month_week", _("Choose the first, second, third, fourth or last week."))
            if self.month_weekday not in range(7):
                add("month_weekday", _("Choose a day of the week."))
            if not 1 <= self.interval <= MAX_MONTHLY_INTERVAL:
                add("interval", _("Repeat every 1 to %(max)s months.") % {"max": MAX_MONTHLY_INTERVAL})
        else:
            add("frequency", _("Choose weekly or monthly."))
        if self.ends == "on_date":
            if self.until is None:
                add("until", _("Choose the date of the last call."))
            elif self.until < self.start_date:
                add("until", _("The last date must be on or after the first date."))
        elif self.ends == "after_count":
            if self.count is None or not 1 <= self.count <= MAX_COUNT:
                add("count", _("Choose between 1 and %(max)s calls.") % {"max": MAX_COUNT})
        elif self.ends != "never":
            add("ends", _("Choose when the series ends."))
        return errors

    def last(self) -> datetime | None:
        """The last occurrence of a rule that ends, or None for one that never does."""
        if self.ends == "never":
            return None
        found = None
        for local in self.local_starts():
            found = local
        return self.to_utc(found) if found is not None else None

    def in_words(self) -> str:
        """'Every Wednesday at 18:30 Berlin time, 8 calls, until 21 April 2027'."""
        zone_city = self.time_zone.rsplit("/", 1)[-1].replace("_", " ")
        at = self.start_time.strftime("%H:%M")
        if self.frequency == "weekly":
            days = get_text_list([str(WEEKDAYS[day]) for day in sorted(self.weekdays)], _("and"))
            if self.interval == 1:
                pattern = _("Every %(days)s at %(time)s %(city)s time") % {"days": days, "time": at, "city": zone_city}
            else:
                pattern = _("Every %(n)s weeks on %(days)s at %(time)s %(city)s time") % {
                    "n": self.interval,
                    "days": days,
                    "time": at,
                    "city": zone_city,
                }
        else:
            which = {1: _("first"), 2: _("second"), 3: _("third"), 4: _("fourth"), -1: _("last")}[self.month_week]
            every = (
                _("every month")
                if self.interval == 1
                else ngettext("every %(n)s month", "every %(n)s months", self.interval) % {"n": self.interval}
            )
            pattern = _("On the %(which)s %(day)s of %(every)s at %(time)s %(city)s time") % {
                "which": which,
                "day": WEEKDAYS[self.month_weekday],
                "every": every,
                "time": at,
                "city": zone_city,
            }
        if self.ends == "never":
            return _("%(pattern)s, with no end date") % {"pattern": pattern}
        last = self.last()
        until = formats.date_format(last.astimezone(self.zone), "j F Y") if last else ""
        if self.ends == "after_count":
            calls = ngettext("%(n)s call", "%(n)s calls", self.count) % {"n": self.count}
        else:
            total = sum(1 for _local in self.local_starts())
            calls = ngettext("%(n)s call", "%(n)s calls", total) % {"n": total}
        return _("%(pattern)s, %(calls)s, until %(until)s") % {"pattern": pattern, "calls": calls, "until": until}
