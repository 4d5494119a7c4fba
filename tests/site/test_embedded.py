"""The embedded default as a real process: `make run` with no DATABASE_URL and no REDIS_URL, so web,
worker and beat run under bin/run-embedded on SQLite with the SQLite broker.

1. The worker SIGKILLed: the supervisor starts it again, the site stays up, and a reminder that
   falls due afterwards reaches a real SMTP server exactly once.
2. Ctrl-C (SIGINT to make's process group) leaves no process of the run alive after 5 seconds.

Every process of a run carries a marker in its environment, so the tests find them all in /proc,
also those that sit in process groups of their own.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.mailsink import MailSink
from tests.processes import ROOT, free_port

pytestmark = [pytest.mark.slow]

MARKER = "ATTUNEMENT_TEST_RUN"
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


def processes_of(run_id: str) -> dict[int, str]:
    """pid -> command line of every live process whose environment carries this run's marker."""
    found = {}
    needle = f"{MARKER}={run_id}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            status = (entry / "stat").read_text()
            if status.rsplit(")", 1)[1].split()[0] == "Z":
                continue  # a zombie has exited; its parent has yet to reap it
            found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    return found


def poll(condition, *, timeout: float, why=lambda: ""):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s\n{why()}")
        time.sleep(0.2)


class EmbeddedRun:
    def __init__(self, tmp_path: Path, **environ: str):
        self.run_id = uuid.uuid4().hex
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "make-run.log"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(tmp_path)),
            "LANG": "C.UTF-8",
            "VAR_DIR": str(tmp_path / "var"),
            "PORT": str(self.port),
            "SITE_URL": self.url,
            "CELERY_CONCURRENCY": "1",
            MARKER: self.run_id,
            **environ,
        }
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (kept open while the run lasts)
        self.make = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def tail(self, lines: int = 60) -> str:
        kept = [line for line in self.log().splitlines() if "celery.redirected" not in line]
        return "\n".join(kept[-lines:])

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def workers_ready(self) -> int:
        return len(re.findall(r"celery@\S+ ready\.", self.log()))

    def wait_up(self, timeout: float = 180):
        poll(
            lambda: self.healthy() and self.workers_ready() >= 1 and "beat: Starting..." in self.log(),
            timeout=timeout,
            why=self.tail,
        )

    def worker_pid(self) -> int:
        """The worker's main process: the leader of its own process group."""
        for pid, command in processes_of(self.run_id).items():
            if "celery" in command and " worker " in command and os.getpgid(pid) == pid:
                return pid
        raise AssertionError(f"no worker process\n{processes_of(self.run_id)}")

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def stop(self):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.make.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.make.wait(timeout=10)
        for pid in processes_of(self.run_id):  # never leave a test's processes behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._log.close()


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


def test_ctrl_c_stops_web_worker_and_beat_within_five_seconds(tmp_path):
    run = EmbeddedRun(tmp_path)
    try:
        run.wait_up()
        running = processes_of(run.run_id)
        commands = " | ".join(running.values())
        for name in ("uvicorn", "celery -A attunement_site worker", "celery -A attunement_site beat"):
            assert name in commands, commands
        os.killpg(run.make.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        started = time.monotonic()
        while processes_of(run.run_id) and time.monotonic() - started < 5:
            time.sleep(0.1)
        left = processes_of(run.run_id)
        assert not left, f"still alive 5 s after Ctrl-C: {left}\n{run.tail()}"
    finally:
        run.stop()
    assert run.log().count("Warm shutdown") <= 1, "the worker was told to stop more than once"
