"""Reminders that make sense for late bookings, checked as the messages a real SMTP server receives.

A call created, or a seat taken, inside a reminder's window gets only the reminders still ahead;
"Starting soon" goes only to someone who RSVPs in the last 15 minutes; nobody gets two reminders
for a call within 30 minutes; and no reminder apologises for being late when the call or the
seat did not exist at its planned time. The call is created and the RSVP made through the pages;
the dispatcher runs every minute of the test's clock and talks SMTP to tests/mailsink.py.
"""

from __future__ import annotations

import email
import email.policy
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import override_settings

from accounts.models import User
from groups.models import Call, Notification
from groups.services import delivery
from groups.services.reminders import sync_call
from tests.mailsink import MailSink

START = datetime(2027, 3, 3, 9, 0, tzinfo=UTC)
TITLE = "Morning circle"
APOLOGY = "later than planned"


@pytest.fixture
def sink():
    with (
        MailSink() as sink,
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=sink.port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            REMINDER_DAY_HOURS=24,
            REMINDER_SOON_MINUTES=15,
        ),
    ):
        yield sink


@pytest.fixture
def people(circle):
    """Fran facilitates and wants both reminders; Maya is the member who books."""
    User.objects.filter(pk__in=[circle.facilitator.pk, circle.member.pk]).update(reminders=User.Reminders.BOTH)
    User.objects.filter(pk=circle.co_facilitator.pk).update(reminders=User.Reminders.NONE)
    return circle


class Clock:
    def __init__(self, traveller):
        self.traveller = traveller
        self.now = START

    def run_until(self, moment: datetime):
        """The dispatcher runs once a minute, as beat would, up to `moment`."""
        while self.now < moment:
            self.now = min(self.now + timedelta(minutes=1), moment)
            self.traveller.move_to(self.now)
            delivery.dispatch(now=self.now)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield Clock(traveller)


def create_call(client, circle, starts_in: timedelta) -> Call:
    client.force_login(circle.facilitator)
    starts_at = START + starts_in
    local = starts_at.astimezone(zoneinfo.ZoneInfo("Europe/Berlin"))
    response = client.post(
        f"/c/{circle.community.slug}/calls/new/",
        {
            "title": TITLE,
            "format": str(circle.call_format.pk),
            "facilitator": str(circle.facilitator.pk),
            "co_facilitator": "",
            "duration_minutes": "60",
            "capacity": "8",
            "time_zone": "Europe/Berlin",
            "day": local.date().isoformat(),
            "at": local.strftime("%H:%M"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Call.objects.get(title=TITLE)


def book(client, circle, call):
    client.force_login(circle.member)
    assert client.post(f"/calls/{call.pk}/rsvp/", {"going": "yes"}).status_code == 302


def messages(sink) -> list[tuple[str, str, str]]:
    """(recipient, subject, first line after the greeting) of every message received, in order."""
    found = []
    for received in sink.received():
        message = email.message_from_bytes(received.content, policy=email.policy.default)
        text = message.get_body(("plain",)).get_content()
        lines = [line for line in text.splitlines() if line.strip()]
        found.append((received.recipients[0], str(message["Subject"]), lines[1]))
    return found


def assert_no_apology(sink):
    for received in sink.received():
        assert APOLOGY not in received.content.decode(errors="replace")


def test_a_call_created_2_minutes_ahead_sends_nothing_until_someone_books_then_starting_soon(
    client, people, sink, clock
):
    call = create_call(client, people, timedelta(minutes=2))
    clock.run_until(START + timedelta(seconds=30))
    assert messages(sink) == []  # both reminders' times passed before the call existed
    book(client, people, call)
    clock.run_until(call.starts_at)
    assert messages(sink) == [
        (people.member.email, f"Starting soon: {TITLE}", f"{TITLE} ({people.community.name}) is starting soon."),
    ]
    assert_no_apology(sink)


def test_a_call_created_20_minutes_ahead_sends_only_the_15_minute_reminder(client, people, sink, clock):
    call = create_call(client, people, timedelta(minutes=20))
    book(client, people, call)  # an RSVP 20 minutes ahead, too
    clock.run_until(call.starts_at)
    soon = (f"In 15 minutes: {TITLE}", f"{TITLE} ({people.community.name}) starts in 15 minutes.")
    assert sorted(messages(sink)) == sorted([(people.facilitator.email, *soon), (people.member.email, *soon)])
    assert_no_apology(sink)


def test_a_call_created_20_hours_ahead_skips_the_day_before_reminder(client, people, sink, clock):
    call = create_call(client, people, timedelta(hours=20))
    book(client, people, call)
    clock.run_until(START + timedelta(hours=19, minutes=40))
    assert messages(sink) == []
    clock.run_until(call.starts_at)
    soon = (f"In 15 minutes: {TITLE}", f"{TITLE} ({people.community.name}) starts in 15 minutes.")
    assert sorted(messages(sink)) == sorted([(people.facilitator.email, *soon), (people.member.email, *soon)])
    assert_no_apology(sink)


def test_an_rsvp_20_minutes_ahead_gets_one_reminder_not_two(client, people, sink, clock):
    call = create_call(client, people, timedelta(hours=25))
    clock.run_until(call.starts_at - timedelta(minutes=20))
    assert messages(sink) == [  # the facilitator's day-before reminder, on time
        (
            people.facilitator.email,
            f"Tomorrow: {TITLE}, Thursday 4 March 2027, 11:00",
            f"A reminder that {TITLE} ({people.community.name}) is tomorrow.",
        )
    ]
    book(client, people, call)
    clock.run_until(call.starts_at)
    to_maya = [message for message in messages(sink) if message[0] == people.member.email]
    assert to_maya == [
        (people.member.email, f"In 15 minutes: {TITLE}", f"{TITLE} ({people.community.name}) starts in 15 minutes.")
    ]
    assert_no_apology(sink)


def test_two_reminders_within_30_minutes_become_one(people, sink, clock):
    with override_settings(REMINDER_DAY_HOURS=1, REMINDER_SOON_MINUTES=45):
        call = people.call(starts_in=timedelta(hours=3), title=TITLE)
        sync_call(call, START)
        rows = Notification.objects.filter(call=call, recipient=people.facilitator)
        # Due 2 h and 2 h 15 min from now: only the one nearer the call is kept.
        assert [(row.kind, row.state) for row in rows] == [("reminder_soon", "pending")]
