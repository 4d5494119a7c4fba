"""channels-redis's RedisChannelLayer with a bounded connection pool that gives idle connections back.

Out of the box each process's pool opens a connection for every operation in flight and keeps it for
good: a thousand sockets closing at once (a deploy, a network drop) leave a thousand connections to
Redis open afterwards. Here an operation waits for a free connection once `max_connections` are in
use, and a connection left unused for `idle_seconds` is closed, so that after a burst each process
returns to the few connections it needs.
"""

from __future__ import annotations

import asyncio
import time

from channels_redis.core import RedisChannelLayer as BaseRedisChannelLayer
from redis.asyncio import BlockingConnectionPool

IDLE_SECONDS = 30
TIMER_SLACK_SECONDS = 0.05
MAX_CONNECTIONS = 100
POOL_WAIT_SECONDS = 20


class TrimmingPool(BlockingConnectionPool):
    """Waits for a free connection when all are in use, and closes those idle for too long: when a
    connection is given back, and on a timer, so that a process nobody uses any more trims too."""

    def __init__(self, *, idle_seconds: float = IDLE_SECONDS, **kwargs):
        super().__init__(**kwargs)
        self.idle_seconds = idle_seconds
        self._idle_since: dict[int, float] = {}
        self._trim_timer: asyncio.TimerHandle | None = None

    async def release(self, connection):
        await super().release(connection)
        self._idle_since[id(connection)] = time.monotonic()
        await self._trim()

    async def _trim(self) -> None:
        now = time.monotonic()
        due_in = None
        # Least recently used first: the pool hands out the most recently released one.
        while len(self._available_connections) > 1:
            oldest = self._available_connections[0]
            idle = now - self._idle_since.get(id(oldest), now)
            if idle < self.idle_seconds:
                due_in = self.idle_seconds - idle
                break
            self._available_connections.pop(0)
            self._idle_since.pop(id(oldest), None)
            await oldest.disconnect()
        # The timer wakes when the oldest connection left turns idle, not a whole period later.
        if due_in is not None and self._trim_timer is None:
            loop = asyncio.get_running_loop()
            self._trim_timer = loop.call_later(due_in + TIMER_SLACK_SECONDS, self._on_timer, loop)

    def _on_timer(self, loop: asyncio.AbstractEventLoop) -> None:
        self._trim_timer = None
        loop.create_task(self._trim())


class RedisChannelLayer(BaseRedisChannelLayer):
    def create_pool(self, index):
        host = dict(self.hosts[index])
        address = host.pop("address")
        host.setdefault("max_connections", MAX_CONNECTIONS)
        host.setdefault("timeout", POOL_WAIT_SECONDS)
        return TrimmingPool.from_url(address, **host)
