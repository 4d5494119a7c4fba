"""The production smoke test: the Procfile's real processes with production settings, and a scripted
client that uses the site as people do. Run with `make smoke-prod` (CI runs it after `make test`).

It needs DATABASE_URL (PostgreSQL) and the `redis-server` program: it starts its own Redis on a free
port so that it can restart it mid-call without disturbing anything else. Every step is asserted;
the last line printed is a JSON summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.mailsink import MailSink  # noqa: E402
from tests.roomclient import RoomClient  # noqa: E402

PASSWORD = "a-calm-smoke-passphrase-42"
STEPS: list[dict] = []


def say(message: str) -> None:
    print(f"[smoke-prod] {message}", flush=True)


def step(name: str):
    """Time and record one step of the run."""

    class Step:
        def __enter__(self):
            self.started = time.monotonic()
            say(f"{name} ...")
            return self

        def __exit__(self, kind, value, traceback):
            seconds = round(time.monotonic() - self.started, 2)
            STEPS.append({"step": name, "ok": kind is None, "seconds": seconds})
            say(f"{name}: {'ok' if kind is None else 'FAILED'} ({seconds}s)")
            return False

    return Step()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, message: str, every: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s: {message}")


# Processes


class Proc:
    def __init__(self, args, env, log_path, name):
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "ab")  # noqa: SIM115 (kept open for the process's lifetime)
        self.popen = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill(self, sig=signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=15)

    def stop(self):
        if self.popen.poll() is None:
            self.kill(signal.SIGTERM)
        if self.popen.poll() is None:
            self.kill(signal.SIGKILL)
        self.log.close()

    def tail(self, lines=40) -> str:
        self.log.flush()
        return "\n".join(Path(self.log_path).read_text(errors="replace").splitlines()[-lines:])


class Redis:
    """A Redis of our own, so that restarting it mid-call disturbs nobody else."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.proc = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = Proc(args, os.environ.copy(), self.workdir / "redis.log", "redis")
        wait_until(self._pong, 10, "redis to answer")

    def _pong(self):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
        return False

    def stop(self):
        if self.proc is not None:
            self.proc.stop()


def procfile_process(name, env, workdir, **extra) -> Proc:
    port = extra.get("PORT", "")
    return Proc([str(ROOT / "bin" / "proc"), name], {**env, **extra}, workdir / f"{name}{port}.log", f"{name}{port}")


# HTTP as a person


class Person:
    def __init__(self, base_url: str, email: str, name: str):
        self.email = email
        self.name = name
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=20)

    def token(self, html: str) -> str:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        assert match, "no CSRF token on the page"
        return match.group(1)

    def post_form(self, path: str, data: dict, *, page: str | None = None) -> httpx.Response:
        html = self.http.get(page or path).text
        return self.http.post(
            path,
            data={"csrfmiddlewaretoken": self.token(html), **data},
            headers={"Referer": str(self.http.base_url) + path},
        )

    @property
    def session(self) -> str:
        return self.http.cookies.get("sessionid")


def wait_message(sink: MailSink, predicate, timeout: float):
    """The first message the sink received that matches, parsed."""

    def parsed():
        return [message_from_bytes(record.content, policy=policy.default) for record in sink.received()]

    found = sink.wait_for(lambda _received: any(predicate(m) for m in parsed()), timeout=timeout)
    assert found
    return next(m for m in parsed() if predicate(m))


def sign_up(person: Person, sink: MailSink):
    response = person.post_form(
        "/accounts/signup/",
        {
            "email": person.email,
            "display_name": person.name,
            "time_zone": "Europe/Berlin",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302, f"sign-up of {person.email} answered {response.status_code}"
    message = wait_message(
        sink, lambda m: person.email in str(m["To"]) and "confirm-email" in m.get_body(("plain",)).get_content(), 30
    )
    link = re.search(r"(/accounts/confirm-email/[^\s/]+/)", message.get_body(("plain",)).get_content()).group(1)
    confirmed = person.post_form(link, {})
    assert confirmed.status_code == 302, f"confirming {person.email} answered {confirmed.status_code}"
    home = person.http.get("/")
    welcomed = f"Welcome, {person.name}" in home.text or f"Welcome back, {person.name}" in home.text
    assert welcomed or person.session, "not logged in after confirming"
    if not person.session:
        login = person.post_form("/accounts/login/", {"login": person.email, "password": PASSWORD})
        assert login.status_code == 302


def totp(secret: str) -> str:
    import base64
    import hashlib
    import hmac
    import struct

    counter = struct.pack(">Q", int(time.time()) // 30)
    digest = hmac.new(base64.b32decode(secret, casefold=True), counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def become_owner_with_two_factor(fran: Person, slug: str):
    created = fran.post_form(
        "/communities/new/",
        {
            "name": "Smoke circle",
            "slug": slug,
            "description": "",
            "visibility": "listed",
            "join_policy": "open",
            "join_question": "",
            "agreements": "Listen.\nPassing is fine.",
            "remind_day_before": "on",
            "remind_soon_before": "on",
        },
    )
    assert created.status_code == 302, f"creating the community answered {created.status_code}"
    # A new owner has a grace period: every page works and carries a banner leading to the setup.
    gate = fran.http.get(f"/c/{slug}/")
    assert gate.status_code == 200 and "/accounts/2fa/totp/activate/?next=" in gate.text, (
        "a new owner is asked to set up two-factor login"
    )
    page = fran.http.get("/accounts/2fa/totp/activate/")
    if "reauthenticate" in page.headers.get("Location", "") or page.status_code == 302:
        target = page.headers["Location"]
        reauth = fran.post_form(
            target.split("?")[0] + ("?" + target.split("?")[1] if "?" in target else ""),
            {"password": PASSWORD},
            page=target,
        )
        assert reauth.status_code == 302
        page = fran.http.get("/accounts/2fa/totp/activate/")
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', page.text) or re.search(
        r'value="([A-Z2-7]{16,})"', page.text
    )
    assert secret, "no authenticator secret on the activation page"
    activated = fran.http.post(
        "/accounts/2fa/totp/activate/",
        data={"csrfmiddlewaretoken": fran.token(page.text), "code": totp(secret.group(1))},
        headers={"Referer": str(fran.http.base_url) + "/accounts/2fa/totp/activate/"},
    )
    assert activated.status_code == 302, f"activating two-factor login answered {activated.status_code}"
    assert fran.http.get(f"/c/{slug}/").status_code == 200


def schedule_call(fran: Person, slug: str, starts_at: datetime) -> int:
    page = fran.http.get(f"/c/{slug}/calls/new/").text
    format_id = re.search(r'<select name="format"[^>]*>\s*<option value="(\d+)"', page).group(1)
    facilitator_id = re.search(r'<select name="facilitator"[^>]*>\s*<option value="(\d+)"', page).group(1)
    response = fran.post_form(
        f"/c/{slug}/calls/new/",
        {
            "title": "Smoke call",
            "day": starts_at.date().isoformat(),
            "at": starts_at.strftime("%H:%M"),
            "time_zone": "UTC",
            "duration_minutes": "60",
            "format": format_id,
            "facilitator": facilitator_id,
            "co_facilitator": "",
            "capacity": "8",
        },
    )
    assert response.status_code == 302, f"scheduling the call answered {response.status_code}"
    return int(re.search(r"/calls/(\d+)/", response.headers["Location"]).group(1))


def join_and_rsvp(member: Person, slug: str, call_id: int):
    joined = member.post_form(f"/c/{slug}/join/", {}, page=f"/c/{slug}/")
    assert joined.status_code == 302
    page = member.http.get(f"/c/{slug}/agreements/").text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    accepted = member.http.post(
        f"/c/{slug}/agreements/",
        data={"csrfmiddlewaretoken": member.token(page), "version": version, "accept": "on"},
        headers={"Referer": str(member.http.base_url) + f"/c/{slug}/agreements/"},
    )
    assert accepted.status_code == 302
    going = member.post_form(f"/calls/{call_id}/rsvp/", {"going": "yes"}, page=f"/calls/{call_id}/")
    assert going.status_code == 302
    assert "You are going." in member.http.get(f"/calls/{call_id}/").text


# The room, over WebSockets


async def run_turns(clients, *, until, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = clients[0].state
        if until(state):
            return
        speaker = state["turn"]["speaker"] if state["turn"] else None
        owner = next((c for c in clients if speaker is not None and c.me() == speaker), None)
        if owner is None or owner.closed.is_set():
            await clients[0].wait_for(lambda s, v=state["version"]: s["version"] > v, timeout=20)
            continue
        await owner.act("reflections.end" if state["phase"] == "reflections" else "turn.finish")
        await asyncio.gather(*(c.wait_for(lambda s, v=state["version"]: s["version"] > v, timeout=20) for c in clients))
    raise AssertionError("the round did not finish in time")


async def reconnect(client: RoomClient, url: str, tries: int = 40):
    """Reconnect as the room page does, until the server answers."""
    for attempt in range(tries):
        try:
            await client.connect(url)
            return
        except Exception:
            await asyncio.sleep(min(0.5 * 2**attempt, 2))
    raise AssertionError(f"{client.name} could not reconnect")


async def room_scenario(call_id, people, first, second, redis: Redis, summary):
    cookies = {p.name: f"sessionid={p.session}" for p in people}
    clients = [RoomClient(p.name, cookies[p.name], call_id) for p in people]
    fran, maya, jonas, aiko = clients
    homes = {fran.name: first, maya.name: first, jonas.name: second, aiko.name: second}
    for client in clients:
        await client.connect(homes[client.name].url)
    await asyncio.gather(*(c.wait_for(lambda s: sum(p["present"] for p in s["participants"]) == 4) for c in clients))

    with step("sockets across processes: a check-in round"):
        await fran.act("call.start")
        await asyncio.gather(*(c.wait_for(lambda s: s["status"] == "live") for c in clients))
        await fran.act("segment.next")
        await asyncio.gather(*(c.wait_for(lambda s: s["phase"] == "turn" and s["segment_index"] == 1) for c in clients))
        # Fran and Maya finish; Jonas speaks when the first process is killed.
        for speaker in (fran, maya):
            await speaker.wait_for(lambda s, me=speaker: s["turn"] and s["turn"]["speaker"] == me.me())
            version = speaker.state["version"]
            await speaker.act("turn.finish")
            await asyncio.gather(*(c.wait_for(lambda s, v=version: s["version"] > v) for c in clients))

    with step("kill one web process mid-turn; its clients move to the other"):
        before = {c.name: c.state["version"] for c in clients}
        turn = jonas.state["turn"]
        assert turn["speaker"] == jonas.me(), "Jonas should be speaking"
        first.kill(signal.SIGKILL)
        await asyncio.wait_for(asyncio.gather(fran.closed.wait(), maya.closed.wait()), 10)
        for client in (fran, maya):
            await reconnect(client, second.url)
        for client in clients:
            assert client.state["version"] >= before[client.name], "versions continue"
            assert client.state["turn"]["number"] == turn["number"], "the same turn goes on"
        await run_turns(clients, until=lambda s: s["segment_complete"] and s["segment_index"] == 1)
        summary["check_in_version"] = fran.state["version"]

    with step("restart Redis mid-round; the room is live again within 15 s"):
        await fran.act("segment.next")
        await asyncio.gather(*(c.wait_for(lambda s: s["segment_index"] == 2 and s["phase"] == "turn") for c in clients))
        restarted = time.monotonic()
        redis.stop()
        redis.start()
        # Sockets whose server lost the channel layer close; the clients come back, as browsers do.
        deadline = restarted + 15
        speaker = None
        while time.monotonic() < deadline:
            for client in clients:
                if client.closed.is_set():
                    attempt = time.monotonic()
                    try:
                        await client.connect(second.url, timeout=3)
                    except Exception as error:
                        waited = time.monotonic() - attempt
                        say(f"{client.name} could not reconnect yet ({type(error).__name__}, {waited:.1f}s)")
            speaker_id = fran.state["turn"]["speaker"] if fran.state["turn"] else None
            speaker = next((c for c in clients if c.me() == speaker_id and not c.closed.is_set()), None)
            # An earlier try may have moved the round on while some clients were still reconnecting:
            # in reflections the facilitator ends them, in a turn the speaker finishes it.
            reflecting = fran.state["phase"] == "reflections"
            if reflecting and all(not c.closed.is_set() for c in clients):
                speaker = fran
            if speaker is not None and all(not c.closed.is_set() for c in clients):
                version = max(c.state["version"] for c in clients)
                await speaker.act("reflections.end" if reflecting else "turn.finish")
                try:
                    await asyncio.wait_for(
                        asyncio.gather(
                            *(c.wait_for(lambda s, v=version: s["version"] > v, timeout=5) for c in clients)
                        ),
                        6,
                    )
                    break
                except (TimeoutError, ConnectionError):
                    errors = [m for m in speaker.messages[-5:] if m["type"] == "error"]
                    say(f"{speaker.name}'s action did not reach everyone yet {errors}")
            say(
                "waiting for the room: "
                + ", ".join(
                    f"{c.name} {'closed' if c.closed.is_set() else 'open'} v{c.state['version']}" for c in clients
                )
            )
            await asyncio.sleep(0.5)
        else:
            raise AssertionError("the room was not live again within 15 s of restarting Redis")
        summary["redis_recovery_seconds"] = round(time.monotonic() - restarted, 2)
        versions = {c.state["version"] for c in clients}
        assert len(versions) == 1, f"a client holds a stale state: {versions}"

    for client in clients:
        await client.close()
    return [c.versions for c in clients]


def turns_in_check_in(database_url: str, call_id: int) -> list[tuple[str, str]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """
            SELECT u.display_name, e.detail->>'outcome'
            FROM sharing_roomevent e
            JOIN sharing_participant p ON p.id = e.subject_id
            JOIN accounts_user u ON u.id = p.user_id
            WHERE e.room_id = %s AND e.kind = 'turn.ended' AND (e.detail->>'segment')::int = 1
            ORDER BY e.id
            """,
            [call_id],
        ).fetchall()
    return rows


def main() -> int:
    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith(("postgres://", "postgresql://")):
        say("needs DATABASE_URL pointing at PostgreSQL")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="attunement-smoke-"))
    parts = urlsplit(base_url)
    database = f"{parts.path.lstrip('/') or 'attunement'}_smoke"
    admin_url = parts._replace(path="/postgres").geturl()
    database_url = parts._replace(path=f"/{database}").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')

    redis = Redis(workdir)
    sink = MailSink()
    processes: list[Proc] = []
    summary: dict = {}
    try:
        redis.start()
        sink.start()
        web_ports = [free_port(), free_port()]
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "PYTEST")) and key not in {"REDIS_URL", "DATABASE_URL"}
        }
        env.update(
            {
                "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
                "DEBUG": "false",
                "SECRET_KEY": secrets.token_urlsafe(64),
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "SITE_URL": f"http://127.0.0.1:{web_ports[0]}",
                "SECURE_SSL_REDIRECT": "false",
                "SECURE_COOKIES": "false",
                "SECURE_HSTS_SECONDS": "0",
                "DATABASE_URL": database_url,
                "DATABASE_POOL_MAX_SIZE": "4",
                "REDIS_URL": redis.url,
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(sink.port),
                "DEFAULT_FROM_EMAIL": "Attunement <smoke@localhost>",
                "REMINDER_SOON_MINUTES": "9",
                "NOTIFICATIONS_EVERY_SECONDS": "2",
                "METRICS_TOKEN": "smoke-metrics-token",
                "STATIC_ROOT": str(workdir / "static"),
                "VAR_DIR": str(workdir / "var"),
                "CELERY_BEAT_SCHEDULE_FILE": str(workdir / "celerybeat-schedule"),
                "LOG_FORMAT": "json",
            }
        )
        with step("migrate and collect static files"):
            subprocess.run([str(ROOT / "bin" / "proc"), "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
            subprocess.run(
                [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "collectstatic", "--noinput"],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
            )
        with step("start two web processes, a worker and a beat"):
            first = procfile_process("web", env, workdir, HOST="127.0.0.1", PORT=str(web_ports[0]))
            second = procfile_process("web", env, workdir, HOST="127.0.0.1", PORT=str(web_ports[1]))
            processes += [
                first,
                second,
                procfile_process("worker", env, workdir),
                procfile_process("beat", env, workdir),
            ]
            first.url, second.url = (f"http://127.0.0.1:{port}" for port in web_ports)
            for web in (first, second):
                wait_until(lambda web=web: _healthy(web.url), 60, f"{web.name} to be healthy")

        people = [
            Person(first.url, "fran@smoke.example", "Fran"),
            Person(second.url, "maya@smoke.example", "Maya"),
            Person(first.url, "jonas@smoke.example", "Jonas"),
            Person(second.url, "aiko@smoke.example", "Aiko"),
        ]
        fran, *members = people
        with step("sign up four people, confirming their addresses from the emails"):
            for person in people:
                sign_up(person, sink)
        slug = "smoke-circle"
        starts_at = (datetime.now(UTC) + timedelta(minutes=10)).replace(second=0, microsecond=0)
        with step("create a community (with two-factor login for its owner) and a call"):
            become_owner_with_two_factor(fran, slug)
            call_id = schedule_call(fran, slug, starts_at)
            for member in members:
                join_and_rsvp(member, slug, call_id)
        summary["call_starts_at"] = starts_at.isoformat()

        with step("the reminder before the call arrives over SMTP"):
            for member in members:
                message = wait_message(
                    sink, lambda m, e=member.email: e in str(m["To"]) and "In " in str(m["Subject"]), 180
                )
                assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
                assert any(part.get_content_type() == "text/calendar" for part in message.walk())
            summary["reminders"] = len(members)

        versions = asyncio.run(room_scenario(call_id, people, first, second, redis, summary))
        with step("no turn lost or doubled, and no client went back"):
            turns = turns_in_check_in(database_url, call_id)
            finished = sorted(name for name, outcome in turns if outcome in {"finished", "timeout"})
            assert finished == ["Aiko", "Fran", "Jonas", "Maya"], f"turns in the check-in round: {turns}"
            for history in versions:
                assert history == sorted(set(history)), "a client's versions went back"

        with step("health and metrics"):
            # Redis was restarted a moment ago: the channel layer's blocking read may still sit on a
            # dead connection until its health check replaces it. Healthy again within 30 s.
            healthy_by = time.monotonic() + 30
            health = httpx.get(f"{second.url}/healthz", timeout=10)
            while health.status_code != 200 and time.monotonic() < healthy_by:
                time.sleep(1)
                health = httpx.get(f"{second.url}/healthz", timeout=10)
            assert health.status_code == 200, health.text
            metrics = httpx.get(
                f"{second.url}/metrics", headers={"Authorization": "Bearer smoke-metrics-token"}, timeout=10
            )
            assert metrics.status_code == 200
            for name in ("attunement_open_sockets", "attunement_live_rooms", "attunement_turn_advances_total"):
                assert name in metrics.text, name
            assert httpx.get(f"{second.url}/metrics", timeout=10).status_code == 401
        ok = True
    except Exception as error:
        ok = False
        say(f"FAILED: {type(error).__name__}: {error}")
        for proc in processes:
            say(f"--- last lines of {proc.name} ---\n{proc.tail()}")
    finally:
        for proc in processes:
            proc.stop()
        redis.stop()
        sink.stop()
    print(json.dumps({"ok": ok, "steps": STEPS, **summary}))
    return 0 if ok else 1


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    sys.exit(main())
