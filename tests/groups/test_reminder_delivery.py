"""Reminders delivered by the real processes: the Procfile's Celery worker and beat, on Redis and
PostgreSQL, talking SMTP to a local server (tests/mailsink.py).

1. What arrives: headers, the three parts, the calendar entry and each reader's own local time.
2. What survives: 1,000 reminders, two workers and two beats at once, a worker SIGKILLed in the
   middle of a batch and the broker restarted. Nobody is missed; the only duplicates are the
   messages the killed worker had handed to the SMTP server inside its uncommitted transaction.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import re
import shutil
import signal
import time
import zoneinfo
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import icalendar
import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from groups import calendar, unsubscribe
from groups.models import RSVP, Call, Notification
from groups.services import delivery
from groups.services.reminders import sync_call
from groups.services.rsvps import rsvp_set
from tests.conftest import password_hash
from tests.mailsink import MailSink
from tests.processes import Process, RedisServer, server_environment

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SITE = "https://attune.example.org"
FROM = "Attunement <reminders@attune.example.org>"
LEAD_MINUTES = 30  # REMINDER_SOON_MINUTES here and in the processes: a call in 30 minutes is due now
SHARED_REDIS_DB = 7  # the processes of test 1 use their own database on the shared Redis: others use 0


def poll(condition, *, timeout: float, why=lambda: "", every: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s\n{why()}")
        time.sleep(every)


def tail(process: Process, lines: int = 40) -> str:
    text = process.log_path.read_text(errors="replace")  # also after stop() closed our handle
    return f"--- {process.log_path.name} ---\n" + "\n".join(text.splitlines()[-lines:])


def process_env(tmp_path: Path, sink: MailSink, redis_url: str, **overrides) -> dict[str, str]:
    return server_environment(
        tmp_path,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(sink.port),
        EMAIL_USE_TLS="false",
        EMAIL_USE_SSL="false",
        DEFAULT_FROM_EMAIL=FROM,
        SITE_URL=SITE,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        NOTIFICATIONS_EVERY_SECONDS="1",
        REMINDER_SOON_MINUTES=str(LEAD_MINUTES),
        DATABASE_POOL_MAX_SIZE="2",
        **overrides,
    )


def stop_all(processes):
    for process in processes:
        with contextlib.suppress(Exception):
            process.stop()


# 1. One call, three readers in three zones ------------------------------------------------------


def readers_time(moment, zone: str) -> str:
    """'Wednesday 3 March 2027, 12:00', computed here without the app's formatting code."""
    local = moment.astimezone(zoneinfo.ZoneInfo(zone))
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M}"


def test_reminders_reach_a_real_smtp_server_from_the_real_worker_and_beat(circle, tmp_path):
    maya = circle.member  # America/New_York
    aiko = circle.add_member("aiko@example.com", display_name="Aiko", time_zone="Asia/Tokyo")
    fran = circle.facilitator  # Europe/Berlin, the call's own zone
    User.objects.filter(pk__in=[maya.pk, aiko.pk, fran.pk]).update(reminders=User.Reminders.SOON)
    starts_at = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=LEAD_MINUTES)
    call = Call.objects.create(
        community=circle.community,
        format=circle.call_format,
        facilitator=fran,
        title="Evening circle",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=75),
        time_zone="Europe/Berlin",
        capacity=8,
        sequence=2,  # as if it had been changed twice: the attachment must carry it
    )
    with override_settings(REMINDER_SOON_MINUTES=LEAD_MINUTES):
        for person in (maya, aiko):
            rsvp_set(call_id=call.pk, user=person, going=True)
    rows = {row.recipient.email: row for row in Notification.objects.filter(call=call).select_related("recipient")}
    assert set(rows) == {maya.email, aiko.email, fran.email}
    assert {(row.kind, row.state) for row in rows.values()} == {("reminder_soon", "pending")}
    assert all(timezone.now() - timedelta(minutes=1) < row.due_at <= timezone.now() for row in rows.values())

    processes = []
    with MailSink() as sink:
        env = process_env(
            tmp_path,
            sink,
            urlunsplit(urlsplit(settings.REDIS_URL)._replace(path=f"/{SHARED_REDIS_DB}")),
            CELERY_BEAT_SCHEDULE_FILE=str(tmp_path / "beat-schedule"),
        )
        try:
            processes.append(Process("worker", env, tmp_path / "worker.log"))
            processes.append(Process("beat", env, tmp_path / "beat.log"))
            worker = processes[0]
            received = sink.wait_for(
                lambda got: len(got) >= 3, timeout=90, why=lambda: "\n".join(tail(p) for p in processes)
            )
            poll(
                lambda: Notification.objects.filter(call=call, state="sent").count() == 3,
                timeout=30,
                why=lambda: f"{list(Notification.objects.values_list('state', flat=True))}\n{tail(worker)}",
            )
            # A later run of the task finds nothing more to send: each reader gets one message.
            first_log = len(worker.log())
            nothing_sent = re.compile(r"dispatch_notifications\[[^\]]+\] succeeded in [0-9.e-]+s: \{'sent': 0,")
            poll(
                lambda: nothing_sent.search(worker.log()[first_log:]),
                timeout=30,
                why=lambda: tail(worker),
            )
            received = sink.received()
        finally:
            stop_all(processes)

    assert Counter(address for message in received for address in message.recipients) == {
        maya.email: 1,
        aiko.email: 1,
        fran.email: 1,
    }
    messages = {
        message.recipients[0]: email.message_from_bytes(message.content, policy=email.policy.default)
        for message in received
    }
    with override_settings(SITE_URL=SITE):
        uid = calendar.call_uid(call)
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    for person in (maya, aiko, fran):
        message = messages[person.email]
        assert message["From"] == FROM
        assert message["To"] == person.email
        subject = re.fullmatch(r"In (\d+) minutes: Evening circle", message["Subject"])  # on time, not "late"
        assert subject and 25 <= int(subject.group(1)) <= LEAD_MINUTES, message["Subject"]
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = re.fullmatch(rf"<{re.escape(SITE)}/unsubscribe/([^/<>]+)/>", message["List-Unsubscribe"].strip())
        assert link, message["List-Unsubscribe"]
        assert unsubscribe.read(link.group(1)) == (person.pk, unsubscribe.REMINDERS)

        parts = [(part.get_content_type(), part.get_filename()) for part in message.walk()]
        assert parts == [
            ("multipart/mixed", None),
            ("multipart/alternative", None),
            ("text/plain", None),
            ("text/html", None),
            ("text/calendar", "call.ics"),
        ]
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        attachment = next(part for part in message.walk() if part.get_content_type() == "text/calendar")
        assert attachment.get_param("method") == "PUBLISH"

        mine = readers_time(starts_at, person.time_zone)
        assert f"{mine} ({person.time_zone})" in text, text
        assert mine.split(", ")[1] in html
        if person.time_zone == call.time_zone:
            assert "That is" not in text
        else:
            assert f"That is {readers_time(starts_at, 'Europe/Berlin')} in Europe/Berlin." in text
        assert f"{SITE}/calls/{call.pk}/room/" in text

        parsed = icalendar.Calendar.from_ical(attachment.get_content())
        assert str(parsed["METHOD"]) == "PUBLISH"
        event = parsed.walk("VEVENT")[0]
        assert str(event["UID"]) == uid
        assert int(event["SEQUENCE"]) == call.sequence == 2
        assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
        assert event.decoded("DTSTART") == starts_at.astimezone(berlin)
        assert event.decoded("DTSTART").utcoffset() == starts_at.astimezone(berlin).utcoffset()

    # The local times the readers see are really different: three zones, three clock readings.
    assert len({readers_time(starts_at, person.time_zone) for person in (maya, aiko, fran)}) == 3
    for row in Notification.objects.filter(call=call):
        assert (row.state, row.attempts, row.last_error) == ("sent", 1, "")
        assert row.due_at <= row.sent_at < row.due_at + timedelta(minutes=5)


# 2. A thousand reminders, two workers, two beats, a SIGKILL and a broker restart ------------------


def seed_due_reminders(circle, count: int, per_call: int = 10) -> list[Call]:
    """`count` people, `per_call` of them going to each of count/per_call calls that start in 30
    minutes: each person is owed one reminder, due now, and has an address of their own."""
    User.objects.filter(pk=circle.facilitator.pk).update(reminders=User.Reminders.NONE)
    zones = ["America/New_York", "Asia/Tokyo", "Europe/Berlin", "Australia/Sydney", "America/Sao_Paulo"]
    hashed = password_hash("attune-test-pw")
    with transaction.atomic():
        people = User.objects.bulk_create(
            [
                User(
                    email=f"load-{number:04d}@example.com",
                    display_name=f"Load {number}",
                    password=hashed,
                    time_zone=zones[number % len(zones)],
                    reminders=User.Reminders.SOON,
                )
                for number in range(count)
            ],
            batch_size=500,
        )
        starts_at = timezone.now() + timedelta(minutes=LEAD_MINUTES)
        calls = Call.objects.bulk_create(
            [
                Call(
                    community=circle.community,
                    format=circle.call_format,
                    facilitator=circle.facilitator,
                    title=f"Circle {number}",
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(minutes=75),
                    time_zone="Europe/Berlin",
                    capacity=per_call,
                )
                for number in range(count // per_call)
            ]
        )
        RSVP.objects.bulk_create(
            [
                RSVP(call=calls[number // per_call], user=person, status=RSVP.Status.GOING)
                for number, person in enumerate(people)
            ],
            batch_size=1000,
        )
        with override_settings(REMINDER_SOON_MINUTES=LEAD_MINUTES):
            for call in calls:
                sync_call(call)
    return calls


def backends(application_name: str) -> list[tuple[int, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid, state FROM pg_stat_activity WHERE application_name = %s", [application_name])
        return cursor.fetchall()


def rows_locked_by(application_name: str) -> dict[int, str]:
    """Notification rows locked right now by that process's open transactions: id -> recipient's email.
    An open transaction's sent-and-marked rows are locked too (their update is not committed)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT n.id, u.email
            FROM pgrowlocks('{Notification._meta.db_table}') AS l
            JOIN {Notification._meta.db_table} AS n ON n.ctid = l.locked_row
            JOIN {User._meta.db_table} AS u ON u.id = n.recipient_id
            WHERE l.pids && ARRAY(SELECT pid FROM pg_stat_activity WHERE application_name = %s)
            """,  # noqa: S608 (table names from the models)
            [application_name],
        )
        return dict(cursor.fetchall())


def kill_in_the_middle_of_a_batch(worker: Process, application_name: str, sink: MailSink, timeout: float = 30):
    """Freeze the worker (SIGSTOP) until it is caught holding rows in an open transaction, some of them
    already handed to the SMTP server and some not, look at what it holds, then SIGKILL it. (If it
    never holds a sent row for long, as when each row commits on its own, any held row will do after
    a few tries.) Returns (rows it held, recipients it had sent to in that uncommitted work, open
    transactions lost)."""
    started = time.monotonic()
    while time.monotonic() < started + timeout:
        os.killpg(worker.popen.pid, signal.SIGSTOP)
        time.sleep(0.2)  # a message it had fully handed over is accepted by now (the sink delays 10 ms)
        held = rows_locked_by(application_name)
        received = set(sink.per_recipient())
        sent_uncommitted = {address for address in held.values() if address in received}
        in_transaction = [pid for pid, state in backends(application_name) if state == "idle in transaction"]
        mid_batch = sent_uncommitted and len(sent_uncommitted) < len(held)
        if mid_batch or (held and time.monotonic() > started + 5):
            worker.kill(signal.SIGKILL)
            return held, sent_uncommitted, len(in_transaction)
        os.killpg(worker.popen.pid, signal.SIGCONT)
        time.sleep(0.05)
    raise AssertionError(f"never caught {application_name} in the middle of a batch\n{tail(worker)}")


class Crew:
    """The Procfile processes of one test. Like docker-compose's `restart: unless-stopped`, a process
    that exits on its own is started again (and the exit recorded); one killed on purpose is not."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.current: dict[str, tuple[str, dict, Process]] = {}
        self.started: list[tuple[str, Process]] = []
        self.exits: list[str] = []

    def start(self, name: str, kind: str, env: dict[str, str]) -> Process:
        runs = sum(1 for started, _ in self.started if started == name)
        process = Process(kind, env, self.log_dir / (f"{name}.log" if not runs else f"{name}.{runs}.log"))
        self.current[name] = (kind, env, process)
        self.started.append((name, process))
        return process

    def __getitem__(self, name: str) -> Process:
        return self.current[name][2]

    def retire(self, name: str) -> Process:
        return self.current.pop(name)[2]

    def check(self) -> None:
        for name, (kind, env, process) in list(self.current.items()):
            if process.popen.poll() is not None:
                error = next((line for line in process.log().splitlines() if "Unrecoverable error" in line), "")
                self.exits.append(f"{name} exited with {process.popen.returncode}: {error[:160]}")
                self.start(name, kind, env)

    def marks(self) -> dict[int, int]:
        return {id(process): len(process.log()) for _, process in self.started}

    def log_since(self, name: str, marks: dict[int, int]) -> str:
        runs = [process for started, process in self.started if started == name]
        return "".join(process.log()[marks.get(id(process), 0) :] for process in runs)

    def tails(self) -> str:
        return "\n".join(tail(process, 15) for _, process in self.started)

    def stop(self) -> None:
        for _, process in self.started:
            with contextlib.suppress(Exception):
                process.stop()


def test_a_thousand_reminders_survive_a_killed_worker_and_a_restarted_broker(circle, tmp_path):
    count = 1000
    if shutil.which("redis-server") is None:
        pytest.skip("needs the redis-server binary, to stop and start a broker of this test's own")
    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pgrowlocks")
    except DatabaseError as error:
        pytest.skip(f"needs PostgreSQL's pgrowlocks extension (contrib) to see which rows a worker holds: {error}")
    started = time.monotonic()
    broker = RedisServer(tmp_path / "redis.log")
    sink = MailSink(delay=0.01, keep_content=False).start()  # a provider that takes 10 ms per message
    crew = Crew(tmp_path)
    timeline: list[str] = []

    def note(event: str):
        timeline.append(f"{time.monotonic() - started:5.1f}s {sink.count():4d} received: {event}")

    def logs() -> str:
        return "\n".join(timeline) + "\n" + "\n".join(crew.exits) + "\n" + crew.tails()

    def wait(condition, timeout: float, why=logs):
        return poll(lambda: crew.check() or condition(), timeout=timeout, why=why)

    try:
        env = process_env(tmp_path, sink, broker.url)
        for name in ("worker-a", "worker-b"):
            crew.start(name, "worker", {**env, "PGAPPNAME": f"reminders-{name}"})
        for name in ("beat-1", "beat-2"):
            crew.start(name, "beat", {**env, "CELERY_BEAT_SCHEDULE_FILE": str(tmp_path / f"{name}-schedule")})
        calls = seed_due_reminders(circle, count)
        rows = Notification.objects.filter(call__in=calls)
        recipients = set(rows.values_list("recipient__email", flat=True))
        assert len(recipients) == count
        note(f"seeded {count} due reminders")
        wait(lambda: all(" ready." in crew[name].log() for name in ("worker-a", "worker-b")), 60)
        note("both workers ready")

        wait(lambda: sink.count() >= count // 5, 60)
        broker.stop()
        note("broker stopped")
        broker.start()
        note("broker started again, empty")
        marks = crew.marks()

        wait(lambda: sink.count() >= 2 * count // 5, 60)
        held, sent_uncommitted, lost_transactions = kill_in_the_middle_of_a_batch(
            crew.retire("worker-a"), "reminders-worker-a", sink
        )
        note(
            f"worker-a SIGKILLed holding {len(held)} rows in {lost_transactions} open transaction(s), "
            f"{len(sent_uncommitted)} of them already handed to SMTP"
        )
        wait(lambda: not backends("reminders-worker-a"), 10)  # PostgreSQL noticed and rolled back
        crew.start("worker-a-again", "worker", {**env, "PGAPPNAME": "reminders-worker-a-again"})

        pending = rows.filter(state="pending")
        wait(lambda: not pending.exists(), 90, why=lambda: f"{pending.count()} still pending\n{logs()}")
        note("no row pending")
        # A worker started after the broker restart takes tasks the beats published on the new broker.
        took_task = re.compile(r"dispatch_notifications\[[^\]]+\] received")
        wait(lambda: took_task.search(crew.log_since("worker-a-again", marks)), 60)
        note("the worker started after the broker restart ran a dispatch task")
        beats_after = {name: crew.log_since(name, marks) for name in ("beat-1", "beat-2")}
        exits = list(crew.exits)
    finally:
        crew.stop()
        broker.stop()
        sink.stop()

    per_recipient = sink.per_recipient()
    states = Counter(rows.values_list("state", flat=True))
    missed = sorted(recipients - set(per_recipient))
    strangers = sorted(set(per_recipient) - recipients)
    duplicated = {address: copies - 1 for address, copies in per_recipient.items() if copies > 1}
    accounting = (
        f"{count} rows, states {dict(states)}; {sum(per_recipient.values())} messages to "
        f"{len(per_recipient)} recipients; missed {len(missed)} {missed[:5]}; "
        f"duplicated {sum(duplicated.values())} ({sorted(duplicated)[:3]}...); crashes 1, in which the killed "
        f"worker held {len(held)} rows in {lost_transactions} open transaction(s) and had handed "
        f"{len(sent_uncommitted)} of them to SMTP; batch size {delivery.BATCH}; "
        f"processes that exited on their own and were restarted: {exits or 'none'}; "
        f"took {time.monotonic() - started:.1f}s\n" + "\n".join(timeline)
    )
    print(accounting)  # noqa: T201 (visible with -s)
    assert not missed, f"some reminders never arrived: {accounting}"
    assert not strangers, f"messages to people who were owed nothing: {strangers[:5]}\n{accounting}"
    assert states == {"sent": count}, f"not every row is marked sent: {accounting}"
    # The truth about duplicates: the messages the killed worker had handed to the SMTP server inside
    # its uncommitted transaction(s) were sent again, once each; nothing else was. That is up to a
    # whole batch per open transaction, not one message per crash.
    assert set(duplicated) == sent_uncommitted, f"duplicates not explained by the crash: {accounting}"
    assert set(duplicated.values()) <= {1}, f"someone got more than two copies: {accounting}"
    assert len(duplicated) <= lost_transactions * delivery.BATCH, accounting
    # Restarting the broker lost its queue; both beats went on publishing to the new one.
    for name, log in beats_after.items():
        assert "Sending due task dispatch-notifications" in log, f"{name} stopped publishing\n{accounting}"
