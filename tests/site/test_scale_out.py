"""Settings for more than one machine: the channel layer sharded across Redis servers
(CHANNEL_REDIS_HOSTS), and PostgreSQL behind PgBouncer in transaction pooling mode
(DATABASE_DISABLE_SERVER_SIDE_CURSORS)."""

import asyncio
import json
import uuid
from datetime import time, timedelta
from unittest import mock

import pytest
import redis
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.db import connection
from django.utils import timezone

from groups.models import Call, Series
from groups.services.scheduling import series_materialise_all
from tests.processes import RedisServer
from tests.site.test_settings_modes import load_settings

PROBE = """
import json, attunement_site.settings as s
print(json.dumps({
    "channel_hosts": [host["address"] for host in s.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]],
    "cache": s.CACHES["default"]["LOCATION"],
    "broker": s.CELERY_BROKER_URL,
    "no_server_side_cursors": s.DATABASES["default"].get("DISABLE_SERVER_SIDE_CURSORS"),
    "layer": s.CHANNEL_LAYERS["default"]["BACKEND"],
    "layer_config": sorted(s.CHANNEL_LAYERS["default"]["CONFIG"]),
}))
"""
POSTGRES = "postgres://postgres@127.0.0.1:5432/attunement"
REDIS = "redis://127.0.0.1:6379/0"


def probe(tmp_path, **environ):
    return load_settings(tmp_path, probe=PROBE, **environ)


def test_channel_redis_hosts_shard_the_channel_layer_only(tmp_path):
    result = probe(
        tmp_path,
        DATABASE_URL=POSTGRES,
        REDIS_URL=REDIS,
        CHANNEL_REDIS_HOSTS="redis://10.0.0.5:6379/0, redis://10.0.0.6:6379/0",
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["channel_hosts"] == ["redis://10.0.0.5:6379/0", "redis://10.0.0.6:6379/0"]
    assert loaded["cache"] == REDIS
    assert loaded["broker"] == REDIS
    assert loaded["no_server_side_cursors"] is False


def test_without_channel_redis_hosts_the_layer_uses_redis_url(tmp_path):
    result = probe(tmp_path, DATABASE_URL=POSTGRES, REDIS_URL=REDIS)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["channel_hosts"] == [REDIS]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"REDIS_URL": REDIS, "CHANNEL_REDIS_HOSTS": "redis://10.0.0.5:6379/0,http://10.0.0.6"}, "CHANNEL_REDIS_HOSTS"),
        ({"CHANNEL_REDIS_HOSTS": "redis://10.0.0.5:6379/0"}, "CHANNEL_REDIS_HOSTS needs REDIS_URL"),
        ({"DATABASE_URL": POSTGRES, "DATABASE_DISABLE_SERVER_SIDE_CURSORS": "sometimes"}, "DATABASE_DISABLE_SERVER"),
    ],
)
def test_a_malformed_value_stops_startup_naming_the_variable(tmp_path, environ, message):
    result = probe(tmp_path, **environ)
    assert result.returncode != 0
    assert message in result.stderr


def test_pgbouncer_mode_is_a_setting(tmp_path):
    result = probe(tmp_path, DATABASE_URL=POSTGRES, REDIS_URL=REDIS, DATABASE_DISABLE_SERVER_SIDE_CURSORS="true")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["no_server_side_cursors"] is True


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_series_materialiser_opens_no_server_side_cursor_in_pgbouncer_mode(circle):
    """QuerySet.iterator() asks the connection for a chunked (server-side, named) cursor unless the
    setting is on; in PgBouncer's transaction mode such a cursor would break. Run the materialiser
    both ways and count the cursors it asked for."""
    first = timezone.localdate() + timedelta(days=1)
    series = Series.objects.create(
        community=circle.community,
        format=circle.call_format,
        facilitator=circle.facilitator,
        title="Thursday circle",
        time_zone="Europe/Berlin",
        start_date=first,
        start_time=time(18, 0),
        frequency=Series.Frequency.WEEKLY,
        weekdays=[first.weekday()],
        capacity=8,
    )
    settings_dict = connection.settings_dict
    counted = mock.patch.object(connection, "chunked_cursor", wraps=connection.chunked_cursor)

    with mock.patch.dict(settings_dict, {"DISABLE_SERVER_SIDE_CURSORS": True}), counted as chunked:
        created = series_materialise_all()
    assert created > 0
    assert Call.objects.filter(series=series).count() == created
    assert chunked.call_count == 0

    Call.objects.filter(series=series).delete()
    Series.objects.filter(pk=series.pk).update(materialised_until=None)
    with mock.patch.dict(settings_dict, {"DISABLE_SERVER_SIDE_CURSORS": False}), counted as chunked:
        assert series_materialise_all() == created
    assert chunked.call_count >= 1  # the same code path does use one by default


@pytest.mark.redis
def test_a_layer_sharded_across_two_redis_servers_delivers_every_message(tmp_path):
    """Two real redis-servers; 40 rooms' groups of 4 sockets each spread over both; every group
    message reaches every member, and both servers carried some of the groups."""
    servers = [RedisServer(tmp_path / "redis-a.log"), RedisServer(tmp_path / "redis-b.log")]
    prefix = f"shard-test-{uuid.uuid4().hex[:8]}"
    try:
        layer = RedisChannelLayer(hosts=[server.url for server in servers], prefix=prefix, expiry=30)

        async def run():
            members = {}
            for room in range(40):
                group = f"call.{room}"
                members[group] = [await layer.new_channel() for _ in range(4)]
                for channel in members[group]:
                    await layer.group_add(group, channel)
            groups_on = [
                {key.decode() for key in redis.Redis.from_url(server.url).keys(f"{prefix}:group:*")}
                for server in servers
            ]
            for group in members:
                await layer.group_send(group, {"type": "room.state", "group": group})
            received = {}
            for channels in members.values():
                for channel in channels:
                    message = await asyncio.wait_for(layer.receive(channel), timeout=5)
                    received[channel] = message["group"]
            await layer.flush()
            return members, received, groups_on

        members, received, groups_on = asyncio.run(run())
    finally:
        for server in servers:
            server.stop()
    assert all(received[channel] == group for group, channels in members.items() for channel in channels)
    assert len(received) == 160
    assert all(groups_on), f"one server carried no group: {[len(found) for found in groups_on]}"
    assert sum(len(found) for found in groups_on) == 40


def test_channel_layer_kind_chooses_lists_or_pubsub(tmp_path):
    lists = json.loads(probe(tmp_path, DATABASE_URL=POSTGRES, REDIS_URL=REDIS).stdout)
    assert (lists["layer"], lists["layer_config"]) == (
        "attunement_site.channel_layers.RedisChannelLayer",
        ["capacity", "expiry", "hosts", "prefix"],
    )
    result = probe(tmp_path, DATABASE_URL=POSTGRES, REDIS_URL=REDIS, CHANNEL_LAYER_KIND="pubsub")
    assert result.returncode == 0, result.stderr
    pubsub = json.loads(result.stdout)
    assert (pubsub["layer"], pubsub["layer_config"]) == (
        "channels_redis.pubsub.RedisPubSubChannelLayer",
        ["hosts", "prefix"],
    )
    assert pubsub["channel_hosts"] == [REDIS]
    refused = probe(tmp_path, REDIS_URL=REDIS, CHANNEL_LAYER_KIND="streams")
    assert refused.returncode != 0 and "CHANNEL_LAYER_KIND" in refused.stderr


@pytest.mark.redis
def test_the_pubsub_layer_delivers_group_messages_on_the_real_redis(settings):
    """The settings' pubsub layer, built from the same host options, round-trips group messages."""
    layer = RedisPubSubChannelLayer(
        hosts=[{"address": settings.REDIS_URL, "socket_timeout": 30, "health_check_interval": 10}],
        prefix=f"pubsub-test-{uuid.uuid4().hex[:8]}",
    )

    async def run():
        try:
            channels = [await layer.new_channel() for _ in range(3)]
            for channel in channels:
                await layer.group_add("call.1", channel)
            await layer.group_send("call.1", {"type": "room.state", "version": 7})
            return [await asyncio.wait_for(layer.receive(channel), timeout=5) for channel in channels]
        finally:
            await layer.flush()

    assert [message["version"] for message in asyncio.run(run())] == [7, 7, 7]
