"""Reminder rows: who is owed which reminder for a call, and when.

A reminder is a Notification row, unique per (call, person, kind). Whenever RSVPs, preferences
or a call's time change, `sync_call` makes the rows match: new rows for people who should be
reminded, a new due time for unsent rows when the call moves, and `skipped` for rows nobody
wants any more. Sent rows are never touched. The dispatcher sends what is due.

Late bookings: a call created or a seat taken inside a reminder's window gets only the reminders
still ahead; someone who gets a seat in the last minutes (the "soon" window) gets one "Starting
soon" at once; and nobody gets two reminders for a call within 30 minutes.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from groups.models import RSVP, Call, Notification

Kind = Notification.Kind
State = Notification.State
MIN_GAP = timedelta(minutes=30)  # at most one reminder per call and person in any 30 minutes
JUST_DUE = timedelta(minutes=1)  # a reminder due less than this ago is still on time


def leads() -> dict[str, timedelta]:
    """How long before a call each reminder is due (settings can shorten them, for a smoke test)."""
    return {
        Kind.REMINDER_DAY: timedelta(hours=settings.REMINDER_DAY_HOURS),
        Kind.REMINDER_SOON: timedelta(minutes=settings.REMINDER_SOON_MINUTES),
    }


def kinds_for(user: User, community) -> set[str]:
    """The reminders this person wants for calls in this community."""
    choice = user.reminders
    if choice == User.Reminders.COMMUNITY_DEFAULT:
        wanted = set()
        if community.remind_day_before:
            wanted.add(Kind.REMINDER_DAY)
        if community.remind_soon_before:
            wanted.add(Kind.REMINDER_SOON)
        return wanted
    return {
        User.Reminders.BOTH: {Kind.REMINDER_DAY, Kind.REMINDER_SOON},
        User.Reminders.DAY_BEFORE: {Kind.REMINDER_DAY},
        User.Reminders.SOON: {Kind.REMINDER_SOON},
        User.Reminders.NONE: set(),
    }[choice]


def recipients(call: Call) -> list[tuple[User, object]]:
    """People going to the call, each with when they got their seat, and its facilitators (None)."""
    seated = {
        user_id: promoted_at or responded_at
        for user_id, responded_at, promoted_at in RSVP.objects.filter(call=call, status=RSVP.Status.GOING).values_list(
            "user_id", "responded_at", "promoted_at"
        )
    }
    facilitators = {call.facilitator_id} | ({call.co_facilitator_id} if call.co_facilitator_id else set())
    people = User.objects.filter(pk__in=set(seated) | facilitators, is_active=True)
    return [(person, None if person.pk in facilitators else seated.get(person.pk)) for person in people]


def is_late_booking(row: Notification, call: Call) -> bool:
    """A "Starting soon" row for someone who got their seat after its planned time."""
    return row.kind == Kind.REMINDER_SOON and row.due_at > call.starts_at - leads()[row.kind]


def _plan(person, seated_at, call: Call, now, existing: dict, sent_at: list) -> dict:
    """When each of this person's reminders is due: only those still ahead, "Starting soon" at
    once for a seat taken in its window, and never two within MIN_GAP of each other or of one
    already sent. The reminder nearest the call wins."""
    planned: dict[str, object] = {}
    for kind in sorted(kinds_for(person, call.community), key=lambda kind: leads()[kind]):
        base = call.starts_at - leads()[kind]
        row = existing.get((person.pk, kind))
        if row is not None and row.state == State.SENT:
            continue
        waiting = row is not None and row.state != State.SKIPPED
        if waiting and (row.due_at == base or (base < now and base < row.due_at <= call.starts_at)):
            due = row.due_at  # still the plan, perhaps not dispatched yet: keep it
        elif base >= now - JUST_DUE:
            due = base
        elif kind == Kind.REMINDER_SOON and seated_at is not None and seated_at >= base:
            due = now  # booked in the last minutes: one "Starting soon"
        else:
            continue  # its time passed before the call or the seat existed: never a late reminder
        if any(abs(due - other) < MIN_GAP for other in [*planned.values(), *sent_at]):
            continue
        planned[kind] = due
    return planned


def sync_call(call: Call, now=None) -> None:
    """Make this call's reminder rows match who is going, what they want, and when the call is."""
    now = now or timezone.now()
    existing = {
        (row.recipient_id, row.kind): row
        for row in Notification.objects.filter(call=call, kind__in=Notification.REMINDER_KINDS)
    }
    sent_at: dict[int, list] = {}
    for (person_id, _kind), row in existing.items():
        if row.state == State.SENT:
            sent_at.setdefault(person_id, []).append(row.sent_at or row.due_at)
    wanted: dict[tuple[int, str], object] = {}
    if call.status == Call.Status.SCHEDULED and call.starts_at > now:
        for person, seated_at in recipients(call):
            for kind, due_at in _plan(person, seated_at, call, now, existing, sent_at.get(person.pk, [])).items():
                wanted[(person.pk, kind)] = due_at
    creating = []
    for key, due_at in wanted.items():
        row = existing.get(key)
        if row is None:
            creating.append(
                Notification(
                    kind=key[1],
                    recipient_id=key[0],
                    call=call,
                    community_id=call.community_id,
                    call_sequence=call.sequence,
                    due_at=due_at,
                )
            )
        elif row.state != State.SENT:
            moved = row.due_at != due_at
            if row.state in {State.PENDING, State.FAILED} and not moved:
                continue  # already waiting, or given up on for this time: nothing changed
            Notification.objects.filter(pk=row.pk).exclude(state=State.SENT).update(
                due_at=due_at,
                state=State.PENDING,
                call_sequence=call.sequence,
                attempts=0,
                next_attempt_at=None,
                skip_reason="",
            )
    Notification.objects.bulk_create(creating, ignore_conflicts=True)
    unwanted = [row.pk for key, row in existing.items() if key not in wanted and row.state == State.PENDING]
    reason = "cancelled" if call.status == Call.Status.CANCELLED else "not wanted or too close"
    Notification.objects.filter(pk__in=unwanted, state=State.PENDING).update(state=State.SKIPPED, skip_reason=reason)


def sync_person(user: User, now=None) -> None:
    """After someone changes their reminder choice: every upcoming call they go to or run."""
    now = now or timezone.now()
    calls = Call.objects.filter(starts_at__gt=now, status=Call.Status.SCHEDULED).filter(
        Q(rsvps__user=user, rsvps__status=RSVP.Status.GOING) | Q(facilitator=user) | Q(co_facilitator=user)
    )
    for call in calls.distinct().select_related("community"):
        sync_call(call, now)


def sync_community(community, now=None) -> None:
    """After a community changes its default reminders."""
    now = now or timezone.now()
    for call in Call.objects.filter(
        community=community, starts_at__gt=now, status=Call.Status.SCHEDULED
    ).select_related("community"):
        sync_call(call, now)
