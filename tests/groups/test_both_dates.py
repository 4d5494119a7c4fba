"""Both dates when they differ: a reader in Tokyo sees Thursday early morning, and the call's own
zone is still on Wednesday evening. Pages and emails say both."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest
import time_machine

from accounts.models import User
from groups import emails
from groups.models import Call, Notification

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
STARTS = datetime(2026, 12, 2, 17, 31, tzinfo=UTC)  # Wednesday 18:31 in Berlin, Thursday 02:31 in Tokyo


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def call(circle):
    return circle.call(starts_in=STARTS - NOW, title="Evening circle")


def test_the_call_page_shows_the_calls_own_date_when_it_differs(client, circle, call):
    aiko = circle.add_member("aiko@example.com", display_name="Aiko", time_zone="Asia/Tokyo")
    client.force_login(aiko)
    html = client.get(f"/calls/{call.pk}/").content.decode()
    assert "Thursday 3 December 2026, 02:31" in html
    assert "(Wednesday 2 December, 18:31 in Europe/Berlin)" in html


def test_on_the_same_date_only_the_time_is_repeated(client, circle, call):
    client.force_login(circle.member)  # America/New_York: 12:31 on the same Wednesday
    html = client.get(f"/calls/{call.pk}/").content.decode()
    assert "Wednesday 2 December 2026, 12:31" in html
    assert "(18:31 in Europe/Berlin)" in html


def test_the_reminder_email_shows_both_dates(circle, call):
    aiko = circle.add_member("aiko@example.com", display_name="Aiko", time_zone="Asia/Tokyo")
    User.objects.filter(pk=aiko.pk).update(reminders=User.Reminders.BOTH)
    row = Notification.objects.create(
        recipient=aiko,
        call=call,
        community=call.community,
        kind=Notification.Kind.REMINDER_DAY,
        due_at=NOW,
    )
    message = email.message_from_bytes(emails.build(row, now=NOW).message().as_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Thursday 3 December 2026, 02:31 (Asia/Tokyo)" in body
        assert "That is Wednesday 2 December 2026, 18:31 in Europe/Berlin." in body
    assert Call.objects.get(pk=call.pk).time_zone == "Europe/Berlin"
