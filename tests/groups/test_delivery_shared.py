"""One dispatch run sends every due reminder over one SMTP session, and a call's shared parts (its
calendar entry, its links, its times per zone) are made once, not once per recipient."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from groups import calendar
from groups.models import Notification
from groups.services import delivery
from tests.mailsink import MailSink


def test_a_dispatch_run_reuses_one_smtp_connection_and_one_calendar_entry_per_call(circle, monkeypatch):
    call = circle.call(starts_in=timedelta(minutes=10), title="Shared circle")
    people = [
        circle.add_member(f"p{n}@example.com", time_zone=("Asia/Tokyo", "Europe/Berlin")[n % 2]) for n in range(6)
    ]
    now = timezone.now()
    for person in people:
        Notification.objects.create(
            recipient=person, call=call, community=call.community, kind="reminder_soon", due_at=now
        )
    made = []
    real = calendar.calls_calendar
    monkeypatch.setattr(calendar, "calls_calendar", lambda *args, **kwargs: made.append(1) or real(*args, **kwargs))
    with (
        MailSink() as sink,
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=sink.port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
        ),
    ):
        assert delivery.dispatch(now=now) == {"sent": 6, "skipped": 0, "failed": 0}
        received = sink.received()
    assert sorted(message.recipients[0] for message in received) == sorted(person.email for person in people)
    assert len({message.peer for message in received}) == 1, "each message opened its own SMTP connection"
    assert len(made) == 1
    zones = {person.email: person.time_zone for person in people}
    for message in received:
        parsed = email.message_from_bytes(message.content, policy=email.policy.default)
        attachment = next(part for part in parsed.walk() if part.get_content_type() == "text/calendar")
        assert f"UID:{calendar.call_uid(call)}" in attachment.get_content()
        assert f"({zones[message.recipients[0]]})" in parsed.get_body(("plain",)).get_content()


def test_a_person_banned_after_the_reminder_was_planned_is_skipped_and_the_rest_of_the_batch_sent(circle):
    call = circle.call(starts_in=timedelta(minutes=10))
    now = timezone.now()
    for person in (circle.member, circle.banned):
        Notification.objects.create(
            recipient=person, call=call, community=call.community, kind="reminder_soon", due_at=now
        )
    assert delivery.dispatch(now=now) == {"sent": 1, "skipped": 1, "failed": 0}
    rows = {row.recipient_id: row for row in Notification.objects.filter(call=call)}
    assert (rows[circle.banned.pk].state, rows[circle.banned.pk].skip_reason) == ("skipped", "banned")
    assert rows[circle.member.pk].state == "sent"
