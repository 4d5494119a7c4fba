"""Series and calls: create, materialise, edit one or this-and-following, cancel.

Edits are version-checked: a form carries the version it showed, and a conditional update that
finds another version means someone else saved first. Each visible change to a call increments
its calendar SEQUENCE and records a notification for the people it concerns.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import standing
from groups import localtime, permissions
from groups.models import Call, CallFormat, Community, Membership, Series
from groups.models.calls import MAX_CAPACITY, MIN_CAPACITY
from groups.recurrence import MAX_DURATION, MIN_DURATION, Recurrence
from groups.services import notify, reminders
from groups.services.errors import stale_edit
from groups.services.rsvps import fill_seats

HORIZON = timedelta(weeks=10)
PAIRING_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class CallDetails:
    """What a facilitator chooses for a call or a series, apart from when it happens."""

    title: str
    format: CallFormat
    facilitator: object
    co_facilitator: object | None
    duration_minutes: int
    capacity: int


Errors = dict[str, list[str]]


def _raise_any(*found: Errors) -> None:
    """One ValidationError with every problem found, so a form can show them all at once."""
    errors: Errors = {}
    for each in found:
        for field, messages in each.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def host_errors(facilitator, co_facilitator) -> Errors:
    """The co-facilitator is nobody, or someone other than the facilitator."""
    if co_facilitator is not None and facilitator is not None and co_facilitator.pk == facilitator.pk:
        return {"co_facilitator": [_("Choose someone other than the facilitator, or nobody.")]}
    return {}


def start_errors(*, day: date, at: time, time_zone: str, now: datetime) -> Errors:
    """A call placed by hand starts at a local time that exists, in the future."""
    found = localtime.gap(day, at, time_zone)
    if found is not None:
        return {"at": [localtime.gap_refusal(found, time_zone)]}
    if local_to_utc(day, at, time_zone) <= now:
        return {"day": [_("Choose a start time in the future.")]}
    return {}


def first_start_errors(recurrence: Recurrence, now: datetime) -> Errors:
    """A new series' first call is in the future."""
    first = recurrence.first()
    if first is not None and first <= now:
        return {"start_date": [_("Choose a first date and time in the future.")]}
    return {}


def recurrence_errors(recurrence: Recurrence) -> Errors:
    try:
        recurrence.validate()
    except ValidationError as error:
        return error.message_dict
    return {}


def _details_errors(community: Community, details: CallDetails) -> Errors:
    errors: Errors = {}
    if not details.title.strip():
        errors["title"] = [_("Give the call a title.")]
    if details.format.community_id not in {None, community.pk}:
        errors["format"] = [_("Choose one of this community's formats.")]
    if not MIN_CAPACITY <= details.capacity <= MAX_CAPACITY:
        errors["capacity"] = [
            _("A call has between %(low)s and %(high)s seats.") % {"low": MIN_CAPACITY, "high": MAX_CAPACITY}
        ]
    if not MIN_DURATION <= details.duration_minutes <= MAX_DURATION:
        errors["duration_minutes"] = [
            _("A call lasts between %(low)s and %(high)s minutes.") % {"low": MIN_DURATION, "high": MAX_DURATION}
        ]
    facilitating = set(
        Membership.objects.filter(
            community=community,
            state=Membership.State.ACTIVE,
            role__in=[Membership.Role.OWNER, Membership.Role.FACILITATOR],
        ).values_list("user_id", flat=True)
    )
    if details.facilitator.pk not in facilitating:
        errors["facilitator"] = [_("The facilitator must be one of this community's facilitators.")]
    if details.co_facilitator is not None:
        if details.co_facilitator.pk not in facilitating:
            errors["co_facilitator"] = [_("The co-facilitator must be one of this community's facilitators.")]
        else:
            errors.update(host_errors(details.facilitator, details.co_facilitator))
    return errors


def _call_fields(details: CallDetails) -> dict:
    return {
        "title": details.title.strip(),
        "format": details.format,
        "facilitator": details.facilitator,
        "co_facilitator": details.co_facilitator,
        "capacity": details.capacity,
    }


def local_to_utc(day: date, at: time, zone_name: str) -> datetime:
    """A wall-clock time as an instant; a time that happens twice is the first of the two (fold=0)."""
    return datetime.combine(day, at).replace(tzinfo=zoneinfo.ZoneInfo(zone_name)).astimezone(UTC)


# One-off calls


@transaction.atomic
def call_create(
    *, community: Community, actor, details: CallDetails, day: date, at: time, time_zone: str, now=None
) -> Call:
    permissions.require(permissions.can_facilitate(actor, community))
    now = now or timezone.now()
    _raise_any(_details_errors(community, details), start_errors(day=day, at=at, time_zone=time_zone, now=now))
    starts_at = local_to_utc(day, at, time_zone)
    call = Call.objects.create(
        community=community,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=details.duration_minutes),
        time_zone=time_zone,
        **_call_fields(details),
    )
    reminders.sync_call(call, now)
    return call


# Series


def _series_details(series: Series) -> CallDetails:
    return CallDetails(
        title=series.title,
        format=series.format,
        facilitator=series.facilitator,
        co_facilitator=series.co_facilitator,
        duration_minutes=series.duration_minutes,
        capacity=series.capacity,
    )


def _apply_to_series(series: Series, details: CallDetails, recurrence: Recurrence) -> None:
    series.title = details.title.strip()
    series.format = details.format
    series.facilitator = details.facilitator
    series.co_facilitator = details.co_facilitator
    series.duration_minutes = details.duration_minutes
    series.capacity = details.capacity
    series.time_zone = recurrence.time_zone
    series.start_date = recurrence.start_date
    series.start_time = recurrence.start_time
    series.frequency = recurrence.frequency
    series.interval = recurrence.interval
    series.weekdays = list(recurrence.weekdays)
    series.month_week = recurrence.month_week
    series.month_weekday = recurrence.month_weekday
    series.ends = recurrence.ends
    series.until = recurrence.until
    series.count = recurrence.count


@transaction.atomic
def series_create(*, community: Community, actor, details: CallDetails, recurrence: Recurrence, now=None) -> Series:
    permissions.require(permissions.can_facilitate(actor, community))
    now = now or timezone.now()
    rule = recurrence_errors(recurrence)
    _raise_any(_details_errors(community, details), rule, {} if rule else first_start_errors(recurrence, now))
    series = Series(community=community)
    _apply_to_series(series, details, recurrence)
    series.save()
    series_materialise(series=series, now=now)
    return series


def series_materialise(*, series: Series, now=None, horizon: timedelta = HORIZON) -> int:
    """Create the calls of a series that start between now and the horizon. Safe to run again."""
    now = now or timezone.now()
    recurrence = Recurrence.of(series)
    window_end = now + horizon
    starts = recurrence.occurrences(now, window_end)
    existing = set(
        Call.objects.filter(series=series, original_start__in=starts).values_list("original_start", flat=True)
    )
    details = _series_details(series)
    duration = timedelta(minutes=series.duration_minutes)
    new_calls = [
        Call(
            community_id=series.community_id,
            series=series,
            original_start=start,
            starts_at=start,
            ends_at=start + duration,
            time_zone=series.time_zone,
            **_call_fields(details),
        )
        for start in starts
        if start not in existing
    ]
    Call.objects.bulk_create(new_calls, ignore_conflicts=True)
    Series.objects.filter(pk=series.pk).update(materialised_until=window_end)
    created = Call.objects.filter(series=series, original_start__in=[call.original_start for call in new_calls])
    for call in created.select_related("community"):
        reminders.sync_call(call, now)  # the facilitators' reminders
    return len(new_calls)


def series_materialise_all(*, now=None) -> int:
    """The rolling-horizon job: every series that has not been materialised far enough."""
    now = now or timezone.now()
    created = 0
    due = Series.objects.filter(Q(materialised_until__isnull=True) | Q(materialised_until__lt=now + HORIZON))
    for series in due.select_related("format", "facilitator", "co_facilitator").iterator():
        created += series_materialise(series=series, now=now)
    return created


def _bump_version(model, pk: int, expected_version: int) -> None:
    if not model.objects.filter(pk=pk, version=expected_version).update(version=F("version") + 1):
        raise stale_edit()


def _pair(calls: list[Call], starts: list[datetime]) -> tuple[list[tuple[Call, datetime]], list[Call], list[datetime]]:
    """Match existing calls to new start times in order, when they fall within a week of each other."""
    pairs, orphans, fresh = [], [], []
    i = j = 0
    while i < len(calls) and j < len(starts):
        old = calls[i].original_start or calls[i].starts_at
        new = starts[j]
        if abs(new - old) < PAIRING_WINDOW:
            pairs.append((calls[i], new))
            i += 1
            j += 1
        elif old < new:
            orphans.append(calls[i])
            i += 1
        else:
            fresh.append(new)
            j += 1
    return pairs, orphans + calls[i:], fresh + starts[j:]


def _end_series_before(series: Series, pivot: datetime) -> None:
    """Make the series stop before the occurrence at `pivot` (its last date is the day before)."""
    last_day = pivot.astimezone(series.zone).date() - timedelta(days=1)
    series.ends = Series.Ends.ON_DATE
    series.until = last_day
    series.count = None
    series.sequence += 1
    series.save(update_fields=["ends", "until", "count", "sequence"])


def _series_changed(series_id: int | None) -> None:
    """The series' .ics changed in a way a calendar must apply (an EXDATE, an override)."""
    if series_id is not None:
        Series.objects.filter(pk=series_id).update(sequence=F("sequence") + 1)


def _announce_hosts(call: Call, previous: tuple[int | None, int | None]) -> None:
    """Tell live rooms that whoever stopped facilitating or co-facilitating this call has."""
    now_hosting = {call.facilitator_id, call.co_facilitator_id}
    for user_id in previous:
        if user_id is not None and user_id not in now_hosting:
            standing.announce(user_id=user_id, call_id=call.pk)


def _cancel_call(call: Call, *, actor, now) -> None:
    _series_changed(call.series_id)
    Call.objects.filter(pk=call.pk).update(
        status=Call.Status.CANCELLED,
        cancelled_at=now,
        sequence=F("sequence") + 1,
        version=F("version") + 1,
    )
    call.refresh_from_db()
    notify.call_changed(call, actor=actor, cancelled=True)
    reminders.sync_call(call, now)


@transaction.atomic
def series_update(
    *,
    series: Series,
    actor,
    expected_version: int,
    details: CallDetails,
    recurrence: Recurrence,
    from_call: Call | None = None,
    now=None,
) -> Series:
    """Change this call and the following ones (from the next call when `from_call` is None).

    Past calls keep their times. When the series already has calls before the change, it is split:
    the old series ends the day before, and a new series carries the change. Existing future calls
    keep their identity (and RSVPs) when a new time falls within a week of their old one.
    """
    permissions.require(permissions.can_facilitate(actor, series.community))
    now = now or timezone.now()
    _bump_version(Series, series.pk, expected_version)
    series = Series.objects.select_for_update().select_related("community").get(pk=series.pk)
    _raise_any(_details_errors(series.community, details), recurrence_errors(recurrence))

    if from_call is None:
        pivot = now
    else:
        pivot = from_call.original_start or from_call.starts_at
    affected = list(
        Call.objects.select_for_update()
        .filter(series=series)
        .filter(Q(original_start__gte=pivot) | Q(original_start__isnull=True, starts_at__gte=pivot))
        .order_by("original_start", "starts_at")
    )
    has_history = (
        Call.objects.filter(series=series, starts_at__lt=pivot).exclude(pk__in=[call.pk for call in affected]).exists()
    )

    if has_history:
        # The new part holds only the calls from the pivot on: a rule that starts earlier keeps
        # its pattern but starts at the pivot, and its COUNT loses the calls before it.
        recurrence = recurrence.starting_from(pivot.astimezone(recurrence.zone).date())
        if recurrence is None:
            raise ValidationError({"start_date": [_("This pattern has no calls from this date on.")]})
        _end_series_before(series, pivot)
        target = Series(community=series.community)
    else:
        target = series
        target.sequence += 1
    _apply_to_series(target, details, recurrence)
    target.save()

    # From the start of the pivot's day, so that an earlier time on that day still pairs with the
    # call at the pivot instead of with the next week's occurrence.
    window_start = pivot
    if from_call is not None:
        window_start = local_to_utc(pivot.astimezone(series.zone).date(), time.min, target.time_zone)
    starts = Recurrence.of(target).occurrences(max(window_start, now), now + HORIZON)
    pairs, orphans, _fresh = _pair(affected, starts)
    # Clear the occurrence keys first so that re-keying cannot collide with the unique constraint.
    Call.objects.filter(pk__in=[call.pk for call in affected]).update(original_start=None)
    duration = timedelta(minutes=details.duration_minutes)
    for call, start in pairs:
        previous_hosts = (call.facilitator_id, call.co_facilitator_id)
        changed = (call.starts_at, call.ends_at, call.title, call.format_id, call.capacity) != (
            start,
            start + duration,
            details.title.strip(),
            details.format.pk,
            details.capacity,
        ) or (call.facilitator_id, call.co_facilitator_id) != (
            details.facilitator.pk,
            details.co_facilitator.pk if details.co_facilitator else None,
        )
        for name, value in _call_fields(details).items():
            setattr(call, name, value)
        call.series = target
        call.original_start = start
        call.starts_at = start
        call.ends_at = start + duration
        call.time_zone = target.time_zone
        call.detached = False
        if changed:
            call.sequence += 1
            call.version += 1
        call.save()
        _announce_hosts(call, previous_hosts)
        if changed and not call.is_cancelled:
            notify.call_changed(call, actor=actor)
            fill_seats(call=call, now=now)
            reminders.sync_call(call, now)
    for call in orphans:
        call.series = target
        call.save(update_fields=["series"])
        if not call.is_cancelled:
            _cancel_call(call, actor=actor, now=now)
    series_materialise(series=target, now=now)
    if target.pk != series.pk:
        series_materialise(series=series, now=now)
    return target


@transaction.atomic
def call_update(
    *, call: Call, actor, expected_version: int, details: CallDetails, day: date, at: time, now=None
) -> Call:
    """Change one call only. It keeps its identity, so calendars update it instead of adding one."""
    permissions.require(permissions.can_facilitate(actor, call.community))
    now = now or timezone.now()
    _bump_version(Call, call.pk, expected_version)
    call = Call.objects.select_for_update().select_related("community").get(pk=call.pk)
    if call.is_cancelled:
        raise ValidationError(_("This call was cancelled; schedule a new one instead."))
    if call.starts_at <= now:
        raise ValidationError(_("This call has already started, so it can no longer be changed."))
    _raise_any(
        _details_errors(call.community, details), start_errors(day=day, at=at, time_zone=call.time_zone, now=now)
    )
    starts_at = local_to_utc(day, at, call.time_zone)
    previous_hosts = (call.facilitator_id, call.co_facilitator_id)
    for name, value in _call_fields(details).items():
        setattr(call, name, value)
    call.starts_at = starts_at
    call.ends_at = starts_at + timedelta(minutes=details.duration_minutes)
    call.detached = call.series_id is not None
    call.sequence += 1
    call.save()
    _series_changed(call.series_id)  # the series' .ics now carries this call as an override
    _announce_hosts(call, previous_hosts)
    notify.call_changed(call, actor=actor)
    fill_seats(call=call, now=now)
    reminders.sync_call(call, now)
    return call


@transaction.atomic
def call_cancel(*, call: Call, actor, following: bool = False, now=None) -> list[Call]:
    """Cancel one call, or this call and every later one in its series."""
    permissions.require(permissions.can_facilitate(actor, call.community))
    now = now or timezone.now()
    call = Call.objects.select_for_update(of=("self",)).select_related("series").get(pk=call.pk)
    if call.starts_at <= now:
        raise ValidationError(_("This call has already started; end it from the room instead."))
    if not following or call.series is None:
        if call.is_cancelled:
            return []
        _cancel_call(call, actor=actor, now=now)
        return [call]
    series = Series.objects.select_for_update().get(pk=call.series_id)
    pivot = call.original_start or call.starts_at
    _end_series_before(series, pivot)
    Series.objects.filter(pk=series.pk).update(version=F("version") + 1)
    later = list(
        Call.objects.select_for_update()
        .filter(series=series, status=Call.Status.SCHEDULED)
        .filter(Q(original_start__gte=pivot) | Q(starts_at__gte=pivot))
    )
    for each in later:
        _cancel_call(each, actor=actor, now=now)
    return later
