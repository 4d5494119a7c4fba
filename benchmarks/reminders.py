"""Reminder delivery: 10,000 reminders falling due at the same moment, sent by one real Celery worker.

    DATABASE_URL=postgres://... REDIS_URL=redis://... make bench-reminders
    BENCH_ARGS="--reminders 2000" make bench-reminders      # a shorter run

The Procfile's `worker` and `beat` (through bin/proc, NOTIFICATIONS_EVERY_SECONDS=1) run on Redis and
on a database of the benchmark's own, <configured name>_bench_reminders, which is migrated, emptied
and seeded on each run: 10,000 people, 10 going to each of 1,000 calls, each person owed one
"15 minutes before" reminder, all due at one instant a little after seeding ends. The worker sends
them over SMTP to a sink in this process (aiosmtpd, tests/mailsink.py), which notes when each one
arrives. Lateness is (time the sink accepted it) - (the row's due_at). The last line is the JSON
result; the exit status is 1 if a reminder was missed or duplicated.

It refuses SQLite and a missing REDIS_URL: the numbers are about the production processes.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from benchmarks.databases import scratch_database_url
from benchmarks.servers import ROOT, cpu_seconds, tree
from tests.mailsink import MailSink
from tests.processes import Process

PER_CALL = 10
EMAIL_DOMAIN = "bench-reminders.invalid"
SITE_URL = "https://attune.example.org"
APPLICATION_NAME = "bench-reminders"
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "America/Sao_Paulo", "UTC"]


def say(message: str) -> None:
    print(f"[bench-reminders] {message}", flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks.reminders", description=__doc__.split("\n\n")[0])
    parser.add_argument("--reminders", type=int, default=10_000, help="reminders due at once (10000)")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="CELERY_CONCURRENCY for the worker (the Procfile's default: 2)"
    )
    parser.add_argument("--smtp-delay-ms", type=float, default=0, help="the sink takes this long per message (0)")
    parser.add_argument("--lead-seconds", type=float, default=45, help="seconds from seeding's start to due (45)")
    parser.add_argument("--timeout", type=float, default=300, help="give up this long after the due time (300)")
    parser.add_argument(
        "--redis-db", type=int, default=12, help="Redis database for this run's broker, emptied first (12)"
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the worker and beat logs after a good run")
    args = parser.parse_args(argv)
    if args.reminders < PER_CALL or args.reminders % PER_CALL:
        parser.error(f"--reminders must be a positive multiple of {PER_CALL}")
    return args


def require_production_services() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        raise SystemExit(
            "bench-reminders refuses to run without PostgreSQL: set DATABASE_URL=postgres://... (dispatch claims "
            "rows with SELECT ... FOR UPDATE SKIP LOCKED; SQLite has neither that nor concurrent writers)."
        )
    if not os.environ.get("REDIS_URL"):
        raise SystemExit(
            "bench-reminders refuses to run without REDIS_URL: it measures the real Celery worker and beat on "
            "Redis, not the file broker of the embedded default."
        )


def configure() -> str:
    os.environ["DJANGO_SETTINGS_MODULE"] = "attunement_site.settings"
    os.environ["DATABASE_URL"] = scratch_database_url(os.environ["DATABASE_URL"], "_bench_reminders", say)

    import django

    django.setup()
    return os.environ["DATABASE_URL"]


def prepare() -> None:
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("flush", interactive=False, verbosity=0)  # the database is the benchmark's own
    say(f"migrated and emptied {connection.settings_dict['NAME']} in {time.perf_counter() - started:.1f}s")


def seed(count: int, due_at: datetime) -> None:
    """`count` people, PER_CALL going to each call; the calls start 15 minutes after `due_at`."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from accounts.models import User
    from groups.models import RSVP, Call, Community, Membership
    from groups.services.formats import format_default
    from groups.services.reminders import sync_call

    calls_count = count // PER_CALL
    starts_at = due_at + timedelta(minutes=settings.REMINDER_SOON_MINUTES)
    password = make_password(secrets.token_urlsafe(16))  # one hash for all: nobody logs in here
    with transaction.atomic():
        community = Community.objects.create(name="Bench reminders", slug="bench-reminders", description="Seeded.")
        facilitators = User.objects.bulk_create(
            User(
                email=f"host-{n:03d}@{EMAIL_DOMAIN}",
                display_name=f"Host {n}",
                password=password,
                time_zone="Europe/Berlin",
                reminders=User.Reminders.NONE,  # the measured reminders are the members' own
            )
            for n in range(max(1, calls_count // 10))
        )
        people = User.objects.bulk_create(
            (
                User(
                    email=f"member-{n:05d}@{EMAIL_DOMAIN}",
                    display_name=f"Member {n}",
                    password=password,
                    time_zone=ZONES[n % len(ZONES)],
                    reminders=User.Reminders.SOON,
                )
                for n in range(count)
            ),
            batch_size=2000,
        )
        Membership.objects.bulk_create(
            (
                Membership(
                    community=community,
                    user=user,
                    role=Membership.Role.FACILITATOR if user in facilitators else Membership.Role.MEMBER,
                    state=Membership.State.ACTIVE,
                    accepted_agreements_version=community.agreements_version,
                )
                for user in [*facilitators, *people]
            ),
            batch_size=2000,
        )
        call_format = format_default()
        calls = Call.objects.bulk_create(
            Call(
                community=community,
                format=call_format,
                facilitator=facilitators[n % len(facilitators)],
                title=f"Evening circle {n}",
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=75),
                time_zone="Europe/Berlin",
                capacity=PER_CALL,
            )
            for n in range(calls_count)
        )
        RSVP.objects.bulk_create(
            (RSVP(call=calls[n // PER_CALL], user=user, status=RSVP.Status.GOING) for n, user in enumerate(people)),
            batch_size=2000,
        )
        for call in calls:  # the application's own path from RSVPs to reminder rows
            sync_call(call, now=due_at - timedelta(seconds=1))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


class Proc(Process):
    """One Procfile process through bin/proc, as the tests start them, with its CPU time."""

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(pid) for pid in tree(self.popen.pid))


def process_environment(args, database_url: str, sink: MailSink, log_dir: Path) -> dict[str, str]:
    redis_url = urlunsplit(urlsplit(os.environ["REDIS_URL"])._replace(path=f"/{args.redis_db}"))
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "DEBUG": "false",  # production: no query log
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": SITE_URL,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(sink.port),
            "EMAIL_USE_TLS": "false",
            "EMAIL_USE_SSL": "false",
            "NOTIFICATIONS_EVERY_SECONDS": "1",
            "PGAPPNAME": APPLICATION_NAME,  # to find the worker's PostgreSQL backends
            "CELERY_BEAT_SCHEDULE_FILE": str(log_dir / "beat-schedule"),
            "VAR_DIR": str(log_dir),
            "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        }
    )
    env.pop("REMINDER_SOON_MINUTES", None)  # the default, as in this process
    if args.concurrency:
        env["CELERY_CONCURRENCY"] = str(args.concurrency)
    return env


class BackendsCpu:
    """CPU seconds used by the PostgreSQL backends serving the worker and beat (PostgreSQL on this
    machine), sampled from /proc: backends come and go with the worker's connection pools."""

    def __init__(self):
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        for pid, seconds in self._now().items():
            self.first[pid] = self.last[pid] = seconds

    def _now(self) -> dict[int, float]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [APPLICATION_NAME])
            return {pid: cpu_seconds(pid) for (pid,) in cursor.fetchall()}

    def sample(self) -> float:
        for pid, seconds in self._now().items():
            self.first.setdefault(pid, 0.0)
            self.last[pid] = max(seconds, self.last.get(pid, 0.0))
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def empty_broker(url: str) -> None:
    """Tasks an earlier run's beat left in the queue would keep the worker busy at the start."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()  # the benchmark's own database number (--redis-db)
    finally:
        client.close()


def wait_ready(worker: Proc, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while " ready." not in worker.log():
        if worker.popen.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the worker did not start:\n{worker.log()[-4000:]}")
        time.sleep(0.2)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def main(argv=None) -> None:
    args = parse_args(argv)
    require_production_services()
    database_url = configure()

    from django.db.models import Count

    from groups.models import Notification

    prepare()
    log_dir = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    sink = MailSink(delay=args.smtp_delay_ms / 1000, keep_content=False).start()
    env = process_environment(args, database_url, sink, log_dir)
    empty_broker(env["REDIS_URL"])
    say(f"SMTP sink on 127.0.0.1:{sink.port}; broker {env['REDIS_URL']}; logs in {log_dir}")
    processes: list[Proc] = []
    ok = False
    try:
        seeding_started = datetime.now(UTC)
        due_at = (seeding_started + timedelta(seconds=args.lead_seconds)).replace(microsecond=0)
        worker = Proc("worker", env, log_dir / "worker.log")
        processes.append(worker)
        processes.append(Proc("beat", env, log_dir / "beat.log"))
        started = time.perf_counter()
        seed(args.reminders, due_at)
        say(f"seeded {args.reminders} reminders in {time.perf_counter() - started:.1f}s, due at {due_at:%H:%M:%S}")
        wait_ready(worker)
        rows = Notification.objects.filter(kind=Notification.Kind.REMINDER_SOON)
        due = dict(rows.values_list("recipient__email", "due_at"))
        if len(due) != args.reminders or set(due.values()) != {due_at}:
            raise SystemExit(f"expected {args.reminders} rows due at {due_at}, found {len(due)}")
        if datetime.now(UTC) >= due_at:
            say("warning: seeding and start-up took longer than --lead-seconds; lateness includes them")
        else:
            say(f"worker ready; {(due_at - datetime.now(UTC)).total_seconds():.1f}s until the reminders are due")
        while datetime.now(UTC) < due_at:
            time.sleep(0.05)

        cpu_before = {"worker": worker.cpu_seconds(), "sink": time.process_time()}
        postgres = BackendsCpu()
        deadline = time.monotonic() + args.timeout
        last_report = last_sample = time.monotonic()
        while time.monotonic() < deadline:
            if time.monotonic() - last_sample >= 1:
                last_sample = time.monotonic()
                postgres.sample()
            count = sink.count()  # cheap; the full check only once enough have arrived
            if count >= len(due) and set(due) <= set(sink.per_recipient()):
                break
            if worker.popen.poll() is not None:
                say(f"the worker exited with {worker.popen.returncode} before the end: see {worker.log_path}")
                break
            if time.monotonic() - last_report >= 5:
                last_report = time.monotonic()
                elapsed = (datetime.now(UTC) - due_at).total_seconds()
                say(f"{elapsed:5.1f}s after due: {count} received")
            time.sleep(0.05)
        cpu = {
            "worker": worker.cpu_seconds() - cpu_before["worker"],
            "postgres": postgres.sample(),
            "sink": time.process_time() - cpu_before["sink"],
        }
        # Every row is marked in the transaction that sent it: wait for the last commits.
        pending = rows.filter(state=Notification.State.PENDING)
        settle = time.monotonic() + 10
        while pending.exists() and time.monotonic() < settle:
            time.sleep(0.1)
        states = dict(rows.values_list("state").annotate(n=Count("id")))
        ok = True
    finally:
        for process in processes:
            process.stop()
        sink.stop()

    first: dict[str, float] = {}
    copies: dict[str, int] = {}
    for message in sink.received():
        for address in message.recipients:
            first.setdefault(address, message.at)
            copies[address] = copies.get(address, 0) + 1
    lateness = [first[address] - due[address].timestamp() for address in due if address in first]
    missed = sum(1 for address in due if address not in first)
    duplicates = sum(n - 1 for address, n in copies.items() if address in due)
    strangers = sum(n for address, n in copies.items() if address not in due)
    seconds = max(lateness) if lateness else float("nan")
    say(f"rows by state: {states}; messages to addresses nobody was owed: {strangers}")
    say(
        f"lateness: first {min(lateness):.2f}s, p50 {statistics.median(lateness):.2f}s, "
        f"p99 {percentile(lateness, 0.99):.2f}s, last {seconds:.2f}s"
    )
    say(
        f"CPU during dispatch: worker {cpu['worker']:.1f}s, PostgreSQL {cpu['postgres']:.1f}s, "
        f"this process (SMTP sink) {cpu['sink']:.1f}s; load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}"
    )
    if ok and not args.keep_logs and not missed and not duplicates:
        shutil.rmtree(log_dir, ignore_errors=True)
    else:
        say(f"logs kept in {log_dir}")
    result = {
        "reminders": args.reminders,
        "seconds": round(seconds, 2),
        "per_second": round(args.reminders / seconds, 1) if seconds > 0 else None,
        "duplicates": duplicates,
        "missed": missed,
        "p99_lateness_s": round(percentile(lateness, 0.99), 2) if lateness else None,
        "p50_lateness_s": round(statistics.median(lateness), 2) if lateness else None,
        "concurrency": int(env.get("CELERY_CONCURRENCY", 2)),
        "worker_cpu_ms_per_reminder": round(1000 * cpu["worker"] / args.reminders, 2),
        "sink_cpu_ms_per_reminder": round(1000 * cpu["sink"] / args.reminders, 2),
        "smtp_delay_ms": args.smtp_delay_ms,
    }
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    if missed or duplicates or strangers:
        sys.exit(1)


if __name__ == "__main__":
    main()
