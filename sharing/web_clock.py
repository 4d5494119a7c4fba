"""The room clock inside the web process, for the embedded default.

Deadlines are columns, and the sweep (sharing.room.clock) applies whichever have passed; something
has to call it every second. In production that is Celery beat (the `sweep-rooms` schedule), and the snapshots it
broadcasts reach every web process through Redis. With the in-memory channel layer a broadcast
reaches only the sockets of the process that sends it, so there the sweep runs here, in the one web
process, every second: `ROOM_CLOCK_IN_WEB`, true by default exactly when the channel layer is the
in-memory one (and then beat does not schedule `sweep-rooms`).

This loop decides nothing: it only asks the sweep, which reads the deadlines from the database and
applies them under the rooms' row locks. A process that dies loses no time; whoever runs the sweep
next catches up.
"""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async
from django.conf import settings

from sharing import services

logger = logging.getLogger("attunement.clock")
EVERY_SECONDS = 1.0

_running: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}  # the clock of each event loop (one in a server)


def ensure_started() -> None:
    """Start this process's clock in the running event loop, once; does nothing unless
    ROOM_CLOCK_IN_WEB is on."""
    if not settings.ROOM_CLOCK_IN_WEB:
        return
    loop = asyncio.get_running_loop()
    task = _running.get(loop)
    if task is None or task.done():
        _running[loop] = loop.create_task(_run(), name="room-clock")
        logger.info("room clock started in the web process")


async def stop() -> None:
    """Stop the clock of the running event loop (for tests). A cancellation that reaches the clock
    while a sweep's broadcast is on its way can be absorbed by the thread it waits for, so the clock
    also ends by itself at its next round once it is no longer this loop's clock."""
    task = _running.pop(asyncio.get_running_loop(), None)
    if task is not None:
        task.cancel()
        await asyncio.wait({task}, timeout=EVERY_SECONDS * 5)


async def _run() -> None:
    sweep = database_sync_to_async(services.sweep, thread_sensitive=False)
    loop = asyncio.get_running_loop()
    me = asyncio.current_task()
    while _running.get(loop) is me:
        started = loop.time()
        try:
            await sweep()
        except Exception:  # the database may be away for a moment: try again next second
            logger.exception("room clock: the sweep failed")
        await asyncio.sleep(max(0.05, EVERY_SECONDS - (loop.time() - started)))


def with_room_clock(app):
    """Wrap the ASGI application so that the first request or socket starts the clock. (The web
    process runs with `--lifespan off`, so there is no startup event to hook.)"""

    async def application(scope, receive, send):
        if scope["type"] in {"http", "websocket"}:
            ensure_started()
        return await app(scope, receive, send)

    return application
