"""Reminder rows: who is owed which reminder for a call, and when.

A reminder is a Notification row, unique per (call, person, kind). Whenever RSVPs, preferences
or a call's time change, `sync_call` makes the rows match: new rows for people who should be
reminded, a new due time for unsent rows when the call moves, and `skipped` for rows nobody
wants any more. Sent rows are never touched. The dispatcher sends what is due.
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


def recipients(call: Call) -> list[User]:
    """People going to the call, and its facilitators."""
    going = set(RSVP.objects.filter(call=call, status=RSVP.Status.GOING).values_list("user_id", flat=True))
    facilitators = {call.facilitator_id} | ({call.co_facilitator_id} if call.co_facilitator_id else set())
    return list(User.objects.filter(pk__in=going | facilitators, is_active=True))


def sync_call(call: Call, now=None) -> None:
    """Make this call's reminder rows match who is going, what they want, and when the call is."""
    now = now or timezone.now()
    existing = {
        (row.recipient_id, row.kind): row
        for row in Notification.objects.filter(call=call, kind__in=Notification.REMINDER_KINDS)
    }
    wanted: dict[tuple[int, str], object] = {}
    if call.status == Call.Status.SCHEDULED and call.starts_at > now:
        for person in recipients(call):
            for kind in kinds_for(person, call.community):
                wanted[(person.pk, kind)] = call.starts_at - leads()[kind]
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
    reason = "cancelled" if call.status == Call.Status.CANCELLED else "not wanted"
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
