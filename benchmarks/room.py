"""Live rooms under load: R rooms of 8 sockets on two real server processes, PostgreSQL and Redis.

    DATABASE_URL=postgres://... REDIS_URL=redis://... make bench-room
    DATABASE_URL=... REDIS_URL=... make bench-room BENCH_ARGS="--rooms 20 --seconds 20"

It refuses SQLite and a missing REDIS_URL: neither can stand for production. It seeds a database of
its own (<configured name>_bench_room: emptied, migrated and seeded on every run) with R calls about
to start, each with a facilitator and 7 members who RSVP'd going, and one Django session per person.
It starts the Procfile's `web` process twice (bin/proc web, DEBUG off) and opens 8 sockets per room,
half on each process, so that every broadcast crosses Redis. Each socket pings every 8 s as the room
page does. Then, from this one asyncio process:

1. steady: turn changes at --rate per second over all rooms (call.start first, unmeasured; then
   turn.finish from the speaker's socket, segment.next or turn.give from the facilitator's), and
   the time from sending each to the moment all 8 sockets of the room have the new version;
2. burst: every room's turn deadline set to the same second through the ORM; at it every socket
   sends a `tick` (as browsers do, within 400 ms) and the time from the deadline to all 8 sockets
   having the advanced snapshot is measured per room; a room that advances twice is reported;
3. lost: per socket, versions never received between the start of the measurement and the room's
   last version; failed handshakes; server RSS growth per socket (VmRSS of both process trees);
4. quiet: --quiet-seconds with no actions while every socket keeps pinging; the participant rows
   PostgreSQL updates meanwhile (pg_stat_user_tables) are the presence writes;
5. baseline: the same fan-out and rate through a bare Channels consumer (benchmarks/baseline_asgi.py)
   on two uvicorn processes with the Procfile's flags, for the overhead ratio.

Progress lines show CPU use per phase (this client, each server, PostgreSQL, Redis). The last line
printed is one JSON object with the results: besides latencies and losses, overhead_ratio_p50 and
_p99 (against the baseline), server_cpu_ms_per_change (both servers' CPU in the steady phase over
the turn changes delivered), presence_writes_per_room_per_10s (the quiet phase),
rooms_advanced_more_than_once (the burst) and seconds_total (the whole run, seeding included).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import resource
import secrets
import shutil
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from benchmarks import room_seed, wsclients
from benchmarks.servers import ROOT, SecondRedis, Server, cpu_by_name, machine_busy
from benchmarks.wsclients import Group, Sock, Stats, percentile

BURST_TIMEOUT = 30.0


def say(message: str) -> None:
    print(f"[bench-room] {message}", flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks.room", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=500, help="rooms of 8 sockets (default 500)")
    parser.add_argument("--rate", type=float, default=60, help="turn changes per second over all rooms (60)")
    parser.add_argument("--seconds", type=float, default=60, help="length of the steady phase (60)")
    parser.add_argument("--ping-every", type=float, default=8, help="seconds between a socket's pings (8, as browsers)")
    parser.add_argument("--connect-concurrency", type=int, default=32, help="handshakes in flight at once (32)")
    parser.add_argument("--pool-size", type=int, default=8, help="DATABASE_POOL_MAX_SIZE per server process (8)")
    parser.add_argument("--compression", choices=["deflate", "none"], default="deflate", help="as browsers: deflate")
    parser.add_argument(
        "--one-port",
        action="store_true",
        help="one server with WEB_WORKERS=2 on one port, instead of two processes on two ports",
    )
    parser.add_argument(
        "--layer", choices=["lists", "pubsub"], default="lists", help="channel layer kind (CHANNEL_LAYER_KIND)"
    )
    parser.add_argument(
        "--second-redis",
        action="store_true",
        help="start a second redis-server and shard the channel layer over both (CHANNEL_REDIS_HOSTS)",
    )
    parser.add_argument(
        "--quiet-seconds", type=float, default=20, help="a phase with no actions, to count presence writes (20)"
    )
    parser.add_argument("--burst-lead", type=float, default=3, help="seconds from setting the deadlines to them")
    parser.add_argument("--baseline-seconds", type=float, default=None, help="baseline length (default --seconds)")
    parser.add_argument(
        "--redis-db",
        type=int,
        default=13,
        help="Redis database number for this run's channel layer and cache (13): test suites flush the configured one",
    )
    parser.add_argument("--skip-baseline", action="store_true", help="for debugging: no baseline, no ratio")
    parser.add_argument("--keep-logs", action="store_true", help="keep the server logs after a good run")
    args = parser.parse_args(argv)
    if args.rooms < 1 or args.rate <= 0 or args.seconds <= 0:
        parser.error("--rooms, --rate and --seconds must be positive")
    return args


def require_production_services() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(
            "bench-room refuses to run without PostgreSQL: set DATABASE_URL=postgres://... "
            "(SQLite, the embedded default, has one writer at a time and no row locks: it cannot stand "
            "for production, so its numbers would mean nothing)."
        )
    if not os.environ.get("REDIS_URL"):
        raise SystemExit(
            "bench-room refuses to run without REDIS_URL: without Redis each process has its own "
            "in-memory channel layer, and sockets on two processes would never hear each other's broadcasts."
        )


def raise_file_limit(sockets: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 4 * sockets + 1024)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < sockets + 1024:
        raise SystemExit(f"RLIMIT_NOFILE allows {wanted} open files; {sockets} sockets need more (ulimit -Hn)")


def bench_redis_url(url: str, db: int) -> str:
    """The configured Redis server, with a database of the benchmark's own: tests that run meanwhile call
    cache.clear() (FLUSHDB) on theirs, which would empty the channel layer's groups in the middle of a run."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


def server_environment(database_url: str, log_dir: Path, args) -> tuple[dict[str, str], str]:
    prefix = f"bench-room-{os.getpid()}-"
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(
        {
            "DATABASE_URL": database_url,
            "DATABASE_POOL_MAX_SIZE": str(args.pool_size),
            "REDIS_URL": bench_redis_url(os.environ["REDIS_URL"], args.redis_db),
            "DEBUG": "false",  # production: no query log, no debug pages
            "SECRET_KEY": os.environ["SECRET_KEY"],  # the sessions were signed with it
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",  # plain HTTP on 127.0.0.1; only /healthz is HTTP here
            "CHANNEL_LAYER_PREFIX": prefix,  # this run's own keys in a Redis others may share
            "CHANNEL_LAYER_KIND": getattr(args, "layer", "lists"),  # the room's and the baseline's
            "WEB_WORKERS": "2" if getattr(args, "one_port", False) else "1",
            "VAR_DIR": str(log_dir),
            "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        }
    )
    return env, prefix


# Resource use per phase


class Usage:
    def __init__(self, servers: list[Server]):
        own = resource.getrusage(resource.RUSAGE_SELF)
        self.wall = time.perf_counter()
        self.client = own.ru_utime + own.ru_stime
        self.servers = [server.cpu_seconds() for server in servers]
        self.postgres = cpu_by_name("postgres")
        self.redis = cpu_by_name("redis-server")
        self.busy, self.total = machine_busy()

    def since(self, before: Usage) -> dict:
        wall = self.wall - before.wall
        share = lambda seconds: round(100 * seconds / wall) if wall > 0 else 0  # noqa: E731
        return {
            "seconds": round(wall, 1),
            "client": share(self.client - before.client),
            "servers": [share(a - b) for a, b in zip(self.servers, before.servers, strict=True)],
            "postgres": share(self.postgres - before.postgres),
            "redis": share(self.redis - before.redis),
            "machine": round(100 * (self.busy - before.busy) / max(1, self.total - before.total)),
        }


def report_usage(phase: str, before: Usage, servers: list[Server]) -> dict:
    used = Usage(servers).since(before)
    say(
        f"CPU during {phase} ({used['seconds']}s), % of one core: client {used['client']}, "
        f"servers {' + '.join(str(s) for s in used['servers'])}, PostgreSQL {used['postgres']}, "
        f"Redis {used['redis']}; machine {used['machine']}% busy (of {os.cpu_count()} cores); "
        f"load {' '.join(Path('/proc/loadavg').read_text().split()[:3])}"
    )
    return used


# The room


def room_action(group: Group) -> tuple[Sock, dict] | None:
    """The next turn change this room can make, from its newest snapshot, and the socket that asks."""
    state = group.state
    if state is None:
        return None
    facilitator = group.socks[0]
    version = state["version"]
    status, phase = state["status"], state["phase"]
    if status == "lobby":
        return facilitator, {"type": "call.start", "version": version}
    if status != "live":
        return None
    if phase == "turn":
        speaker = group.by_participant.get(state["turn"]["speaker"])
        turn = state["turn"]["number"]
        return (speaker, {"type": "turn.finish", "version": version, "turn": turn}) if speaker else None
    if phase == "between":
        index, segments = state["segment_index"], state["segments"]
        if state["segment_complete"]:
            if index + 1 >= len(segments):
                return None  # the agenda is over
            return facilitator, {"type": "segment.next", "version": version, "segment": index}
        if segments[index]["kind"] == "open":  # open sharing, nobody speaking: give someone the floor
            here = [p["id"] for p in state["participants"] if p["present"] and p["state"] == "admitted"]
            if not here:
                return None
            group.counter += 1
            return facilitator, {
                "type": "turn.give",
                "version": version,
                "participant": here[group.counter % len(here)],
            }
        return None
    if phase == "grounding":
        return facilitator, {"type": "segment.next", "version": version}
    if phase == "reflections":
        return facilitator, {"type": "reflections.end", "version": version}
    return None


async def act_room(group: Group, now: float) -> bool:
    chosen = room_action(group)
    if chosen is None:
        return False
    sock, message = chosen
    group.expect(message["version"] + 1, message["type"], now)
    if not await sock.send(json.dumps(message, separators=(",", ":"))):
        group.pending = False
        return False
    return True


async def run_once(groups: list[Group], act, in_flight: int, timeout: float = 60) -> int:
    """One action per group (those that can act), at most `in_flight` at a time; wait for them."""

    def busy() -> int:
        now = time.perf_counter()
        count = 0
        for g in groups:
            if g.pending and now - g.sent_at > wsclients.ACTION_TIMEOUT:
                g.pending = False
                g.stats.timeouts += 1
            elif g.pending:
                count += 1
        return count

    acted = 0
    for group in groups:
        while busy() >= in_flight:
            await asyncio.sleep(0.01)
        if await act(group, time.perf_counter()):
            acted += 1
    await wsclients.settle(groups, timeout)
    for group in groups:
        if group.pending:
            group.pending = False
            group.stats.timeouts += 1
    return acted


async def progress(label: str, socks: list[Sock], total: int, stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 5)
        if not stop.is_set():
            opened = sum(1 for s in socks if s.ready.done() and s.ready.result())
            failed = sum(1 for s in socks if s.ready.done() and not s.ready.result())
            say(f"  {label}: {opened}/{total} open, {failed} failed")


async def connect_all(socks: list[Sock], url_for, *, handler, headers_for, origin_for, args, wait_first: bool):
    limit = asyncio.Semaphore(args.connect_concurrency)
    compression = None if args.compression == "none" else "deflate"
    stop = asyncio.Event()
    reporter = asyncio.create_task(progress("connecting", socks, len(socks), stop))
    started = time.perf_counter()
    results = await asyncio.gather(
        *(
            wsclients.open_socket(
                sock,
                url_for(sock),
                handler=handler,
                origin=origin_for(sock),
                headers=headers_for(sock),
                compression=compression,
                limit=limit,
                wait_first=wait_first,
            )
            for sock in socks
        )
    )
    stop.set()
    await reporter
    failed = [sock for sock, ok in zip(socks, results, strict=True) if not ok]
    say(f"opened {len(socks) - len(failed)} of {len(socks)} sockets in {time.perf_counter() - started:.1f}s")
    reasons: dict[str, int] = {}
    for sock in failed:
        reason = (sock.error or "?")[:120]
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1])[:5]:
        say(f"  failed x{count}: {reason}")
    return failed


async def wait_for_everyone(groups: list[Group], timeout: float) -> int:
    """Until every room's facilitator sees all 8 admitted and present, and every socket has the same version."""
    deadline = time.perf_counter() + timeout

    def settled(group: Group) -> bool:
        state = group.state
        if state is None or len(state["participants"]) < len(group.socks):
            return False
        if not all(p["present"] and p["state"] == "admitted" for p in state["participants"]):
            return False
        return len({s.max_version for s in group.socks}) == 1

    while time.perf_counter() < deadline:
        if all(settled(group) for group in groups):
            return 0
        await asyncio.sleep(0.1)
    return sum(1 for group in groups if not settled(group))


def lost_snapshots(groups: list[Group]) -> tuple[int, int, int]:
    missing = expected = 0
    for group in groups:
        m, e = group.lost()
        missing += m
        expected += e
    out_of_order = sum(s.out_of_order for g in groups for s in g.socks)
    return missing, expected, out_of_order


async def burst(groups: list[Group], call_ids: list[int], args, servers: list[Server]) -> dict:
    """Every room's turn runs out in the same second; every socket nudges at it, as browsers do."""
    loop = asyncio.get_running_loop()
    prep = Stats()
    for group in groups:
        group.stats = prep
    not_in_turn = [g for g in groups if g.state is None or g.state["phase"] != "turn"]
    if not_in_turn:
        await run_once(not_in_turn, act_room, in_flight=32)
        say(f"burst: moved {len(not_in_turn)} rooms that were between rounds into a turn")
    deadline_at = math.ceil(time.time() + args.burst_lead)
    deadline = datetime.fromtimestamp(deadline_at, tz=UTC)
    changed = await asyncio.to_thread(room_seed.set_deadlines, call_ids, deadline)
    say(f"burst: {changed} rooms' turns now end at {deadline:%H:%M:%S} UTC; every socket ticks then")
    deadline_perf = time.perf_counter() + (deadline_at - time.time())
    results: dict[int, float] = {}

    def complete(group: Group, now: float) -> None:
        results[group.index] = now - deadline_perf

    bases = {}
    for group in groups:
        bases[group.index] = group.version
        group.on_complete = complete
        group.expect(group.version + 1, "burst", deadline_perf)

    sends: set[asyncio.Task] = set()

    def nudge(sock: Sock, version: int) -> None:
        task = asyncio.ensure_future(sock.send(f'{{"type":"tick","version":{version}}}'))
        sends.add(task)
        task.add_done_callback(sends.discard)

    for group in groups:
        for sock in group.socks:
            delay = deadline_at - time.time() + random.random() * 0.4  # as the room page: within 400 ms
            loop.call_later(delay, nudge, sock, bases[group.index])
    before = Usage(servers)
    await asyncio.sleep(max(0.0, deadline_at - time.time()))
    waited = time.perf_counter()
    while len(results) < len(groups) and time.perf_counter() - waited < BURST_TIMEOUT:
        await asyncio.sleep(0.02)
    await asyncio.sleep(2)  # time for a second advance to show, if there were one
    report_usage("the burst", before, servers)
    for group in groups:
        group.on_complete = None
        group.pending = False
    advances = {group.index: group.version - bases[group.index] for group in groups}
    twice = sorted(groups[index].key for index, count in advances.items() if count > 1)
    never = sorted(groups[index].key for index, count in advances.items() if count < 1)
    latencies = [results.get(group.index, BURST_TIMEOUT) for group in groups]
    say(
        f"burst: {len(results)}/{len(groups)} rooms advanced and delivered; from the deadline to all 8 sockets: "
        f"p50 {1000 * percentile(latencies, 50):.0f} ms, p99 {1000 * percentile(latencies, 99):.0f} ms, "
        f"max {1000 * max(latencies):.0f} ms"
    )
    if twice:
        say(f"burst: {len(twice)} rooms advanced more than once (calls {twice[:20]})")
    else:
        say("burst: no room advanced more than once")
    if never:
        say(f"burst: {len(never)} rooms did not advance (calls {never[:20]})")
    return {"p99_ms": 1000 * percentile(latencies, 99), "twice": twice, "never": never}


def participant_writes() -> int:
    """Rows PostgreSQL has updated in the participants' table since its statistics began."""
    import psycopg

    with psycopg.connect(os.environ["BENCH_DATABASE_URL"]) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute("SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'sharing_participant'").fetchone()
    return int(row[0]) if row else 0


async def quiet_phase(args, rooms: int, servers: list[Server]) -> float | None:
    """Nobody acts, arrives or leaves for --quiet-seconds while every socket keeps pinging: each
    write to a participant row meanwhile is presence bookkeeping (or a deadline the room reached on
    its own, which the seeded long turns make rare). Returns writes per room per 10 seconds."""
    if args.quiet_seconds <= 0:
        return None
    # The burst's last writes reach the statistics: an idle PostgreSQL backend reports its counts
    # up to 10 s late (PGSTAT_IDLE_INTERVAL), and would have them counted as presence writes.
    await asyncio.sleep(12)
    before = await asyncio.to_thread(participant_writes)
    started = time.perf_counter()
    usage = Usage(servers)
    await asyncio.sleep(args.quiet_seconds)
    report_usage("the quiet phase (pings alone)", usage, servers)
    await asyncio.sleep(1)  # PostgreSQL reports a session's counts at most once a second
    writes = await asyncio.to_thread(participant_writes) - before
    seconds = time.perf_counter() - started
    per_room = writes / max(1, rooms) / (seconds / 10)
    say(f"quiet: {writes} participant rows written in {seconds:.0f}s, {per_room:.2f} per room per 10 s")
    return per_room


async def run_room(args, seeded: list[room_seed.SeededRoom], servers: list[Server]) -> dict:
    stats = Stats()
    warm = Stats()
    groups: list[Group] = []
    for index, room in enumerate(seeded):
        group = Group(index, room.call_id, warm)
        # Half of each room on each process, alternating, so every broadcast crosses Redis.
        group.socks = [Sock(group, seat, (seat + index) % len(servers)) for seat in range(len(room.sessions))]
        groups.append(group)
    socks = [sock for group in groups for sock in group.socks]
    sessions = {id(sock): seeded[sock.group.index].sessions[sock.seat] for sock in socks}
    rss_before = [server.rss_kib() for server in servers]
    say(f"server RSS before connecting: {' + '.join(f'{kib / 1024:.0f} MiB' for kib in rss_before)}")

    stop_pings = asyncio.Event()
    pings = asyncio.create_task(wsclients.pinger(socks, args.ping_every, stop_pings))
    try:
        before = Usage(servers)
        failed = await connect_all(
            socks,
            lambda s: f"{servers[s.server].ws_url}/ws/calls/{s.group.key}/",
            handler=wsclients.on_room_message,
            headers_for=lambda s: {"Cookie": f"sessionid={sessions[id(s)]}"},
            origin_for=lambda s: servers[s.server].origin,
            args=args,
            wait_first=True,
        )
        report_usage("connecting", before, servers)
        unsettled = await wait_for_everyone(groups, 60)
        if unsettled:
            say(f"{unsettled} rooms still do not show all 8 people present after 60 s")
        rss_after = [server.rss_kib() for server in servers]
        opened = len(socks) - len(failed)
        growth = sum(rss_after) - sum(rss_before)
        rss_per_socket = growth / opened if opened else None
        say(
            f"server RSS with {opened} sockets: {' + '.join(f'{kib / 1024:.0f} MiB' for kib in rss_after)}; "
            f"growth {growth / 1024:.0f} MiB, {rss_per_socket or 0:.0f} KiB per socket"
        )

        before = Usage(servers)
        started = time.perf_counter()
        await run_once(groups, act_room, in_flight=32)
        live = sum(1 for g in groups if g.state and g.state["status"] == "live")
        say(
            f"warm-up: call.start in {live}/{len(groups)} rooms in {time.perf_counter() - started:.1f}s "
            f"(p50 {1000 * (percentile(warm.latencies, 50) or 0):.0f} ms); errors {warm.errors or 'none'}, "
            f"timeouts {warm.timeouts}"
        )
        report_usage("the warm-up", before, servers)

        for group in groups:
            group.stats = stats
            group.base_version = group.version
            for sock in group.socks:
                sock.recording = True
        say(f"steady: {args.rate:g} turn changes per second over {len(groups)} rooms for {args.seconds:g}s")
        before = Usage(servers)
        await wsclients.drive(groups, act_room, args.rate, args.seconds, stats, say)
        still = await wsclients.settle(groups, 10)
        steady_usage = report_usage("the steady phase", before, servers)
        steady_server_cpu = sum(Usage(servers).servers) - sum(before.servers)
        p50, p99 = percentile(stats.latencies, 50), percentile(stats.latencies, 99)
        say(
            f"steady: {stats.sent} actions sent ({stats.sent / args.seconds:.1f}/s), {len(stats.latencies)} delivered "
            f"to all 8 sockets; p50 {1000 * (p50 or 0):.1f} ms, p99 {1000 * (p99 or 0):.1f} ms, "
            f"max {1000 * max(stats.latencies, default=0):.1f} ms; skipped slots {stats.skipped_slots}, "
            f"timeouts {stats.timeouts}, still in flight {still}, errors {stats.errors or 'none'}"
        )

        burst_result = await burst(groups, [g.key for g in groups], args, servers)
        presence_writes = await quiet_phase(args, len(groups), servers)

        missing, expected, out_of_order = lost_snapshots(groups)
        dropped = sum(1 for s in socks if s.closed_code is not None and s.ready.done() and s.ready.result())
        states = sum(s.states for s in socks)
        mean_state = sum(s.state_bytes for s in socks) / max(1, states)
        say(
            f"snapshots: {missing} of {expected} never arrived, {out_of_order} arrived out of order; "
            f"{dropped} sockets closed during the run; mean state message {mean_state:.0f} bytes"
        )
        if stats.patches:
            n = stats.patches
            say(
                f"patch or whole snapshot, over {n} changes seen by one socket per room: whole "
                f"{stats.whole_bytes / n:.0f} bytes ({stats.whole_deflated / n:.0f} deflated), "
                f"patch {stats.patch_bytes / n:.0f} bytes ({stats.patch_deflated / n:.0f} deflated)"
            )
        if dropped:
            codes: dict[str, int] = {}
            for sock in socks:
                if sock.closed_code is not None:
                    codes[sock.error or "?"] = codes.get(sock.error or "?", 0) + 1
            say(f"  closed: {codes}")
        for trace in wsclients.READER_ERRORS[:3]:
            say(f"client bug in a message handler:\n{trace}")
        rss_end = [server.rss_kib() for server in servers]
        say(f"server RSS at the end: {' + '.join(f'{kib / 1024:.0f} MiB' for kib in rss_end)}")
    finally:
        stop_pings.set()
        await pings
        await wsclients.close_all(socks)
    return {
        "sockets": len(socks),
        "p50_ms": None if p50 is None else 1000 * p50,
        "p99_ms": None if p99 is None else 1000 * p99,
        "lost": missing,
        "failed_connects": len(failed),
        "burst_p99_ms": burst_result["p99_ms"],
        "rooms_advanced_more_than_once": len(burst_result["twice"]),
        "server_cpu_ms_per_change": 1000 * steady_server_cpu / len(stats.latencies) if stats.latencies else None,
        "presence_writes_per_room_per_10s": presence_writes,
        "rss_kib_per_socket": rss_per_socket,
        "mean_state_bytes": mean_state,
        "whole_deflated_bytes": stats.whole_deflated / stats.patches if stats.patches else None,
        "patch_bytes": stats.patch_bytes / stats.patches if stats.patches else None,
        "patch_deflated_bytes": stats.patch_deflated / stats.patches if stats.patches else None,
        "client_cpu": steady_usage["client"],
        "anomalies": bool(failed or missing or dropped or stats.errors or stats.timeouts or burst_result["twice"]),
    }


# The baseline


async def run_baseline(args, servers: list[Server], message_bytes: int) -> dict:
    stats = Stats()
    warm = Stats()
    tag = secrets.token_hex(4)
    groups = []
    for index in range(args.rooms):
        group = Group(index, f"{tag}-{index}", warm)
        group.socks = [Sock(group, seat, (seat + index) % len(servers)) for seat in range(room_seed.PEOPLE_PER_ROOM)]
        groups.append(group)
    socks = [sock for group in groups for sock in group.socks]
    pad = "x" * max(0, message_bytes - 20)  # as large as the room's mean state message

    async def act(group: Group, now: float) -> bool:
        version = group.version + 1
        sock = group.socks[group.counter % len(group.socks)]
        group.counter += 1
        group.expect(version, "relay", now)
        if not await sock.send(f'{{"v":{version},"pad":"{pad}"}}'):
            group.pending = False
            return False
        return True

    try:
        failed = await connect_all(
            socks,
            lambda s: f"{servers[s.server].ws_url}/ws/baseline/{s.group.key}/",
            handler=wsclients.on_baseline_message,
            headers_for=lambda s: None,
            origin_for=lambda s: servers[s.server].origin,
            args=args,
            wait_first=False,
        )
        await asyncio.sleep(1)  # group_add has returned before accept, but let the layer settle
        await run_once(groups, act, in_flight=32)
        for group in groups:
            group.stats = stats
            group.base_version = group.version
            for sock in group.socks:
                sock.recording = True
        seconds = args.baseline_seconds or args.seconds
        say(f"baseline: {args.rate:g} relays per second over {len(groups)} groups for {seconds:g}s")
        before = Usage(servers)
        await wsclients.drive(groups, act, args.rate, seconds, stats, say)
        still = await wsclients.settle(groups, 10)
        report_usage("the baseline", before, servers)
        missing, expected, out_of_order = lost_snapshots(groups)
        p50, p99 = percentile(stats.latencies, 50), percentile(stats.latencies, 99)
        say(
            f"baseline: {stats.sent} sent, {len(stats.latencies)} delivered to all 8; p50 {1000 * (p50 or 0):.1f} ms, "
            f"p99 {1000 * (p99 or 0):.1f} ms, max {1000 * max(stats.latencies, default=0):.1f} ms; "
            f"{len(failed)} failed connects, {missing}/{expected} lost, {out_of_order} out of order, "
            f"timeouts {stats.timeouts}, still in flight {still}"
        )
    finally:
        await wsclients.close_all(socks)
    return {"p50_ms": None if p50 is None else 1000 * p50, "p99_ms": None if p99 is None else 1000 * p99}


def run_async(coroutine):
    """Run one phase on uvloop; SIGINT or SIGTERM cancels it, so that its sockets close, then interrupts."""
    interrupted = []

    async def guarded():
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()

        def stop():
            interrupted.append(True)
            task.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
        try:
            return await coroutine
        except asyncio.CancelledError:
            if interrupted:
                return None
            raise
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    try:
        import uvloop
    except ImportError:
        result = asyncio.run(guarded())
    else:
        result = uvloop.run(guarded())
    signal.signal(signal.SIGTERM, _interrupt)  # the loop put back the default handlers
    if interrupted:
        raise KeyboardInterrupt
    return result


def start_servers(env: dict[str, str], log_dir: Path, started: list[Server], **kwargs) -> list[Server]:
    """Two web processes on two ports; with WEB_WORKERS=2 in env, one server of two processes on one port."""
    servers = []
    for _ in range(1 if env.get("WEB_WORKERS") == "2" else 2):
        server = Server(env, log_dir, **kwargs)
        started.append(server)
        servers.append(server)
    for server in servers:
        server.wait_ready()
        if server.health != 200:
            say(f"warning: {server.url}/healthz answered {server.health}")
    ports = ", ".join(str(s.port) for s in servers)
    say(f"servers ready on ports {ports} (pids {', '.join(str(s.pid) for s in servers)})")
    return servers


def commands_processed(url: str) -> int:
    import redis

    client = redis.Redis.from_url(url)
    try:
        return int(client.info("stats")["total_commands_processed"])
    finally:
        client.close()


def clean_redis(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def single_run() -> None:
    """Refuse to start while another run is going: both would empty and seed the same database."""
    import fcntl

    lock = open(Path(tempfile.gettempdir()) / "bench-room.lock", "w")  # noqa: SIM115 (held until exit)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit("another bench-room run is going on this machine; wait for it to finish") from None
    single_run.lock = lock


def main(argv=None) -> None:
    began = time.perf_counter()
    args = parse_args(argv)
    require_production_services()
    single_run()
    raise_file_limit(args.rooms * room_seed.PEOPLE_PER_ROOM)
    signal.signal(signal.SIGTERM, _interrupt)
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))  # signs the sessions; the servers share it
    say(f"{args.rooms} rooms x {room_seed.PEOPLE_PER_ROOM} sockets, {args.rate:g} turn changes/s, {args.seconds:g}s")
    database_url = room_seed.configure(say)
    os.environ["BENCH_DATABASE_URL"] = database_url
    seeded = room_seed.prepare(args.rooms, say)

    log_dir = Path(tempfile.mkdtemp(prefix="bench-room-"))
    env, prefix = server_environment(database_url, log_dir, args)
    second = None
    if args.second_redis:
        second = SecondRedis(log_dir / "redis-second.log")
        env["CHANNEL_REDIS_HOSTS"] = f"{env['REDIS_URL']},{second.url}"
    layer_on = env.get("CHANNEL_REDIS_HOSTS") or env["REDIS_URL"]
    say(f"channel layer on {layer_on} (prefix {prefix}); server logs in {log_dir}")
    started: list[Server] = []
    ok = keep_logs = False
    shard_commands = None
    try:
        servers = start_servers(env, log_dir, started)
        shards = env["CHANNEL_REDIS_HOSTS"].split(",") if second is not None else []
        before = [commands_processed(url) for url in shards]
        room = run_async(run_room(args, seeded, servers))
        if second is not None:
            shard_commands = [commands_processed(url) - b for url, b in zip(shards, before, strict=True)]
            say(f"commands each Redis processed during the room's run: {shard_commands}")
        for server in servers:
            server.stop()
        keep_logs = args.keep_logs or room["anomalies"]
        baseline = None
        if not args.skip_baseline:
            servers = start_servers(env, log_dir, started, application="benchmarks.baseline_asgi:application")
            baseline = run_async(run_baseline(args, servers, round(room["mean_state_bytes"])))
            for server in servers:
                server.stop()
        ok = True
    finally:
        for server in started:
            server.stop()
        if second is not None:
            second.stop()
        with contextlib.suppress(Exception):
            clean_redis(env["REDIS_URL"], prefix)
        if ok and not keep_logs:
            shutil.rmtree(log_dir, ignore_errors=True)
        else:
            say(f"server logs kept in {log_dir}")

    say(f"client CPU in the steady phase: {room['client_cpu']}% of one core")
    base_p99 = baseline["p99_ms"] if baseline else None
    base_p50 = baseline["p50_ms"] if baseline else None
    rounded = lambda value, digits=1: None if value is None else round(value, digits)  # noqa: E731
    result = {
        "rooms": args.rooms,
        "sockets": room["sockets"],
        "p50_ms": rounded(room["p50_ms"]),
        "p99_ms": rounded(room["p99_ms"]),
        "lost": room["lost"],
        "failed_connects": room["failed_connects"],
        "burst_p99_ms": rounded(room["burst_p99_ms"]),
        "rss_kib_per_socket": rounded(room["rss_kib_per_socket"]),
        "baseline_p99_ms": rounded(base_p99),
        "overhead_ratio_p99": rounded(room["p99_ms"] / base_p99, 2) if base_p99 and room["p99_ms"] else None,
        "overhead_ratio_p50": rounded(room["p50_ms"] / base_p50, 2) if base_p50 and room["p50_ms"] else None,
        "server_cpu_ms_per_change": rounded(room["server_cpu_ms_per_change"], 2),
        "presence_writes_per_room_per_10s": rounded(room["presence_writes_per_room_per_10s"], 2),
        "seconds_total": round(time.perf_counter() - began),
        "rooms_advanced_more_than_once": room["rooms_advanced_more_than_once"],
        "state_bytes": rounded(room["mean_state_bytes"], 0),
        "state_deflated_bytes": rounded(room["whole_deflated_bytes"], 0),
        "patch_bytes": rounded(room["patch_bytes"], 0),
        "patch_deflated_bytes": rounded(room["patch_deflated_bytes"], 0),
        "channel_layer": args.layer,
        "one_port": args.one_port,
        "channel_redis_shard_commands": shard_commands,
    }
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        say("interrupted: servers stopped, sockets closed")
        sys.exit(130)
