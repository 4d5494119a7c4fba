"""iCalendar (RFC 5545) files for calls and series, written by hand and read back by tests with an
independent parser (icalendar and recurring-ical-events).

Times carry the call's IANA zone as TZID, with a VTIMEZONE built from the zone's real transitions,
so calendar programs keep the wall-clock time across daylight-saving changes. A call's UID never
changes; its SEQUENCE grows with each change, so calendars update the event instead of adding one.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from groups.models import Call, Series
from groups.recurrence import Recurrence

PRODID = "-//Attunement//Peer-support calls//EN"


def _host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "attunement.invalid"


def call_uid(call: Call) -> str:
    return f"call-{call.uid}@{_host()}"


def series_uid(series: Series) -> str:
    return f"series-{series.uid}@{_host()}"


def call_url(call: Call) -> str:
    return settings.SITE_URL + reverse("call", kwargs={"call_id": call.pk})


def escape_text(value: str) -> str:
    """A TEXT value on one line: every line break (CRLF, LF or a lone CR) becomes the escape \\n."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\r", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line at 75 octets, never splitting a UTF-8 character."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    parts, current, size = [], "", 0
    limit = 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            current, size, limit = "", 0, 74  # continuation lines start with a space
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local_stamp(moment: datetime, zone: zoneinfo.ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y%m%dT%H%M%S")


def _offset(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign = "+" if seconds >= 0 else "-"
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{secs:02d}" if secs else "")


def _transitions(zone: zoneinfo.ZoneInfo, start: datetime, end: datetime):
    """UTC instants where the zone's offset or name changes, found by day steps and bisection."""
    found = []
    step = timedelta(days=1)
    previous = start
    before = previous.astimezone(zone)
    moment = start + step
    while moment <= end:
        after = moment.astimezone(zone)
        if (after.utcoffset(), after.tzname()) != (before.utcoffset(), before.tzname()):
            low, high = previous, moment
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                probe = middle.astimezone(zone)
                if (probe.utcoffset(), probe.tzname()) == (before.utcoffset(), before.tzname()):
                    low = middle
                else:
                    high = middle
            instant = high.replace(microsecond=0)
            found.append((instant, before, instant.astimezone(zone)))
        previous, before = moment, after
        moment += step
    return found


def vtimezone(zone_name: str, start: datetime, end: datetime) -> list[str]:
    """A VTIMEZONE with every transition between start and end (a year of margin each side).

    The same zone and days give the same lines, so they are computed once per process: a
    thousand reminders for one call's zone search its transitions once, not a thousand times."""
    first_day = (start - timedelta(days=366)).astimezone(UTC).date()
    last_day = (end + timedelta(days=367)).astimezone(UTC).date()
    return list(_vtimezone(zone_name, first_day, last_day))


@functools.lru_cache(maxsize=512)
def _vtimezone(zone_name: str, first_day, last_day) -> tuple[str, ...]:
    zone = zoneinfo.ZoneInfo(zone_name)
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(last_day, datetime.min.time(), tzinfo=UTC)
    first = start.astimezone(zone)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{zone_name}"]

    def component(kind, onset_local: datetime, offset_from, offset_to, name):
        lines.extend(
            [
                f"BEGIN:{kind}",
                f"DTSTART:{onset_local.strftime('%Y%m%dT%H%M%S')}",
                f"TZOFFSETFROM:{_offset(offset_from)}",
                f"TZOFFSETTO:{_offset(offset_to)}",
                f"TZNAME:{escape_text(name or zone_name)}",
                f"END:{kind}",
            ]
        )

    kind = "DAYLIGHT" if first.dst() else "STANDARD"
    component(kind, first.replace(tzinfo=None), first.utcoffset(), first.utcoffset(), first.tzname())
    for instant, before, after in _transitions(zone, start, end):
        onset = (instant + before.utcoffset()).replace(tzinfo=None)  # local time, as the old offset reads it
        kind = "DAYLIGHT" if after.dst() else "STANDARD"
        component(kind, onset, before.utcoffset(), after.utcoffset(), after.tzname())
    lines.append("END:VTIMEZONE")
    return tuple(lines)


def _organizer_lines(attendee) -> list[str]:
    """iTIP requests and cancellations name an organizer and the person they are for."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "noreply@localhost"
    lines = [f"ORGANIZER;CN=Attunement:mailto:{address}"]
    if attendee is not None:
        name = escape_text(attendee.display_name).replace('"', "'")
        lines.append(f'ATTENDEE;CN="{name}";ROLE=REQ-PARTICIPANT;RSVP=FALSE:mailto:{attendee.email}')
    return lines


def _event_lines(
    call: Call, *, uid: str, stamp: datetime, recurrence_id: datetime | None = None, attendee=None, itip=False
) -> list[str]:
    zone = zoneinfo.ZoneInfo(call.time_zone)
    url = call_url(call)
    description = f"{call.format.name} · {call.community.name}\n{url}"
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{_utc_stamp(stamp)}",
    ]
    if recurrence_id is not None:
        lines.append(f"RECURRENCE-ID;TZID={call.time_zone}:{_local_stamp(recurrence_id, zone)}")
    lines += [
        f"DTSTART;TZID={call.time_zone}:{_local_stamp(call.starts_at, zone)}",
        f"DTEND;TZID={call.time_zone}:{_local_stamp(call.ends_at, zone)}",
        f"SEQUENCE:{call.sequence}",
        f"SUMMARY:{escape_text(call.title)}",
        f"DESCRIPTION:{escape_text(description)}",
        f"LOCATION:{escape_text(url)}",
        f"URL:{url}",
        f"STATUS:{'CANCELLED' if call.is_cancelled else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
    ]
    if itip:
        lines += _organizer_lines(attendee)
    lines.append("END:VEVENT")
    return lines


def _calendar(body: list[str], zones: dict[str, tuple[datetime, datetime]], *, method: str, name: str) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for zone_name, (start, end) in sorted(zones.items()):
        lines += vtimezone(zone_name, start, end)
    lines += body
    lines.append("END:VCALENDAR")
    return "\r\n".join(fold(line) for line in lines) + "\r\n"


def _widen(zones, zone_name, start, end):
    low, high = zones.get(zone_name, (start, end))
    zones[zone_name] = (min(low, start), max(high, end))


def calls_calendar(
    calls: Iterable[Call], *, name: str, method: str = "PUBLISH", stamp: datetime | None = None, attendee=None
) -> str:
    """One VEVENT per call: a call's .ics, an email's attachment, or a person's feed.

    With METHOD:REQUEST or CANCEL (an email telling someone a call changed or was cancelled) the
    event names the organizer and the person, as iTIP asks.
    """
    stamp = stamp or timezone.now()
    body, zones = [], {}
    itip = method in {"REQUEST", "CANCEL"}
    for call in calls:
        body += _event_lines(call, uid=call_uid(call), stamp=stamp, attendee=attendee, itip=itip)
        _widen(zones, call.time_zone, call.starts_at, call.ends_at)
    return _calendar(body, zones, method=method, name=name)


def series_calendar(series: Series, calls: Iterable[Call], *, stamp: datetime | None = None) -> str:
    """The series as one VEVENT with an RRULE, EXDATEs for cancelled calls, and overrides for calls
    moved on their own. It describes the same occurrences as the series' individual calls."""
    stamp = stamp or timezone.now()
    recurrence = Recurrence.of(series)
    zone = series.zone
    first = recurrence.first()
    body, zones = [], {}
    if first is not None:
        duration = timedelta(minutes=series.duration_minutes)
        uid = series_uid(series)
        url = settings.SITE_URL + reverse("community", kwargs={"slug": series.community.slug})
        lines = [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            f"DTSTAMP:{_utc_stamp(stamp)}",
            f"DTSTART;TZID={series.time_zone}:{_local_stamp(first, zone)}",
            f"DTEND;TZID={series.time_zone}:{_local_stamp(first + duration, zone)}",
            f"RRULE:{recurrence.ical_rrule()}",
        ]
        overrides = []
        for call in calls:
            if call.original_start is None:
                continue
            if call.is_cancelled:
                lines.append(f"EXDATE;TZID={series.time_zone}:{_local_stamp(call.original_start, zone)}")
            elif call.starts_at != call.original_start or call.ends_at != call.original_start + duration:
                overrides += _event_lines(call, uid=uid, stamp=stamp, recurrence_id=call.original_start)
            _widen(zones, call.time_zone, call.starts_at, call.ends_at)
        lines += [
            f"SEQUENCE:{series.sequence}",
            f"SUMMARY:{escape_text(series.title)}",
            f"DESCRIPTION:{escape_text(f'{series.format.name} · {series.community.name}')}",
            f"URL:{url}",
            "STATUS:CONFIRMED",
            "END:VEVENT",
        ]
        body = lines + overrides
        last = first + timedelta(days=366 * 2)
        _widen(zones, series.time_zone, first, last)
    return _calendar(body, zones, method="PUBLISH", name=series.title)
