"""The benchmark's WebSocket clients: many sockets in one asyncio process, grouped by room.

A Group is one room (or one baseline group) of sockets. Sending an action sets the version every
socket of the group must reach; the group records the time from the send to the moment the last
of its sockets has it. Each socket keeps the versions it received while recording, to count the
ones that never arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import statistics
import time
import traceback
import zlib
from dataclasses import dataclass, field

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

VERSION = re.compile(r'"version":(\d+)')
ACTION_TIMEOUT = 15.0  # an action not delivered to every socket by then counts as timed out
READER_ERRORS: list[str] = []  # tracebacks of exceptions in message handlers (a bug in this client)


def percentile(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)  # seconds, action to all delivered
    sent: int = 0
    skipped_slots: int = 0  # moments of the schedule when no room was ready for another action
    timeouts: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    # Latencies and timeouts again, over the changes during which every socket of the room stayed
    # connected (the soak's churn makes the others late by the reconnect's pause, by construction).
    connected_latencies: list[float] = field(default_factory=list)
    connected_timeouts: int = 0
    connected_late_sent_at: list[float] = field(default_factory=list)  # perf_counter() of those over 1 s
    # A whole snapshot against a compact patch from the previous one, for one socket per room while
    # recording: raw bytes, and bytes after deflate with the context kept between messages, as
    # permessage-deflate does by default.
    patches: int = 0
    whole_bytes: int = 0
    patch_bytes: int = 0
    whole_deflated: int = 0
    patch_deflated: int = 0


def patch_of(old: dict, new: dict) -> dict:
    """What a compact patch against the previous snapshot would carry: the top-level values that
    changed, and of the people only the entries that changed and the ids of those who left."""
    patch = {key: value for key, value in new.items() if key != "participants" and old.get(key) != value}
    before = {p["id"]: p for p in old.get("participants", [])}
    changed = [p for p in new.get("participants", []) if before.get(p["id"]) != p]
    gone = sorted(set(before) - {p["id"] for p in new.get("participants", [])})
    if changed or gone:
        patch["participants"] = {"changed": changed, "gone": gone}
    return patch


class Sock:
    __slots__ = (
        "closed_code",
        "error",
        "group",
        "max_version",
        "out_of_order",
        "participant",
        "reader",
        "ready",
        "recording",
        "seat",
        "server",
        "state_bytes",
        "states",
        "versions",
        "ws",
    )

    def __init__(self, group: Group, seat: int, server: int):
        self.group = group
        self.seat = seat
        self.server = server
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.ready: asyncio.Future = asyncio.get_running_loop().create_future()
        self.max_version = 0
        self.versions: list[int] = []
        self.recording = False
        self.out_of_order = 0
        self.participant: int | None = None
        self.closed_code: int | None = None
        self.error: str | None = None
        self.states = 0
        self.state_bytes = 0

    async def send(self, text: str) -> bool:
        if self.ws is None or self.closed_code is not None:
            return False
        try:
            await self.ws.send(text)
        except ConnectionClosed:
            return False
        return True

    def fail(self, reason: str) -> None:
        if self.error is None:
            self.error = reason
        if not self.ready.done():
            self.ready.set_result(False)


class Group:
    """One room's sockets and the action in flight."""

    def __init__(self, index: int, key, stats: Stats, observe_seat: int = 0):
        self.index = index
        self.key = key  # the call id, or the baseline group name
        self.stats = stats
        self.socks: list[Sock] = []
        self.observe_seat = observe_seat
        self.state: dict | None = None  # the newest snapshot, fully parsed, of the observing socket
        self.deflaters = (zlib.compressobj(wbits=-15), zlib.compressobj(wbits=-15))  # whole, patch
        self.by_participant: dict[int, Sock] = {}
        self.target = 0
        self.reached = 0
        self.sent_at = 0.0
        self.kind = ""
        self.pending = False
        self.on_complete = None  # a callback(group, now) instead of recording a steady-state latency
        self.base_version = 0
        self.counter = 0
        self.errors: list[str] = []
        self.churned_during = False  # a socket of this room dropped or was reconnecting since the send

    @property
    def version(self) -> int:
        return max((s.max_version for s in self.socks), default=0)

    def expect(self, target: int, kind: str, now: float) -> None:
        self.target = target
        self.reached = sum(1 for s in self.socks if s.max_version >= target)
        self.sent_at = now
        self.kind = kind
        self.pending = True
        self.churned_during = any(getattr(s, "churning", False) for s in self.socks)

    def advanced(self, old: int, new: int, now: float) -> None:
        target = self.target
        if self.pending and old < target <= new:
            self.reached += 1
            if self.reached == len(self.socks):
                self.pending = False
                if self.on_complete is not None:
                    self.on_complete(self, now)
                else:
                    self.stats.latencies.append(now - self.sent_at)
                    if not self.churned_during:
                        self.stats.connected_latencies.append(now - self.sent_at)
                        if now - self.sent_at > 1:
                            self.stats.connected_late_sent_at.append(self.sent_at)

    def failed(self, code: str) -> None:
        self.stats.errors[code] = self.stats.errors.get(code, 0) + 1
        self.errors.append(code)
        self.pending = False

    def lost(self) -> tuple[int, int]:
        """(versions that some socket never received since recording began, of all it should have)."""
        last = self.version
        missing = expected = 0
        for sock in self.socks:
            received = set(sock.versions)
            wanted = range(self.base_version + 1, last + 1)
            expected += len(wanted)
            missing += sum(1 for v in wanted if v not in received)
        return missing, expected


def measure_patch(group: Group, old: dict, new: dict, text: str) -> None:
    stats = group.stats
    patch = json.dumps({"type": "patch", **patch_of(old, new)}, separators=(",", ":"))
    whole, partial = group.deflaters
    stats.patches += 1
    stats.whole_bytes += len(text)
    stats.patch_bytes += len(patch)
    stats.whole_deflated += len(whole.compress(text.encode()) + whole.flush(zlib.Z_SYNC_FLUSH))
    stats.patch_deflated += len(partial.compress(patch.encode()) + partial.flush(zlib.Z_SYNC_FLUSH))


def on_room_message(sock: Sock, text: str) -> None:
    """The room socket: state snapshots carry the room's version; errors answer a refused action."""
    if text.startswith('{"type":"state"'):
        now = time.perf_counter()
        version = int(VERSION.search(text).group(1))
        group = sock.group
        sock.states += 1
        sock.state_bytes += len(text)
        if sock.recording:
            sock.versions.append(version)
        if version > sock.max_version:
            old, sock.max_version = sock.max_version, version
            if sock.seat == group.observe_seat or sock.participant is None:
                state = json.loads(text)
                if sock.participant is None:
                    sock.participant = state["you"]["participant"]
                    if sock.participant is not None:
                        group.by_participant[sock.participant] = sock
                if sock.seat == group.observe_seat:
                    if sock.recording and group.state is not None:
                        measure_patch(group, group.state, state, text)
                    group.state = state
            group.advanced(old, version, now)
            if not sock.ready.done() and sock.participant is not None:
                sock.ready.set_result(True)
        elif version < sock.max_version:
            sock.out_of_order += 1
    elif text.startswith('{"type":"pong"'):
        return
    elif text.startswith('{"type":"error"'):
        message = json.loads(text)
        code = message.get("code", "?")
        if not sock.ready.done():
            sock.fail(f"error {code}: {message.get('message')}")
        elif sock.group.pending:
            sock.group.failed(code)
        else:
            sock.group.stats.errors[code] = sock.group.stats.errors.get(code, 0) + 1


def on_baseline_message(sock: Sock, text: str) -> None:
    """The baseline: every frame is {"v": N, ...} relayed to the whole group."""
    now = time.perf_counter()
    version = int(text[5 : text.index(",", 5)])
    sock.states += 1
    sock.state_bytes += len(text)
    if sock.recording:
        sock.versions.append(version)
    if version > sock.max_version:
        old, sock.max_version = sock.max_version, version
        sock.group.advanced(old, version, now)
    elif version < sock.max_version:
        sock.out_of_order += 1


async def _read(sock: Sock, handler) -> None:
    ws = sock.ws
    try:
        async for text in ws:
            handler(sock, text)
    except ConnectionClosed:
        pass
    except Exception as error:  # a bug in a handler must not pass unnoticed
        sock.fail(f"reader: {error!r}")
        READER_ERRORS.append(traceback.format_exc())
        await ws.close()
    sock.closed_code = ws.close_code if ws.close_code is not None else 1006
    sock.fail(f"closed {sock.closed_code} {ws.close_reason or ''}".strip())


async def open_socket(
    sock: Sock,
    url: str,
    *,
    handler,
    origin: str | None,
    headers: dict[str, str] | None,
    compression: str | None,
    limit: asyncio.Semaphore,
    wait_first: bool,
    timeout: float = 60,
) -> bool:
    """Open one socket (at most `limit` handshakes at a time); with wait_first, until its first snapshot."""
    async with limit:
        try:
            sock.ws = await connect(
                url,
                origin=origin,
                additional_headers=headers,
                compression=compression,
                open_timeout=timeout,
                ping_interval=None,  # browsers do not send protocol pings; the room has its own
                close_timeout=2,
                proxy=None,
                max_size=2**20,
            )
        except Exception as error:
            sock.fail(f"handshake: {error!r}"[:300])
            return False
        sock.reader = asyncio.create_task(_read(sock, handler))
        if not wait_first:
            sock.ready.set_result(True)
            return True
        try:
            return await asyncio.wait_for(asyncio.shield(sock.ready), timeout)
        except TimeoutError:
            sock.fail("no snapshot within the timeout")
            return False


async def close_all(socks: list[Sock]) -> None:
    async def close(sock: Sock) -> None:
        if sock.ws is not None:
            with contextlib.suppress(Exception):  # closing: nothing more to do
                await asyncio.wait_for(sock.ws.close(), 3)
        if sock.reader is not None:
            sock.reader.cancel()

    await asyncio.gather(*(close(sock) for sock in socks))


async def pinger(socks: list[Sock], every: float, stop: asyncio.Event) -> None:
    """Each socket pings every `every` seconds, as the room page does, spread evenly over the period."""
    if every <= 0 or not socks:
        return
    order = socks[:]
    random.shuffle(order)
    step = 0.05
    per_step = max(1, round(len(order) * step / every))
    position = 0
    loop = asyncio.get_running_loop()
    next_at = loop.time()
    while not stop.is_set():
        for _ in range(per_step):
            sock = order[position]
            position = (position + 1) % len(order)
            if sock.closed_code is None and sock.ws is not None:
                await sock.send(f'{{"type":"ping","t":{time.time() * 1000:.0f}}}')
        next_at += step
        delay = next_at - loop.time()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)


async def drive(groups: list[Group], act, rate: float, seconds: float, stats: Stats, say) -> None:
    """Send actions at a steady overall rate, each to the next group in turn that has none in flight.

    `act(group, now)` sends one action and returns True, or returns False when the group cannot act.
    """
    loop = asyncio.get_running_loop()
    interval = 1 / rate
    started = loop.time()
    end = started + seconds
    cursor = 0
    slot = 0
    next_report = started + 10
    while True:
        at = started + slot * interval
        if at >= end:
            break
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        slot += 1
        now = time.perf_counter()
        for _ in range(len(groups)):
            group = groups[cursor]
            cursor = (cursor + 1) % len(groups)
            if group.pending and now - group.sent_at > ACTION_TIMEOUT:
                stats.timeouts += 1
                stats.connected_timeouts += not group.churned_during
                group.pending = False
            if not group.pending and await act(group, now):
                stats.sent += 1
                break
        else:
            stats.skipped_slots += 1
        if loop.time() >= next_report:
            next_report += 10
            done = stats.latencies
            say(
                f"  {loop.time() - started:4.0f}s: {stats.sent} sent, {len(done)} delivered, "
                f"p50 {1000 * (percentile(done, 50) or 0):.1f} ms, p99 {1000 * (percentile(done, 99) or 0):.1f} ms"
            )


async def settle(groups: list[Group], timeout: float) -> int:
    """Wait until no group has an action in flight; return how many still have one."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if not any(group.pending for group in groups):
            return 0
        await asyncio.sleep(0.05)
    return sum(1 for group in groups if group.pending)
