"""The soak: many live rooms for a long time on two server processes, with people dropping and coming back.

    DATABASE_URL=postgres://... REDIS_URL=redis://... make bench-soak
    DATABASE_URL=... REDIS_URL=... make bench-soak BENCH_ARGS="--rooms 40 --minutes 4"

It seeds <configured name>_bench_soak as bench-room seeds its own database (benchmarks/room_seed.py:
R calls, each with a facilitator and 7 members, one session each), starts the Procfile's `web`
process twice (DEBUG off) and opens --per-room sockets per room, alternating between the two
processes so that every broadcast crosses Redis. Every socket pings every 8 s, as the room page does;
after `call.start` in every room, turn changes go out at a gentle --rate over all rooms (the load of
a site, not a stress test). Every --churn-min to --churn-max seconds, --churn-fraction of the open
sockets close and reconnect 0.5 to 3 s later, as a dropped network or a reloaded page does. A socket
the server closes by itself is reconnected the same way, and counted.

What it measures:

- rss_growth_pct: VmRSS of both server process trees (from /proc) at the end of the run, against a
  sample taken once warm (after the first 20% of the run or 2 minutes, whichever is less);
- version_gaps_unrecovered: every --audit-every seconds the room versions are read from PostgreSQL;
  a connected socket whose newest snapshot is older than its room's version (it missed a broadcast,
  or one is still on its way) must have caught up within --recovery-seconds (the server resends the
  room on the next heartbeat that sees a newer version; a reconnect brings a fresh snapshot). One
  that has not counts once.
  gaps_recovered counts the sockets an audit found behind that caught up in time (most are only
  a broadcast in flight while the audit read the database), and recovery_p50_s / _p99_s the time
  from that audit to the snapshot that caught them up. A snapshot that skips versions is counted
  in gaps_seen (whole snapshots make it harmless), and the client asks for a `sync` as the room
  page does; --drop-states makes the client ignore some snapshots, to see the audit catch them;
- redis_connections_start / _end: `INFO clients` connected_clients of the whole Redis server once the
  servers are up, before any client connects, and after every client has left and --settle-seconds
  passed; redis_connections_db_* count only the connections on this run's Redis database (the two
  servers', without this client's monitoring connection), which other work on a shared Redis does
  not disturb.

- late_over_1s / late_p99_ms / late_max_ms: turn changes that reached some socket of their room
  more than 1 s after they were sent (one still missing at the 15 s action timeout counts at it),
  and the 99th percentile and maximum of that delay over all turn changes. The _connected keys count
  only the changes during which no socket of the room dropped or was reconnecting;
  late_over_1s_connected_near_churn, those of them sent from 1 s before a churn to 15 s after it;
  client_loop_lag_p99_ms / _max_ms, how late this client's event loop woke from a 0.1 s sleep (a busy
  client sends late and notices late, which the figures above would count as the server's).

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks import room, room_seed, wsclients
from benchmarks.servers import Server
from benchmarks.wsclients import VERSION, Group, Sock, Stats, percentile

HANDSHAKE_TIMEOUT = 60.0


def late_ms(delivered: list[float], timed_out: int, q: int) -> float | None:
    """The q-th percentile (100: the maximum) of the time from a turn change to its last socket, in
    ms, with each change that timed out counted at the action timeout."""
    values = delivered + [wsclients.ACTION_TIMEOUT] * timed_out
    if not values:
        return None
    return round(1000 * (max(values) if q == 100 else percentile(values, q)), 1)


def say(message: str) -> None:
    print(f"[bench-soak] {message}", flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=200, help="rooms (200)")
    parser.add_argument("--per-room", type=int, default=8, help="sockets per room: a facilitator and members (8)")
    parser.add_argument("--minutes", type=float, default=20, help="length of the soak (20)")
    parser.add_argument("--churn-min", type=float, default=30, help="shortest wait between churns, seconds (30)")
    parser.add_argument("--churn-max", type=float, default=120, help="longest wait between churns, seconds (120)")
    parser.add_argument("--churn-fraction", type=float, default=0.1, help="share of open sockets that churn (0.1)")
    parser.add_argument("--rate", type=float, default=5, help="turn changes per second over all rooms (5)")
    parser.add_argument("--ping-every", type=float, default=8, help="seconds between a socket's pings (8, as browsers)")
    parser.add_argument("--audit-every", type=float, default=10, help="seconds between version audits (10)")
    parser.add_argument(
        "--recovery-seconds",
        type=float,
        default=20,
        help="how long a socket may stay behind its room's version before the gap counts as unrecovered (20)",
    )
    parser.add_argument(
        "--settle-seconds", type=float, default=45, help="wait after all clients leave (45; idle ones close at 30)"
    )
    parser.add_argument("--connect-concurrency", type=int, default=32, help="handshakes in flight at once (32)")
    parser.add_argument("--pool-size", type=int, default=8, help="DATABASE_POOL_MAX_SIZE per server process (8)")
    parser.add_argument("--compression", choices=["deflate", "none"], default="deflate", help="as browsers: deflate")
    parser.add_argument(
        "--redis-db",
        type=int,
        default=12,
        help="Redis database for this run's channel layer and cache (12): test suites flush the configured one",
    )
    parser.add_argument(
        "--drop-states",
        type=float,
        default=0,
        help="to check the benchmark itself: the client ignores this share of snapshots, as if lost (0)",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the server logs after a good run")
    args = parser.parse_args(argv)
    if args.rooms < 1 or args.minutes <= 0 or args.rate < 0:
        parser.error("--rooms and --minutes must be positive, --rate not negative")
    if not 2 <= args.per_room <= 12:
        parser.error("--per-room must be between 2 and 12 (a call's seats)")
    if not 0 < args.churn_min <= args.churn_max:
        parser.error("--churn-min must be positive and at most --churn-max")
    if not 0 <= args.churn_fraction <= 1:
        parser.error("--churn-fraction must be between 0 and 1")
    return args


# The clients


class SoakSock(Sock):
    """A room socket that can close and open again: the same person, the same seat, the same server."""

    __slots__ = ("behind", "churning", "fresh", "gaps", "generation", "url")

    def __init__(self, group: Group, seat: int, server: int):
        super().__init__(group, seat, server)
        self.url = ""
        self.fresh = True  # the next snapshot is the first of a connection: a jump is no gap
        self.generation = 0  # connections opened so far
        self.churning = False  # closed on purpose, or reconnecting
        self.gaps = 0
        self.behind: tuple[int, float, int] | None = None  # (room version, noticed at, generation)


_sends: set[asyncio.Task] = set()  # `sync` requests in flight, referenced until done


def send_sync(sock: SoakSock) -> None:
    task = asyncio.ensure_future(sock.send('{"type":"sync"}'))
    _sends.add(task)
    task.add_done_callback(_sends.discard)


DROP_STATES = 0.0  # --drop-states
RECOVERIES: list[float] = []  # seconds from an audit finding a socket behind to the snapshot that caught it up


def on_message(sock: SoakSock, text: str) -> None:
    if text.startswith('{"type":"state"'):
        if DROP_STATES and not sock.fresh and random.random() < DROP_STATES:
            return
        version = int(VERSION.search(text).group(1))
        if sock.fresh:
            sock.fresh = False
        elif version > sock.max_version + 1:
            # Snapshots are whole, so this one is already the room as it is; the room page asks for a
            # fresh one anyway (static/js/room/connection.js), and so do we.
            sock.gaps += 1
            send_sync(sock)
        wsclients.on_room_message(sock, text)
        if not sock.ready.done():  # a reconnect whose snapshot is not newer than the last one seen
            sock.ready.set_result(True)
        if sock.behind is not None and sock.max_version >= sock.behind[0]:
            RECOVERIES.append(time.monotonic() - sock.behind[1])
            sock.behind = None
    else:
        if text.startswith('{"type":"error"') and '"code":"stale"' in text:
            send_sync(sock)  # as the room page does
        wsclients.on_room_message(sock, text)


def room_action(group: Group) -> tuple[Sock, dict] | None:
    """The next turn change this room can make, sent as the room page sends it (static/js/room/main.js):
    naming the turn or segment it means rather than the room's version, so that people arriving and
    leaving meanwhile do not make it stale."""
    state = group.state
    if state is None:
        return None
    facilitator = group.socks[0]
    status, phase = state["status"], state["phase"]
    if status == "lobby":
        return facilitator, {"type": "call.start"}
    if status != "live":
        return None
    if phase == "turn":
        speaker = group.by_participant.get(state["turn"]["speaker"])
        if speaker is None or speaker.closed_code is not None or speaker.ws is None:
            speaker = facilitator  # "Next", from the facilitator
        return speaker, {"type": "turn.finish", "turn": state["turn"]["number"]}
    if phase == "between":
        index, segments = state["segment_index"], state["segments"]
        if state["segment_complete"]:
            if index + 1 >= len(segments):
                return None  # the agenda is over
            return facilitator, {"type": "segment.next", "segment": index}
        if segments[index]["kind"] == "open":  # open sharing, nobody speaking: give someone the floor
            here = [p["id"] for p in state["participants"] if p["present"] and p["state"] == "admitted"]
            if not here:
                return None
            group.counter += 1
            return facilitator, {"type": "turn.give", "participant": here[group.counter % len(here)]}
        return None
    if phase == "grounding":
        return facilitator, {"type": "segment.next", "segment": state["segment_index"]}
    if phase == "reflections":
        return facilitator, {"type": "reflections.end"}
    return None


async def act(group: Group, now: float) -> bool:
    chosen = room_action(group)
    if chosen is None:
        return False
    sock, message = chosen
    # Done when every socket of the room has a newer version than the one this action saw.
    group.expect(group.state["version"] + 1, message["type"], now)
    if not await sock.send(json.dumps(message, separators=(",", ":"))):
        group.pending = False
        return False
    return True


class Clients:
    def __init__(self, args, seeded: list[room_seed.SeededRoom], servers: list[Server]):
        self.args = args
        self.servers = servers
        self.groups: list[Group] = []
        self.stats = Stats()
        for index, seeded_room in enumerate(seeded):
            group = Group(index, seeded_room.call_id, self.stats)
            group.socks = [SoakSock(group, seat, (seat + index) % 2) for seat in range(len(seeded_room.sessions))]
            self.groups.append(group)
        self.socks: list[SoakSock] = [sock for group in self.groups for sock in group.socks]
        self.sessions = {id(s): seeded[s.group.index].sessions[s.seat] for s in self.socks}
        for sock in self.socks:
            sock.url = f"{servers[sock.server].ws_url}/ws/calls/{sock.group.key}/"
        self.limit = asyncio.Semaphore(args.connect_concurrency)
        self.compression = None if args.compression == "none" else "deflate"
        self.tasks: set[asyncio.Task] = set()
        self.closing = False
        # Counters
        self.churn_events = 0
        self.churned = 0
        self.churn_times: list[float] = []  # perf_counter() at each churn
        self.reconnects = 0
        self.reconnect_failures = 0
        self.unexpected_closes: dict[str, int] = {}
        self.unrecovered: list[tuple[int, int, int, int]] = []  # (call, seat, room version, socket version)

    def spawn(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def open(self, sock: SoakSock) -> bool:
        sock.generation += 1
        sock.fresh = True
        return await wsclients.open_socket(
            sock,
            sock.url,
            handler=on_message,
            origin=self.servers[sock.server].origin,
            headers={"Cookie": f"sessionid={self.sessions[id(sock)]}"},
            compression=self.compression,
            limit=self.limit,
            wait_first=True,
            timeout=HANDSHAKE_TIMEOUT,
        )

    def is_open(self, sock: SoakSock) -> bool:
        return (
            not sock.churning
            and sock.ws is not None
            and sock.closed_code is None
            and sock.ready.done()
            and sock.ready.result()
        )

    async def connect_all(self) -> int:
        started = time.perf_counter()
        results = await asyncio.gather(*(self.open(sock) for sock in self.socks))
        failed = [sock for sock, ok in zip(self.socks, results, strict=True) if not ok]
        took = time.perf_counter() - started
        say(f"opened {len(self.socks) - len(failed)} of {len(self.socks)} sockets in {took:.1f}s")
        for sock in failed[:5]:
            say(f"  failed: room {sock.group.key} seat {sock.seat}: {(sock.error or '?')[:160]}")
        for sock in failed:  # as a browser would: try again
            self.spawn(self.reconnect(sock, closed_on_purpose=False))
        return len(failed)

    async def reconnect(self, sock: SoakSock, *, closed_on_purpose: bool) -> None:
        """Close (if asked) and open the socket again after a browser-like pause, until it opens."""
        sock.churning = True
        sock.group.churned_during = True
        try:
            if closed_on_purpose and sock.ws is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(sock.ws.close(), 3)
            if sock.reader is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(sock.reader, 3)
            for attempt in range(6):
                await asyncio.sleep(random.uniform(0.5, 3.0) * (2**attempt if attempt else 1))
                if self.closing:
                    return
                sock.ws = None
                sock.reader = None
                sock.ready = asyncio.get_running_loop().create_future()
                sock.closed_code = None
                sock.error = None
                if await self.open(sock):
                    self.reconnects += 1
                    return
                self.reconnect_failures += 1
                say(f"reconnect failed: room {sock.group.key} seat {sock.seat}: {(sock.error or '?')[:160]}")
                if sock.ws is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(sock.ws.close(), 3)
        finally:
            sock.churning = False

    async def churn(self, stop: asyncio.Event) -> None:
        """Every churn-min to churn-max seconds, a share of the open sockets drop and come back."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), random.uniform(self.args.churn_min, self.args.churn_max))
            if stop.is_set():
                return
            candidates = [sock for sock in self.socks if self.is_open(sock)]
            chosen = random.sample(candidates, round(len(candidates) * self.args.churn_fraction))
            self.churn_events += 1
            self.churned += len(chosen)
            self.churn_times.append(time.perf_counter())
            say(f"churn {self.churn_events}: {len(chosen)} of {len(candidates)} open sockets drop and reconnect")
            for sock in chosen:
                sock.churning = True  # before the close is seen: not an unexpected one
                self.spawn(self.reconnect(sock, closed_on_purpose=True))

    async def watch_closes(self, stop: asyncio.Event) -> None:
        """A socket the server closed is reconnected, as the room page does for any non-permanent close."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1)
            for sock in self.socks:
                if not sock.churning and sock.ws is not None and sock.closed_code is not None:
                    reason = (sock.error or f"closed {sock.closed_code}")[:120]
                    self.unexpected_closes[reason] = self.unexpected_closes.get(reason, 0) + 1
                    self.spawn(self.reconnect(sock, closed_on_purpose=False))

    def audit(self, versions: dict[int, int], now: float, final: bool = False) -> int:
        """Sockets behind their room's version: note them, clear the ones that caught up, count the ones
        that stayed behind longer than the recovery window. Returns how many are still behind."""
        behind = 0
        for sock in self.socks:
            room_version = versions.get(sock.group.key)
            if room_version is None:
                continue
            if sock.behind is not None:
                target, since, generation = sock.behind
                if sock.max_version >= target or sock.generation != generation:
                    # Reconnected: a fresh connection starts with a whole snapshot. (A snapshot that
                    # catches up clears `behind` as it arrives, in on_message.)
                    sock.behind = None
                    RECOVERIES.append(now - since)
                elif now - since > self.args.recovery_seconds or final:
                    sock.behind = None
                    self.unrecovered.append((sock.group.key, sock.seat, target, sock.max_version))
                    say(
                        f"unrecovered: room {sock.group.key} seat {sock.seat} still at version "
                        f"{sock.max_version} {now - since:.0f}s after the room reached {target}"
                    )
                    continue
            if sock.behind is None and self.is_open(sock) and sock.max_version < room_version:
                sock.behind = (room_version, now, sock.generation)
            if sock.behind is not None:
                behind += 1
        return behind

    async def close_all(self) -> None:
        self.closing = True
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await wsclients.close_all(self.socks)


# Measurements


def room_versions(call_ids: list[int]) -> dict[int, int]:
    from django.db import close_old_connections

    from sharing.models import Room

    try:
        return dict(Room.objects.filter(pk__in=call_ids).values_list("pk", "version"))
    finally:
        close_old_connections()


class RedisWatch:
    """Connections to the Redis server: all of them, and those on this run's database (not this one)."""

    def __init__(self, url: str, db: int):
        import redis

        self.db = db
        self.client = redis.Redis.from_url(url)
        self.own_id = self.client.client_id()

    def counts(self) -> tuple[int, int]:
        total = self.client.info("clients")["connected_clients"]
        ours = sum(1 for c in self.client.client_list() if int(c.get("db", -1)) == self.db and c["id"] != self.own_id)
        return total, ours

    def describe(self) -> str:
        """This run's connections by their last command and idle time: pools that kept what they opened
        show as many idle connections whose last command was an ordinary one."""
        by_command: dict[str, int] = {}
        idle = []
        for c in self.client.client_list():
            if int(c.get("db", -1)) == self.db and c["id"] != self.own_id:
                by_command[c.get("cmd", "?")] = by_command.get(c.get("cmd", "?"), 0) + 1
                idle.append(int(c.get("idle", 0)))
        idle.sort()
        median = idle[len(idle) // 2] if idle else 0
        return f"by last command {dict(sorted(by_command.items(), key=lambda kv: -kv[1]))}, median idle {median}s"

    def close(self) -> None:
        self.client.close()


async def loop_lag(lags: list[float], stop: asyncio.Event, every: float = 0.1) -> None:
    """How late this client's event loop wakes from a short sleep: a busy client delays what it sends
    and when it notices what arrives, which would count as the server's lateness."""
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(every)
        lags.append(max(0.0, time.perf_counter() - before - every))


def near_churn(sent_at: list[float], churns: list[float], before: float = 1.0, after: float = 15.0) -> int:
    """How many of these moments fall from `before` seconds before a churn to `after` seconds after it."""
    return sum(1 for moment in sent_at if any(churn - before <= moment <= churn + after for churn in churns))


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f} MiB"


async def soak(args, seeded: list[room_seed.SeededRoom], servers: list[Server], redis_watch: RedisWatch) -> dict:
    loop = asyncio.get_running_loop()
    database = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit")
    clients = Clients(args, seeded, servers)
    call_ids = [group.key for group in clients.groups]
    seconds = args.minutes * 60
    warm_after = min(120.0, 0.2 * seconds)
    result: dict = {}
    stop = asyncio.Event()  # the load: churn, turn changes, reconnecting sockets the server closed
    stop_pings = asyncio.Event()  # pings go on until the clients leave: heartbeats heal missed broadcasts
    pings = asyncio.create_task(wsclients.pinger(clients.socks, args.ping_every, stop_pings))
    background: list[asyncio.Task] = []
    try:
        rss_idle = [server.rss_kib() for server in servers]
        say(f"server RSS before connecting: {' + '.join(mib(k) for k in rss_idle)}")
        failed = await clients.connect_all()
        unsettled = await room.wait_for_everyone(clients.groups, 60)
        if unsettled:
            say(f"{unsettled} rooms do not show everyone present after 60 s")
        await room.run_once(clients.groups, act, in_flight=32)
        live = sum(1 for g in clients.groups if g.state and g.state["status"] == "live")
        say(f"call.start: {live}/{len(clients.groups)} rooms live; soaking for {args.minutes:g} min")
        clients.stats.latencies.clear()
        clients.stats.connected_latencies.clear()

        lags: list[float] = []
        background = [
            asyncio.create_task(clients.churn(stop)),
            asyncio.create_task(clients.watch_closes(stop)),
            asyncio.create_task(loop_lag(lags, stop)),
        ]
        if args.rate > 0:
            background.append(
                asyncio.create_task(
                    wsclients.drive(clients.groups, act, args.rate, seconds, clients.stats, lambda _: None)
                )
            )
        before = room.Usage(servers)
        started = loop.time()
        next_audit = started + args.audit_every
        next_report = started + 30
        rss_warm = None
        rss_peak = [0] * len(servers)
        redis_peak = (0, 0)
        while True:
            now = loop.time()
            if now >= started + seconds:
                break
            await asyncio.sleep(min(1.0, started + seconds - now))
            now = loop.time()
            if rss_warm is None and now - started >= warm_after:
                rss_warm = [server.rss_kib() for server in servers]
                say(f"warm after {warm_after:.0f}s: server RSS {' + '.join(mib(k) for k in rss_warm)}")
            if now >= next_audit:
                next_audit += args.audit_every
                versions = await loop.run_in_executor(database, room_versions, call_ids)
                clients.audit(versions, time.monotonic())
            if now >= next_report:
                next_report += 30
                rss = [server.rss_kib() for server in servers]
                rss_peak = [max(a, b) for a, b in zip(rss_peak, rss, strict=True)]
                redis_now = await loop.run_in_executor(database, redis_watch.counts)
                redis_peak = (max(redis_peak[0], redis_now[0]), max(redis_peak[1], redis_now[1]))
                opened = sum(1 for s in clients.socks if clients.is_open(s))
                done = clients.stats.latencies
                say(
                    f"{now - started:5.0f}s: {opened}/{len(clients.socks)} open; {clients.reconnects} reconnects, "
                    f"{sum(clients.unexpected_closes.values())} unexpected closes; {len(done)} turn changes "
                    f"delivered (p50 {1000 * (percentile(done, 50) or 0):.0f} ms), errors {clients.stats.errors or 0}; "
                    f"gaps seen {sum(s.gaps for s in clients.socks)}, recovered {len(RECOVERIES)}, "
                    f"unrecovered {len(clients.unrecovered)}; RSS {' + '.join(mib(k) for k in rss)}; "
                    f"Redis clients {redis_now[0]} (db {args.redis_db}: {redis_now[1]}); "
                    f"load {' '.join(Path('/proc/loadavg').read_text().split()[:3])}"
                )
        elapsed = loop.time() - started
        stop.set()
        await asyncio.gather(*background, return_exceptions=True)
        still = await wsclients.settle(clients.groups, 10)
        used = room.Usage(servers).since(before)
        say(
            f"CPU over the soak ({used['seconds']}s), % of one core: client {used['client']}, servers "
            f"{' + '.join(str(s) for s in used['servers'])}, PostgreSQL {used['postgres']}, Redis {used['redis']}; "
            f"machine {used['machine']}% busy"
        )
        rss_end = [server.rss_kib() for server in servers]
        if rss_warm is None:
            rss_warm = rss_end
        # Let reconnects in progress finish, then the last audits: everyone must reach their room's version.
        deadline = loop.time() + 30
        while any(s.churning for s in clients.socks) and loop.time() < deadline:
            await asyncio.sleep(0.5)
        final_deadline = loop.time() + args.recovery_seconds
        while True:
            versions = await loop.run_in_executor(database, room_versions, call_ids)
            final = loop.time() >= final_deadline
            behind = clients.audit(versions, time.monotonic(), final=final)
            if final or behind == 0:
                break
            await asyncio.sleep(1)
        missing_sockets = sum(1 for s in clients.socks if not clients.is_open(s))
        say(
            f"end of the soak: {len(clients.socks) - missing_sockets}/{len(clients.socks)} sockets open, "
            f"{still} actions still in flight; server RSS {' + '.join(mib(k) for k in rss_end)} "
            f"(warm {' + '.join(mib(k) for k in rss_warm)})"
        )
        for trace in wsclients.READER_ERRORS[:3]:
            say(f"client bug in a message handler:\n{trace}")

        stop_pings.set()
        await pings
        await clients.close_all()
        say(f"all clients left; waiting {args.settle_seconds:g}s before counting Redis connections")
        await asyncio.sleep(args.settle_seconds)
        redis_end = await loop.run_in_executor(database, redis_watch.counts)
        say(f"Redis connections after everyone left: {redis_end[0]} in all, {redis_end[1]} on db {args.redis_db}")
        say(f"  on db {args.redis_db}: {await loop.run_in_executor(database, redis_watch.describe)}")
        rss_after_leaving = [server.rss_kib() for server in servers]
        say(f"after everyone left: server RSS {' + '.join(mib(k) for k in rss_after_leaving)}")
        done = clients.stats.latencies
        connected = clients.stats.connected_latencies
        result = {
            "minutes": round(elapsed / 60, 2),
            "failed_connects": failed,
            "rss_kib_warm": rss_warm,
            "rss_kib_end": rss_end,
            "rss_kib_peak": rss_peak,
            "rss_kib_after_leaving": rss_after_leaving,
            "rss_kib_idle": rss_idle,
            "redis_end": redis_end,
            "redis_peak": redis_peak,
            "turn_changes": len(done),
            "turn_p50_ms": None if not done else round(1000 * percentile(done, 50), 1),
            "turn_p99_ms": None if not done else round(1000 * percentile(done, 99), 1),
            # A turn change reaches a socket late when it arrives more than 1 s after it happened; one
            # that never reached every socket within the action timeout counts at that timeout.
            "late_over_1s": sum(1 for seconds in done if seconds > 1) + clients.stats.timeouts,
            "late_p99_ms": late_ms(done, clients.stats.timeouts, 99),
            "late_max_ms": late_ms(done, clients.stats.timeouts, 100),
            "late_over_1s_connected": sum(1 for seconds in connected if seconds > 1) + clients.stats.connected_timeouts,
            "late_p99_ms_connected": late_ms(connected, clients.stats.connected_timeouts, 99),
            "late_max_ms_connected": late_ms(connected, clients.stats.connected_timeouts, 100),
            "turn_changes_connected": len(connected),
            "late_over_1s_connected_near_churn": near_churn(clients.stats.connected_late_sent_at, clients.churn_times),
            "client_loop_lag_p99_ms": round(1000 * (percentile(lags, 99) or 0), 1),
            "client_loop_lag_max_ms": round(1000 * max(lags, default=0), 1),
            "action_errors": clients.stats.errors,
            "action_timeouts": clients.stats.timeouts,
            "churn_events": clients.churn_events,
            "churned": clients.churned,
            "reconnects": clients.reconnects,
            "reconnect_failures": clients.reconnect_failures,
            "unexpected_closes": clients.unexpected_closes,
            "gaps_seen": sum(s.gaps for s in clients.socks),
            "out_of_order": sum(s.out_of_order for s in clients.socks),
            "gaps_recovered": len(RECOVERIES),
            "recovery_p50_s": round(percentile(RECOVERIES, 50), 2) if RECOVERIES else None,
            "recovery_p99_s": round(percentile(RECOVERIES, 99), 2) if RECOVERIES else None,
            "unrecovered": clients.unrecovered,
            "cpu": used,
            "client_bugs": len(wsclients.READER_ERRORS),
        }
    finally:
        stop.set()
        stop_pings.set()
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await pings
        await clients.close_all()
        database.shutdown(wait=False)
    return result


# The run


def single_run() -> None:
    """Refuse to start while another soak is going: both would empty and seed the same database."""
    import fcntl

    lock = open(Path(tempfile.gettempdir()) / "bench-soak.lock", "w")  # noqa: SIM115 (held until exit)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit("another bench-soak run is going on this machine; wait for it to finish") from None
    single_run.lock = lock


def start_servers(env: dict[str, str], log_dir: Path, started: list[Server]) -> list[Server]:
    servers = []
    for _ in range(2):
        server = Server(env, log_dir)
        started.append(server)
        servers.append(server)
    for server in servers:
        server.wait_ready()
        if server.health != 200:
            say(f"warning: {server.url}/healthz answered {server.health}")
    ports, pids = ", ".join(str(s.port) for s in servers), ", ".join(str(s.pid) for s in servers)
    say(f"servers ready on ports {ports} (pids {pids})")
    return servers


def growth_pct(before: list[int], after: list[int]) -> float:
    return round(100 * (sum(after) - sum(before)) / max(1, sum(before)), 2)


def main(argv=None) -> None:
    args = parse_args(argv)
    room.require_production_services()
    single_run()
    sockets = args.rooms * args.per_room
    room.raise_file_limit(sockets)
    signal.signal(signal.SIGTERM, room._interrupt)
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))  # signs the sessions; the servers share it
    say(
        f"{args.rooms} rooms x {args.per_room} sockets for {args.minutes:g} min on two processes; "
        f"every {args.churn_min:g} to {args.churn_max:g} s {100 * args.churn_fraction:g}% reconnect; "
        f"{args.rate:g} turn changes/s"
    )
    global DROP_STATES
    DROP_STATES = args.drop_states
    room_seed.PEOPLE_PER_ROOM = args.per_room  # read by the seeding functions when they run
    database_url = room_seed.configure(say, suffix="_bench_soak")
    seeded = room_seed.prepare(args.rooms, say)

    log_dir = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    env, _ = room.server_environment(database_url, log_dir, args)
    prefix = f"bench-soak-{os.getpid()}-"
    env["CHANNEL_LAYER_PREFIX"] = prefix
    say(f"channel layer on {env['REDIS_URL']} (prefix {prefix}); server logs in {log_dir}")
    started: list[Server] = []
    redis_watch = RedisWatch(env["REDIS_URL"], args.redis_db)
    ok = keep_logs = False
    try:
        servers = start_servers(env, log_dir, started)
        time.sleep(2)  # let the servers' first connections settle
        redis_start = redis_watch.counts()
        say(f"  on db {args.redis_db}: {redis_watch.describe()}")
        say(f"Redis connections before any client: {redis_start[0]} in all, {redis_start[1]} on db {args.redis_db}")
        run = room.run_async(soak(args, seeded, servers, redis_watch))
        keep_logs = args.keep_logs or bool(run["unrecovered"] or run["unexpected_closes"] or run["reconnect_failures"])
        ok = True
    finally:
        for server in started:
            server.stop()
        with contextlib.suppress(Exception):
            room.clean_redis(env["REDIS_URL"], prefix)
        redis_watch.close()
        if ok and not keep_logs:
            shutil.rmtree(log_dir, ignore_errors=True)
        else:
            say(f"server logs kept in {log_dir}")

    redis_end = run["redis_end"]
    result = {
        "minutes": run["minutes"],
        "sockets": sockets,
        "rss_growth_pct": growth_pct(run["rss_kib_warm"], run["rss_kib_end"]),
        "version_gaps_unrecovered": len(run["unrecovered"]),
        "redis_connections_start": redis_start[0],
        "redis_connections_end": redis_end[0],
        "late_over_1s": run["late_over_1s"],
        "late_p99_ms": run["late_p99_ms"],
        "late_max_ms": run["late_max_ms"],
        # More, after the keys above. The same lateness, over the changes during which every socket
        # of the room stayed connected.
        "late_over_1s_connected": run["late_over_1s_connected"],
        "late_p99_ms_connected": run["late_p99_ms_connected"],
        "late_max_ms_connected": run["late_max_ms_connected"],
        "turn_changes_connected": run["turn_changes_connected"],
        # Of the late ones while connected, those sent from 1 s before a churn to 15 s after it; and how
        # late this client's own event loop woke (a busy client makes the server look late).
        "late_over_1s_connected_near_churn": run["late_over_1s_connected_near_churn"],
        "client_loop_lag_p99_ms": run["client_loop_lag_p99_ms"],
        "client_loop_lag_max_ms": run["client_loop_lag_max_ms"],
        "rooms": args.rooms,
        "redis_connections_db_start": redis_start[1],
        "redis_connections_db_end": redis_end[1],
        "redis_connections_db_peak": run["redis_peak"][1],
        "rss_mib_warm": [round(k / 1024, 1) for k in run["rss_kib_warm"]],
        "rss_mib_end": [round(k / 1024, 1) for k in run["rss_kib_end"]],
        "rss_mib_after_leaving": [round(k / 1024, 1) for k in run["rss_kib_after_leaving"]],
        "churn_events": run["churn_events"],
        "reconnects": run["reconnects"],
        "reconnect_failures": run["reconnect_failures"],
        "unexpected_closes": sum(run["unexpected_closes"].values()),
        "failed_connects": run["failed_connects"],
        "gaps_seen": run["gaps_seen"],
        "out_of_order": run["out_of_order"],
        "gaps_recovered": run["gaps_recovered"],
        "recovery_p50_s": run["recovery_p50_s"],
        "recovery_p99_s": run["recovery_p99_s"],
        "turn_changes": run["turn_changes"],
        "turn_p50_ms": run["turn_p50_ms"],
        "turn_p99_ms": run["turn_p99_ms"],
        "action_errors": run["action_errors"],
        "action_timeouts": run["action_timeouts"],
        "client_bugs": run["client_bugs"],
    }
    if run["unexpected_closes"]:
        say(f"unexpected closes: {run['unexpected_closes']}")
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        say("interrupted: servers stopped, sockets closed")
        sys.exit(130)
