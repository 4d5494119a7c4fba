"""Reminders as rows, with a controlled clock: when they fall due, how changes move them, and what
the dispatcher sends."""

import email
import re
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

import icalendar
import pytest
import time_machine
from django.core import mail
from django.test import override_settings

from groups import calendar
from groups.models import Notification
from groups.services import delivery, reminders
from groups.services.communities import community_update, membership_approve, membership_decline, membership_join
from groups.services.rsvps import rsvp_set
from groups.services.scheduling import CallDetails, call_cancel, call_create, call_update

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def details(circle, **changes):
    values = {
        "title": "Evening circle",
        "format": circle.call_format,
        "facilitator": circle.facilitator,
        "co_facilitator": None,
        "duration_minutes": 75,
        "capacity": 8,
    }
    return CallDetails(**{**values, **changes})


@pytest.fixture
def call(circle):
    """Wednesday 3 March 2027, 18:00 in Berlin (17:00 UTC)."""
    return call_create(
        community=circle.community,
        actor=circle.facilitator,
        details=details(circle),
        day=date(2027, 3, 3),
        at=time(18, 0),
        time_zone="Europe/Berlin",
    )


def rows(call, **filters):
    return {
        (row.recipient.display_name, row.kind): (row.due_at, row.state)
        for row in Notification.objects.filter(call=call, kind__in=Notification.REMINDER_KINDS, **filters)
    }


def dispatch_at(moment):
    with time_machine.travel(moment, tick=False):
        return delivery.dispatch()


def test_going_and_facilitating_owe_a_reminder_a_day_and_fifteen_minutes_before(circle, call):
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    start = datetime(2027, 3, 3, 17, 0, tzinfo=UTC)
    day, soon = start - timedelta(hours=24), start - timedelta(minutes=15)
    assert rows(call) == {
        ("Maya", "reminder_day"): (day, "pending"),
        ("Maya", "reminder_soon"): (soon, "pending"),
        ("Fran", "reminder_day"): (day, "pending"),
        ("Fran", "reminder_soon"): (soon, "pending"),
    }


def test_each_person_and_each_community_choose_which_reminders(circle, call):
    circle.member.reminders = "day"
    circle.member.save()
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    assert set(rows(call, recipient=circle.member)) == {("Maya", "reminder_day")}
    community_update(community=circle.community, actor=circle.owner, remind_day_before=False)
    assert set(rows(call, recipient=circle.facilitator, state="pending")) == {("Fran", "reminder_soon")}
    circle.member.reminders = "none"
    circle.member.save()
    reminders.sync_person(circle.member)
    assert rows(call, recipient=circle.member, state="pending") == {}


def test_a_reschedule_moves_unsent_reminders_and_leaves_sent_ones(circle, call):
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    dispatch_at(datetime(2027, 3, 2, 17, 0, tzinfo=UTC))  # the day-before reminders go out
    call.refresh_from_db()
    with time_machine.travel(datetime(2027, 3, 2, 18, 0, tzinfo=UTC), tick=False):
        call_update(
            call=call,
            actor=circle.facilitator,
            expected_version=call.version,
            details=details(circle),
            day=date(2027, 3, 3),
            at=time(19, 30),
        )
    moved = datetime(2027, 3, 3, 18, 30, tzinfo=UTC)
    assert rows(call, recipient=circle.member) == {
        ("Maya", "reminder_day"): (datetime(2027, 3, 2, 17, 0, tzinfo=UTC), "sent"),
        ("Maya", "reminder_soon"): (moved - timedelta(minutes=15), "pending"),
    }


def test_cancelling_or_saying_not_going_skips_reminders(circle, call):
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    rsvp_set(call_id=call.pk, user=circle.member, going=False)
    assert {state for _, state in rows(call, recipient=circle.member).values()} == {"skipped"}
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    assert {state for _, state in rows(call, recipient=circle.member).values()} == {"pending"}
    call_cancel(call=call, actor=circle.facilitator)
    assert {state for _, state in rows(call).values()} == {"skipped"}
    assert dispatch_at(datetime(2027, 3, 3, 16, 50, tzinfo=UTC))["sent"] == 1  # only the cancellation notice
    assert [message.subject for message in mail.outbox] == [
        "Cancelled: Evening circle, Wednesday 3 March 2027, 12:00"
    ]  # Maya lives in New York


def test_the_reminder_carries_times_in_the_readers_zone_a_join_link_a_prompt_and_the_calendar_entry(circle, call):
    circle.member.time_zone = "America/New_York"
    circle.member.save()
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    counts = dispatch_at(datetime(2027, 3, 2, 17, 0, tzinfo=UTC))
    assert counts == {"sent": 2, "skipped": 0, "failed": 0}
    maya = next(message for message in mail.outbox if message.to == ["member@example.com"])
    assert maya.subject == "Tomorrow: Evening circle, Wednesday 3 March 2027, 12:00"
    assert "Wednesday 3 March 2027, 12:00 (America/New_York)" in maya.body
    assert "That is Wednesday 3 March 2027, 18:00 in Europe/Berlin." in maya.body
    assert f"/calls/{call.pk}/room/" in maya.body
    assert "Before we meet: pause, notice your body, and be curious about what you find." in maya.body
    assert "Attuned sharing" in maya.body
    html = maya.alternatives[0][0]
    assert "Join the call" in html and "12:00" in html
    assert maya.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert maya.extra_headers["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/unsubscribe/")
    fran = next(message for message in mail.outbox if message.to == ["fac@example.com"])
    assert "Wednesday 3 March 2027, 18:00 (Europe/Berlin)" in fran.body
    assert "That is" not in fran.body  # same zone: said once
    name, content, mimetype = maya.attachments[0]
    assert (name, mimetype) == ("call.ics", "text/calendar; charset=utf-8; method=PUBLISH")
    event = icalendar.Calendar.from_ical(content).walk("VEVENT")[0]
    assert str(event["UID"]) == calendar.call_uid(call)
    assert int(event["SEQUENCE"]) == call.sequence
    assert event.decoded("DTSTART") == datetime(2027, 3, 3, 18, 0, tzinfo=BERLIN)


def test_a_reminder_is_never_sent_after_the_call_started(circle, call):
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    counts = dispatch_at(datetime(2027, 3, 3, 17, 1, tzinfo=UTC))  # the workers were down all along
    assert counts["sent"] == 0
    assert {row.skip_reason for row in Notification.objects.filter(call=call)} == {"too late"}
    assert mail.outbox == []


def test_a_late_reminder_says_honestly_that_the_call_starts_soon(circle, call):
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    Notification.objects.filter(kind="reminder_soon").update(state="skipped")
    dispatch_at(datetime(2027, 3, 3, 16, 40, tzinfo=UTC))  # 20 minutes before: the day-before one is 23 h late
    subjects = {message.subject for message in mail.outbox}
    assert subjects == {"Starting soon: Evening circle"}
    assert "later than planned" in mail.outbox[0].body


def test_a_reminder_across_the_dst_change_shows_the_right_local_time(circle):
    """The call is on the Monday after clocks change in Europe (28 March 2027)."""
    call = call_create(
        community=circle.community,
        actor=circle.facilitator,
        details=details(circle),
        day=date(2027, 3, 29),
        at=time(18, 0),
        time_zone="Europe/Berlin",
    )
    circle.member.time_zone = "America/New_York"  # whose clocks changed two weeks earlier
    circle.member.save()
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    due = Notification.objects.get(call=call, recipient=circle.member, kind="reminder_day").due_at
    assert due == datetime(2027, 3, 28, 16, 0, tzinfo=UTC)  # 24 hours before 16:00 UTC
    dispatch_at(due)
    body = next(message.body for message in mail.outbox if message.to == ["member@example.com"])
    assert "Monday 29 March 2027, 12:00 (America/New_York)" in body
    assert "That is Monday 29 March 2027, 18:00 in Europe/Berlin." in body


@override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1", EMAIL_PORT=1)
def test_smtp_failures_retry_with_backoff_then_fail_after_five_attempts(circle, call):
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    row = Notification.objects.get(call=call, recipient=circle.member, kind="reminder_day")
    moment = row.due_at
    waits = []
    for attempt in range(1, 6):
        assert dispatch_at(moment)["failed"] >= 1
        row.refresh_from_db()
        assert row.attempts == attempt
        assert "ConnectionRefusedError" in row.last_error
        if attempt < 5:
            waits.append(row.next_attempt_at - moment)
            assert dispatch_at(row.next_attempt_at - timedelta(seconds=1))["failed"] == 0  # not before its time
            moment = row.next_attempt_at
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8)]
    assert row.state == "failed"
    assert dispatch_at(moment + timedelta(hours=1)) == {"sent": 0, "skipped": 0, "failed": 0}


def test_one_click_unsubscribe_stops_reminders_without_a_login(client, circle, call):
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    dispatch_at(datetime(2027, 3, 2, 17, 0, tzinfo=UTC))
    message = next(m for m in mail.outbox if m.to == ["member@example.com"])
    address = message.extra_headers["List-Unsubscribe"].strip("<>").replace("http://127.0.0.1:8000", "")
    assert client.get(address).status_code == 200  # a page with a button; GET changes nothing
    circle.member.refresh_from_db()
    assert circle.member.reminders == "default"
    response = client.post(address, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    circle.member.refresh_from_db()
    assert circle.member.reminders == "none"
    assert rows(call, recipient=circle.member, state="pending") == {}
    rsvp_set(call_id=call.pk, user=circle.member, going=False)
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    assert rows(call, recipient=circle.member, state="pending") == {}  # never again, unless they opt back in
    assert client.post("/unsubscribe/forged/").status_code == 404


def test_account_emails_are_never_affected_by_unsubscribing(client, circle):
    circle.member.reminders = "none"
    circle.member.notify_updates = False
    circle.member.save()
    client.post("/accounts/password/reset/", {"email": "member@example.com"})
    assert [message.to for message in mail.outbox] == [["member@example.com"]]


def test_cancellations_and_changes_carry_calendar_updates(circle, call):
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    call_update(
        call=call,
        actor=circle.facilitator,
        expected_version=call.version,
        details=details(circle),
        day=date(2027, 3, 3),
        at=time(19, 0),
    )
    delivery.dispatch()
    changed = mail.outbox[-1]
    assert changed.subject == "Changed: Evening circle is now Wednesday 3 March 2027, 13:00"  # in New York
    parsed = icalendar.Calendar.from_ical(changed.attachments[0][1])
    assert str(parsed["METHOD"]) == "REQUEST"
    event = parsed.walk("VEVENT")[0]
    assert (str(event["UID"]), int(event["SEQUENCE"])) == (calendar.call_uid(call), 1)
    assert "member@example.com" in str(event["ATTENDEE"])
    call.refresh_from_db()
    call_cancel(call=call, actor=circle.facilitator)
    delivery.dispatch()
    cancelled = mail.outbox[-1]
    parsed = icalendar.Calendar.from_ical(cancelled.attachments[0][1])
    event = parsed.walk("VEVENT")[0]
    assert (str(parsed["METHOD"]), str(event["STATUS"]), int(event["SEQUENCE"])) == ("CANCEL", "CANCELLED", 2)
    assert str(event["UID"]) == calendar.call_uid(call)


def test_waitlist_promotions_and_join_decisions_reach_the_right_people(circle):
    call = call_create(
        community=circle.community,
        actor=circle.facilitator,
        details=details(circle, capacity=2),
        day=date(2027, 3, 3),
        at=time(18, 0),
        time_zone="Europe/Berlin",
    )
    seated = [circle.add_member(f"s{n}@example.com") for n in range(2)]
    waiting = circle.add_member("waiting@example.com", display_name="Wren")
    for person in [*seated, waiting]:
        rsvp_set(call_id=call.pk, user=person, going=True)
    rsvp_set(call_id=call.pk, user=seated[0], going=False)
    membership = membership_join(community=circle.community, user=circle.outsider, answer="Hello")
    membership_approve(membership=membership, actor=circle.facilitator)
    other = membership_join(community=circle.community, user=circle.staff, answer="Hi")
    membership_decline(membership=other, actor=circle.facilitator)
    delivery.dispatch()
    by_subject = {message.subject: message.to for message in mail.outbox}
    assert by_subject["You have a seat: Evening circle"] == ["waiting@example.com"]
    assert by_subject["Welcome to Hands at rest"] == ["outsider@example.com"]
    assert by_subject["About your request to join Hands at rest"] == ["staff@example.com"]
    requested = [m.to[0] for m in mail.outbox if m.subject == "Someone asked to join Hands at rest"]
    assert sorted(requested) == sorted(["owner@example.com", "fac@example.com", "cofac@example.com"] * 2)


def test_facilitators_see_which_reminders_went_out_to_whom_and_when_but_not_their_content(client, circle, call):
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    dispatch_at(datetime(2027, 3, 2, 17, 0, tzinfo=UTC))
    client.force_login(circle.facilitator)
    html = client.get(f"/calls/{call.pk}/").content.decode()
    section = html[html.index("Reminders and notices") :]
    assert "Maya" in section and "Reminder a day before" in section and "Sent" in section
    assert "Pending" in section  # the 15-minute ones
    assert "Before we meet" not in section
    client.force_login(circle.member)
    assert "Reminders and notices" not in client.get(f"/calls/{call.pk}/").content.decode()


def test_the_call_page_says_what_was_sent_what_is_due_and_nothing_due_at_a_time_already_past(client, circle, call):
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    dispatch_at(datetime(2027, 3, 2, 17, 0, tzinfo=UTC))  # the day-before reminders go out
    client.force_login(circle.facilitator)

    def reminders_at(moment):
        """{(name, what): (state, when)} from the page at `moment`, and the due times it shows."""
        with time_machine.travel(moment, tick=False):
            html = client.get(f"/calls/{call.pk}/").content.decode()
        section = html[html.index("Reminders and notices") :]
        table = section[: section.index("</table>")]
        found, due = {}, []
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL)[1:]:
            cells = [
                " ".join(re.sub(r"<[^>]+>", " ", cell).split())
                for cell in re.findall(r"<td>(.*?)</td>", row, re.DOTALL)
            ]
            found[(cells[0], cells[1])] = (cells[2], cells[3])
            if cells[3].startswith("due"):
                due.append(datetime.fromisoformat(re.search(r'datetime="([^"]+)"', row).group(1)))
        assert all(when > moment for when in due), f"due at a past time on {moment}: {found}"
        return found

    day, soon = ("Maya", "Reminder a day before"), ("Maya", "Reminder shortly before")
    before = reminders_at(datetime(2027, 3, 2, 17, 5, tzinfo=UTC))
    assert before[day] == ("Sent", "2 Mar, 18:00")  # in the facilitator's zone, Berlin
    assert before[soon] == ("Pending", "due 3 Mar, 17:45")

    waiting = reminders_at(datetime(2027, 3, 3, 16, 50, tzinfo=UTC))  # due at 16:45, the next run not yet here
    assert waiting[soon] == ("Pending", "being sent now") and waiting[day] == ("Sent", "2 Mar, 18:00")

    started = reminders_at(datetime(2027, 3, 3, 17, 10, tzinfo=UTC))  # the call began; the dispatcher will skip it
    assert started[soon] == ("Pending", "will not be sent: too late for this call")

    dispatch_at(datetime(2027, 3, 3, 17, 11, tzinfo=UTC))
    after = reminders_at(datetime(2027, 3, 3, 17, 12, tzinfo=UTC))
    assert after[soon] == ("Skipped (too late)", "not sent")


def test_the_raw_message_has_plain_text_html_and_the_calendar_part(circle, call):
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    dispatch_at(datetime(2027, 3, 2, 17, 0, tzinfo=UTC))
    raw = email.message_from_bytes(mail.outbox[0].message().as_bytes())
    types = [part.get_content_type() for part in raw.walk()]
    assert {"text/plain", "text/html", "text/calendar"} <= set(types)
