"""Connections to Redis stay few: the channel layer's pool is bounded and gives idle connections back,
and the cache shares one pool per process instead of one per socket (a real Redis)."""

import asyncio
import contextvars
import os

import pytest
import redis
from django.conf import settings

from attunement_site.channel_layers import RedisChannelLayer

pytestmark = pytest.mark.redis


def _clients(name: str) -> int:
    return sum(1 for client in redis.Redis.from_url(settings.REDIS_URL).client_list() if client.get("name") == name)


async def test_a_burst_waits_for_free_connections_and_the_idle_ones_close_afterwards():
    name = f"pool-test-{os.getpid()}"
    layer = RedisChannelLayer(
        hosts=[{"address": settings.REDIS_URL, "client_name": name, "max_connections": 8, "idle_seconds": 0.2}],
        prefix=f"pool-test-{os.getpid()}",
        capacity=500,
    )
    channel = await layer.new_channel()
    await asyncio.gather(*(layer.group_add(f"g{n}", channel) for n in range(200)))
    await asyncio.gather(*(layer.group_send(f"g{n}", {"type": "x", "n": n}) for n in range(200)))
    assert 2 < _clients(name) <= 8  # bounded: the others waited instead of opening more
    received = {(await layer.receive(channel))["n"] for _ in range(200)}
    assert received == set(range(200))
    await asyncio.sleep(0.5)  # nothing more happens: the timer trims the idle ones
    assert _clients(name) <= 2
    await layer.flush()


async def test_a_connection_closes_once_it_has_been_idle_long_enough_not_a_whole_period_later():
    name = f"pool-idle-{os.getpid()}"
    layer = RedisChannelLayer(
        hosts=[{"address": settings.REDIS_URL, "client_name": name, "max_connections": 8, "idle_seconds": 1.0}],
        prefix=f"pool-idle-{os.getpid()}",
    )
    pool = layer.create_pool(0)
    held = [await pool.get_connection() for _ in range(4)]
    for connection in held:
        await connection.connect()
    for connection in held[:2]:
        await pool.release(connection)  # idle from 0 s: the timer wakes at 1 s
    await asyncio.sleep(0.5)
    for connection in held[2:]:
        await pool.release(connection)  # idle from 0.5 s
    await asyncio.sleep(1.25)  # 1.75 s: the third has been idle 1.25 s, and one is always kept
    assert len(pool._available_connections) == 1
    await pool.disconnect()


async def test_sockets_share_the_caches_connections_instead_of_holding_one_each():
    """Each socket's database work runs in a context of its own, and Django makes a cache object per
    context: without the shared pool, 60 sockets that touch the cache hold 60 connections."""
    from channels.db import database_sync_to_async
    from django.core.cache import cache

    def clients():
        return len(redis.Redis.from_url(settings.REDIS_URL).client_list())

    async def socket(number, done):  # its context lives as long as the socket
        await database_sync_to_async(cache.set, thread_sensitive=False)(f"pool-test-{number}", 1, 10)
        await done.wait()

    before = await database_sync_to_async(clients)()
    done = asyncio.Event()
    # Each in a fresh context, as the server starts each connection's handling.
    sockets = [asyncio.create_task(socket(number, done), context=contextvars.Context()) for number in range(60)]
    await asyncio.sleep(0.5)
    during = await database_sync_to_async(clients)()
    done.set()
    await asyncio.gather(*sockets)
    assert during - before <= 8  # one per thread at most, not one per socket
