"""Checks behind /healthz: each one talks to a real component and reports how it went."""

import asyncio
import time
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection

from attunement_site.celery import app as celery_app

TIMEOUT_SECONDS = 3


def _check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close_if_unusable_or_obsolete()


def _check_cache():
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("value did not come back")
    cache.delete(key)


def _check_broker():
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=TIMEOUT_SECONDS)


async def _check_channel_layer():
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel()
    token = uuid.uuid4().hex
    await layer.send(channel, {"type": "health.ping", "token": token})
    message = await layer.receive(channel)
    if message.get("token") != token:
        raise RuntimeError("round trip returned another message")


async def _timed(check):
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), TIMEOUT_SECONDS)
    except Exception as error:
        return {"ok": False, "error": type(error).__name__, "ms": _ms_since(started)}
    return {"ok": True, "ms": _ms_since(started)}


def _ms_since(started):
    return round((time.perf_counter() - started) * 1000, 1)


async def run_checks() -> dict:
    checks = {
        "database": sync_to_async(_check_database, thread_sensitive=True),
        "cache": sync_to_async(_check_cache, thread_sensitive=False),
        "channel_layer": _check_channel_layer,
        "broker": sync_to_async(_check_broker, thread_sensitive=False),
    }
    results = await asyncio.gather(*(_timed(check) for check in checks.values()))
    return dict(zip(checks, results, strict=True))
