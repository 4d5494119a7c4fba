"""What a socket's heartbeat and its pong touch, kept in the cache (Redis in production) instead of
PostgreSQL: when each person was last seen in a room, and the room's current version.

A heartbeat writes one key; the database's `last_seen_at` is written only when someone's presence
changes (they arrive, come back, leave, or are marked away), so a room where nobody comes or goes
writes no presence rows at all. Whoever reads a room for a change or a snapshot (sharing.room.work)
lays these times over the rows, and the sweep asks them before it decides that anyone has gone.

The version key is written after each change commits, so a pong can carry the room's version
without a query; a socket that stays behind it asks for the snapshot it missed. Two commits of one
room in two processes may write their versions in either order: the key may then lag by one change
until the next, which only delays the healing of a lost broadcast, never invents one.

The cache only ever makes someone more present or the room's version more recent than the database
says. When the cache is away (Redis restarting) or has forgotten (an eviction, a flush), the
database's values stand: people keep the time they were last written as seen, which is when they
arrived or came back, and the sweep may mark them away until their next heartbeat brings them back.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from django.core.cache import cache

from sharing.models import PRESENCE_TIMEOUT

# Longer than the presence timeout, so that the moment someone was last seen is still known when the
# sweep marks them away (it becomes their `disconnected_at`).
KEEP_SECONDS = int(PRESENCE_TIMEOUT.total_seconds()) * 8
# A quiet room's version key expires after this long; its next change writes it again.
VERSION_KEEP_SECONDS = 3600
# A browser's nudge for a deadline claims it for this long; the others sent for the same version
# within it are answered at once, and the sweep remains the safety net.
TICK_CLAIM_SECONDS = 2


def _seen_key(call_id: int, user_id: int) -> str:
    return f"room:{call_id}:seen:{user_id}"


def _version_key(call_id: int) -> str:
    return f"room:{call_id}:version"


def note_seen(call_id: int, user_id: int, now: datetime) -> None:
    """This person's socket is alive now."""
    with contextlib.suppress(Exception):
        cache.set(_seen_key(call_id, user_id), now.timestamp(), timeout=KEEP_SECONDS)


def last_seen(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], datetime]:
    """When each (call, person) was last seen by a heartbeat, for those the cache remembers."""
    if not pairs:
        return {}
    keys = {_seen_key(call_id, user_id): (call_id, user_id) for call_id, user_id in pairs}
    try:
        found = cache.get_many(list(keys))
    except Exception:
        return {}
    return {keys[key]: datetime.fromtimestamp(value, UTC) for key, value in found.items()}


def lay_over(call_id: int, participants) -> None:
    """Move each connected person's `last_seen_at` on to their latest heartbeat, in memory only."""
    connected = [p for p in participants if p.connected]
    seen = last_seen([(call_id, p.user_id) for p in connected])
    for p in connected:
        moment = seen.get((call_id, p.user_id))
        if moment is not None and moment > p.last_seen_at:
            p.last_seen_at = moment


def stale(candidates: list[tuple[int, int, datetime]], now: datetime) -> set[int]:
    """Of (call, person, last seen as the database has it) for people marked connected, the calls in
    which someone's heartbeats have stopped."""
    seen = last_seen([(call_id, user_id) for call_id, user_id, _ in candidates])
    limit = now - PRESENCE_TIMEOUT
    return {
        call_id
        for call_id, user_id, written in candidates
        if max(written, seen.get((call_id, user_id), written)) < limit
    }


def note_version(call_id: int, version: int) -> None:
    """The room's version, once the change that made it has committed. Each commit writes its own,
    so a value left from before a database was restored lasts only until the room's next change."""
    with contextlib.suppress(Exception):
        cache.set(_version_key(call_id), version, timeout=VERSION_KEEP_SECONDS)


def version(call_id: int) -> int | None:
    """The room's latest committed version as the cache knows it, or None when it does not."""
    try:
        return cache.get(_version_key(call_id))
    except Exception:
        return None


def claim_tick(call_id: int, version: int) -> bool:
    """Whether this nudge is the first for this room and version; True too when the cache is away
    (the room's row lock then keeps the nudges in order)."""
    try:
        return bool(cache.add(f"room:{call_id}:tick:{version}", 1, timeout=TICK_CLAIM_SECONDS))
    except Exception:
        return True
