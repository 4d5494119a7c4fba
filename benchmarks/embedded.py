"""The embedded default left running: `make run` for N minutes with a reminder falling due every minute.

    make bench-embedded                                 # 15 minutes
    BENCH_ARGS="--minutes 3" make bench-embedded

`make run` starts with no DATABASE_URL and no REDIS_URL in a scratch VAR_DIR: SQLite, the SQLite
broker and bin/supervise.py, as a person trying the project would run it, with email going to a
local SMTP sink (tests/mailsink.py). Every minute a call is created that starts 2.5 minutes later,
with one person going, so that their "soon" reminder (2 minutes before) falls due half a minute
later. /healthz is asked every 5 seconds. The last line is the JSON result; the exit status is 1
if a process crashed, the site stopped answering, or a reminder was missed or sent twice.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.mailsink import MailSink
from tests.processes import EmbeddedRun, processes_of

SOON_MINUTES = 2
ONE_CALL = """
from datetime import timedelta
from django.utils import timezone
from accounts.models import User
from groups.demo import SLUG
from groups.models import Call, Community
from groups.services.rsvps import rsvp_set

community = Community.objects.get(slug=SLUG)
User.objects.exclude(email="member1@example.com").update(reminders=User.Reminders.NONE)
member = User.objects.get(email="member1@example.com")
User.objects.filter(pk=member.pk).update(reminders=User.Reminders.SOON)
member.refresh_from_db()
template = Call.objects.filter(community=community).first()
starts_at = timezone.now().replace(microsecond=0) + timedelta(minutes={soon}, seconds=30)
call = Call.objects.create(
    community=community, format=template.format, facilitator=template.facilitator,
    title="{title}", starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30),
    time_zone="Europe/Berlin", capacity=8,
)
rsvp_set(call_id=call.pk, user=member, going=True)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=15)
    args = parser.parse_args()

    titles: list[str] = []
    down: list[float] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-embedded-") as scratch, MailSink() as sink:
        run = EmbeddedRun(
            Path(scratch),
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(sink.port),
            EMAIL_USE_TLS="false",
            EMAIL_USE_SSL="false",
            NOTIFICATIONS_EVERY_SECONDS="10",
            REMINDER_SOON_MINUTES=str(SOON_MINUTES),
        )
        try:
            run.wait_up()
            up_at = time.monotonic()
            print(f"[bench-embedded] up after {up_at - started:.1f}s; running {args.minutes:g} minutes", flush=True)
            next_call = up_at
            while time.monotonic() < up_at + args.minutes * 60:
                if time.monotonic() >= next_call:
                    title = f"Soak call {len(titles) + 1}"
                    run.manage("shell", "-c", ONE_CALL.replace("{soon}", str(SOON_MINUTES)).replace("{title}", title))
                    titles.append(title)
                    next_call += 60
                if not run.healthy():
                    down.append(time.monotonic() - up_at)
                time.sleep(5)
            # The last call's reminder is due 30 s after it was created; give it a dispatch or two more.
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and len(sink.received()) < len(titles):
                time.sleep(2)
            time.sleep(15)
            received = sink.received()
            log = run.log()
            alive = len(processes_of(run.run_id))
        finally:
            run.stop()

    per_title = Counter()
    for message in received:
        for title in re.findall(rb"Soak call \d+", message.content or b""):
            per_title[title.decode()] += 1
            break
    missed = [title for title in titles if per_title[title] == 0]
    duplicated = {title: count for title, count in per_title.items() if count > 1}
    restarts = re.findall(r"run-embedded: (\w+) (?:was killed by signal \d+|exited with code -?\d+)", log)
    result = {
        "benchmark": "embedded",
        "minutes": args.minutes,
        "reminders_due": len(titles),
        "received": len(received),
        "missed": len(missed),
        "duplicated": sum(count - 1 for count in duplicated.values()),
        "restarts": restarts,
        "unrecoverable_errors": log.count("Unrecoverable error"),
        "healthz_failures": len(down),
        "processes_alive_during_run": alive,
    }
    ok = not missed and not duplicated and not restarts and not result["unrecoverable_errors"] and not down
    print(json.dumps(result))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
