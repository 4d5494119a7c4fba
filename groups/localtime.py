"""Wall-clock times that a daylight-saving change makes missing or doubled, told in plain words.

A one-off call at a time that does not exist (02:30 on the night clocks jump from 02:00 to 03:00)
is refused, naming the first valid time. A series keeps its rule: on such a night its call starts
as calendar programs place it, one gap later (03:30), and the confirmation says which call moves.
A time that happens twice (02:30 on the night clocks go back) is the first of the two (fold=0),
and the confirmation says so. docs/scheduling.md describes the rule.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils import formats
from django.utils.translation import gettext as _

SCAN_LIMIT = timedelta(hours=3)  # no zone's gap is longer


def city(zone_name: str) -> str:
    """'Berlin' for Europe/Berlin, 'New York' for America/New_York."""
    return zone_name.rsplit("/", 1)[-1].replace("_", " ")


def _exists(naive: datetime, zone: zoneinfo.ZoneInfo) -> bool:
    return naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


@dataclass(frozen=True)
class Gap:
    day: date
    at: time
    jump_from: time  # the last wall-clock minute before the jump is one minute before this
    jump_to: time  # what clocks read right after the jump: the first valid time
    placed_at: time  # where a series' occurrence lands (the time read with the offset before)


def gap(day: date, at: time, zone_name: str) -> Gap | None:
    """The daylight-saving gap that `at` on `day` falls in, or None when that local time exists."""
    zone = zoneinfo.ZoneInfo(zone_name)
    naive = datetime.combine(day, at)
    if _exists(naive, zone):
        return None
    start = naive.replace(second=0, microsecond=0)
    while not _exists(start - timedelta(minutes=1), zone) and naive - start < SCAN_LIMIT:
        start -= timedelta(minutes=1)
    length = naive.replace(tzinfo=zone, fold=1).utcoffset() - naive.replace(tzinfo=zone, fold=0).utcoffset()
    placed = naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
    return Gap(day=day, at=at, jump_from=start.time(), jump_to=(start + abs(length)).time(), placed_at=placed.time())


def is_ambiguous(day: date, at: time, zone_name: str) -> bool:
    """True when clocks read `at` twice on `day` (the night they go back)."""
    zone = zoneinfo.ZoneInfo(zone_name)
    naive = datetime.combine(day, at)
    doubled = naive.replace(tzinfo=zone, fold=0).utcoffset() != naive.replace(tzinfo=zone, fold=1).utcoffset()
    return doubled and _exists(naive, zone)


def _day(day: date) -> str:
    return formats.date_format(day, "j F")


def _hhmm(moment: time) -> str:
    return moment.strftime("%H:%M")


def gap_refusal(found: Gap, zone_name: str) -> str:
    return _("%(time)s does not exist on %(day)s in %(city)s; clocks jump to %(next)s. Use %(next)s?") % {
        "time": _hhmm(found.at),
        "day": _day(found.day),
        "city": city(zone_name),
        "next": _hhmm(found.jump_to),
    }


def ambiguous_note(day: date, at: time, zone_name: str) -> str:
    return _(
        "%(time)s happens twice on %(day)s in %(city)s, when clocks go back; the call is at the first %(time)s."
    ) % {"time": _hhmm(at), "day": _day(day), "city": city(zone_name)}


def series_notes_ahead(recurrence, *, today: date, days: int = 366) -> list[str]:
    """series_notes for a series' occurrences in the coming year."""
    start = datetime.combine(max(recurrence.start_date, today), time.min)
    return series_notes(recurrence.local_starts(start, start + timedelta(days=days)), recurrence.time_zone)


def series_notes(local_starts, zone_name: str) -> list[str]:
    """What to tell the facilitator about a series' occurrences (naive local start times) that
    fall in a gap or happen twice."""
    notes = []
    for local in local_starts:
        found = gap(local.date(), local.time(), zone_name)
        if found is not None:
            notes.append(
                _(
                    "%(time)s does not exist on %(day)s in %(city)s (clocks jump from %(from)s to %(to)s), "
                    "so that call starts at %(placed)s."
                )
                % {
                    "time": _hhmm(found.at),
                    "day": _day(found.day),
                    "city": city(zone_name),
                    "from": _hhmm(found.jump_from),
                    "to": _hhmm(found.jump_to),
                    "placed": _hhmm(found.placed_at),
                }
            )
        elif is_ambiguous(local.date(), local.time(), zone_name):
            notes.append(ambiguous_note(local.date(), local.time(), zone_name))
    return notes
