"""The embedded default as a real process: `make run` with no DATABASE_URL and no REDIS_URL, so web,
worker and beat run under bin/run-embedded on SQLite with the SQLite broker.

1. The worker SIGKILLed: the supervisor starts it again, the site stays up, and a reminder that
   falls due afterwards reaches a real SMTP server exactly once.
2. Ctrl-C (SIGINT to make's process group), or SIGTERM to make alone, leaves no process of the
   run alive after 5 seconds.

Every process of a run carries a marker in its environment, so the tests find them all in /proc,
also those that sit in process groups of their own.
"""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from tests.mailsink import MailSink
from tests.processes import EmbeddedRun, poll, processes_of

pytestmark = [pytest.mark.slow]

LEAD_MINUTES = 30

DUE_SOON = """
from datetime import timedelta
from django.utils import timezone
from accounts.models import User
from groups.demo import SLUG
from groups.models import Call, Community
from groups.services.rsvps import rsvp_set

community = Community.objects.get(slug=SLUG)
User.objects.update(reminders=User.Reminders.NONE)
member = User.objects.get(email="member1@example.com")
User.objects.filter(pk=member.pk).update(reminders=User.Reminders.SOON)
member.refresh_from_db()
template = Call.objects.filter(community=community).first()
starts_at = timezone.now().replace(microsecond=0) + timedelta(minutes={lead}, seconds={ahead})
call = Call.objects.create(
    community=community, format=template.format, facilitator=template.facilitator,
    title="After the crash", starts_at=starts_at, ends_at=starts_at + timedelta(minutes=75),
    time_zone="Europe/Berlin", capacity=8,
)
rsvp_set(call_id=call.pk, user=member, going=True)
print(call.pk)
"""


def test_a_killed_worker_comes_back_and_a_reminder_due_afterwards_arrives_once(tmp_path):
    with MailSink() as sink:
        run = EmbeddedRun(
            tmp_path,
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(sink.port),
            EMAIL_USE_TLS="false",
            EMAIL_USE_SSL="false",
            NOTIFICATIONS_EVERY_SECONDS="1",
            REMINDER_SOON_MINUTES=str(LEAD_MINUTES),
        )
        try:
            run.wait_up()
            worker = run.worker_pid()
            os.kill(worker, signal.SIGKILL)
            poll(lambda: "worker was killed by signal 9; starting it again" in run.log(), timeout=10, why=run.tail)
            poll(lambda: run.workers_ready() >= 2, timeout=90, why=run.tail)
            assert run.worker_pid() != worker
            assert run.healthy(), "the site went down with the worker"

            call_id = int(run.manage("shell", "-c", DUE_SOON.format(lead=LEAD_MINUTES, ahead=15)).split()[-1])

            def about_it(got):
                return [message for message in got if b"After the crash" in message.content]

            sink.wait_for(about_it, timeout=90, why=run.tail)
            time.sleep(5)  # several more dispatch runs, one a second: none may send it again
            received = about_it(sink.received())
            assert run.healthy()
        finally:
            run.stop()

    assert [message.recipients for message in received] == [("member1@example.com",)], run.tail()
    assert f"/calls/{call_id}/".encode() in received[0].content
    restarts = re.findall(r"run-embedded: (\w+) (?:was killed|exited)", run.log())
    assert restarts == ["worker"], run.tail()


@pytest.mark.parametrize(
    "how",
    ["ctrl-c", "sigterm"],
    ids=["ctrl-c to the terminal's process group", "sigterm to make alone"],
)
def test_ctrl_c_or_sigterm_stops_web_worker_and_beat_within_five_seconds(tmp_path, how):
    run = EmbeddedRun(tmp_path)
    try:
        run.wait_up()
        running = processes_of(run.run_id)
        commands = " | ".join(running.values())
        for name in ("uvicorn", "celery -A attunement_site worker", "celery -A attunement_site beat"):
            assert name in commands, commands
        if how == "ctrl-c":
            os.killpg(run.make.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        else:
            os.kill(run.make.pid, signal.SIGTERM)  # what a process manager or `kill` does
        started = time.monotonic()
        while processes_of(run.run_id) and time.monotonic() - started < 5:
            time.sleep(0.1)
        left = processes_of(run.run_id)
        assert not left, f"still alive 5 s after {how}: {left}\n{run.tail()}"
    finally:
        run.stop()
    assert run.log().count("Warm shutdown") <= 1, "the worker was told to stop more than once"
