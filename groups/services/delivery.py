"""Sending due notifications, exactly once per person where it can be, honestly where it cannot.

`dispatch` claims due rows in batches with SELECT … FOR UPDATE SKIP LOCKED, so that any number of
workers (or an accidental second beat) share the work without sending a row twice. Each row is
sent and marked in the same transaction. The one window for a duplicate is a crash after the SMTP
server accepted a message and before the transaction committed: that row is sent again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from groups import emails
from groups.models import Call, Membership, Notification
from groups.services.reminders import is_late_booking, kinds_for

logger = logging.getLogger(__name__)

Kind = Notification.Kind
State = Notification.State
MAX_ATTEMPTS = 5
LATE_AFTER = timedelta(minutes=15)
BATCH = 100


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, 8 minutes after the first, second, third and fourth failure."""
    return timedelta(minutes=2 ** (attempts - 1))


def banned_among(rows: list[Notification]) -> set[tuple[int, int]]:
    """(community id, person id) of the batch's recipients who are banned there: one query a batch."""
    communities = {row.community_id for row in rows if row.community_id is not None}
    people = {row.recipient_id for row in rows}
    if not communities:
        return set()
    return set(
        Membership.objects.filter(
            community_id__in=communities, user_id__in=people, state=Membership.State.BANNED
        ).values_list("community_id", "user_id")
    )


def why_not(row: Notification, now, banned: set[tuple[int, int]] | None = None) -> str | None:
    """A reason not to send this row now, or None to send it. `banned` is banned_among(batch)."""
    person = row.recipient
    if not person.is_active:
        return "inactive"
    call = row.call
    if banned is None:
        banned = banned_among([row])
    if row.community_id is not None and (row.community_id, person.pk) in banned:
        return "banned"
    if row.is_reminder:
        if call is None or call.status == Call.Status.CANCELLED:
            return "cancelled"
        if now >= call.starts_at:
            return "too late"
        if row.kind not in kinds_for(person, call.community):
            return "not wanted"
        return None
    if not person.notify_updates:
        return "unsubscribed"
    return None


def _deliver(row: Notification, now, connection, shared: dict, banned: set) -> str:
    reason = why_not(row, now, banned)
    if reason is not None:
        row.state = State.SKIPPED
        row.skip_reason = reason
        row.save(update_fields=["state", "skip_reason"])
        return "skipped"
    late = row.is_reminder and now - row.due_at > LATE_AFTER
    starting_soon = row.call is not None and is_late_booking(row, row.call)
    message = emails.build(row, now=now, late=late, starting_soon=starting_soon, shared=shared)
    message.connection = connection
    row.attempts += 1
    try:
        connection.open()  # one SMTP session for the whole run; opened again after a failure
        message.send()
    except Exception as error:
        connection.close()  # the next message opens a fresh connection
        row.last_error = f"{type(error).__name__}: {error}"[:300]
        if row.attempts >= MAX_ATTEMPTS:
            row.state = State.FAILED
            logger.warning("notification %s failed after %s attempts", row.pk, row.attempts)
        else:
            row.next_attempt_at = now + retry_delay(row.attempts)
        row.save(update_fields=["attempts", "last_error", "state", "next_attempt_at"])
        return "failed"
    row.state = State.SENT
    row.sent_at = timezone.now()
    return "sent"  # the caller saves sent rows together, in the same transaction


def claim_due(now, batch: int):
    return list(
        Notification.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(state=State.PENDING, due_at__lte=now)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .select_related("recipient", "call__community", "call__format", "community")
        .order_by("due_at", "pk")[:batch]
    )


def dispatch(*, now=None, batch: int = BATCH, max_batches: int | None = None) -> dict[str, int]:
    """Send everything due, batch by batch. Returns how many rows were sent, skipped and failed."""
    counts = {"sent": 0, "skipped": 0, "failed": 0}
    done = 0
    connection = get_connection()
    shared: dict = {}  # each call's parts that are the same for all its recipients
    try:
        while max_batches is None or done < max_batches:
            moment = now or timezone.now()
            with transaction.atomic():
                rows = claim_due(moment, batch)
                banned = banned_among(rows)
                sent = []
                for row in rows:
                    outcome = _deliver(row, moment, connection, shared, banned)
                    counts[outcome] += 1
                    if outcome == "sent":
                        sent.append(row)
                # One UPDATE marks the batch's sent rows, committed with the claim like before.
                Notification.objects.bulk_update(sent, ["attempts", "state", "sent_at"])
            done += 1
            if len(rows) < batch:
                break
    finally:
        connection.close()
    return counts
