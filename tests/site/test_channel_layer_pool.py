"""The channel layer's Redis pool is bounded and gives idle connections back (a real Redis)."""

import asyncio
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
    await asyncio.sleep(0.3)
    await layer.group_discard("g0", channel)  # any release trims the idle ones
    assert _clients(name) <= 2
    await layer.flush()
