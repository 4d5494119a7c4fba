"""Presence off the database's hot path: a heartbeat and a pong touch the cache alone, the rows change
only when someone's presence does, and the nudges of a room's browsers for one deadline take its
lock once."""

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sharing import consumers, services
from sharing.models import PRESENCE_TIMEOUT, Participant, Room, RoomEvent
from sharing.room import liveness
from tests.rooms import at

pytestmark = pytest.mark.django_db


def _forget(room):
    """The cache forgets this room (a Redis restart without persistence): its version and heartbeats.
    Only these keys: clearing the whole cache on Redis would also empty the channel layer's groups."""
    cache.delete_many(
        [liveness._version_key(room.call.pk)] + [liveness._seen_key(room.call.pk, p.pk) for p in room.everyone]
    )


def _row(room, user):
    return Participant.objects.get(room_id=room.call.pk, user=user)


def test_a_heartbeat_writes_no_row_and_makes_no_query(started, t0):
    room = started
    before = _row(room, room.maya).last_seen_at
    version = Room.objects.get(pk=room.call.pk).version
    liveness.note_version(room.call.pk, version)
    with CaptureQueriesContext(connection) as queries:
        assert services.heartbeat(call_id=room.call.pk, user=room.maya, now=at(t0, 30)) == version
    assert len(queries) == 0
    assert _row(room, room.maya).last_seen_at == before


def test_a_heartbeat_never_reads_the_database_even_when_the_cache_forgot_the_version(started, t0):
    room = started
    _forget(room)
    with CaptureQueriesContext(connection) as queries:
        assert services.heartbeat(call_id=room.call.pk, user=room.maya, now=at(t0, 30)) is None
    assert len(queries) == 0


def test_the_version_is_written_when_a_change_commits(started, t0, django_capture_on_commit_callbacks):
    room = started
    liveness.note_version(room.call.pk, 1000)  # left from before the database was restored
    with django_capture_on_commit_callbacks(execute=True):
        snapshot = room.act(room.facilitator, "turn.finish", now=at(t0, 3))
    assert liveness.version(room.call.pk) == snapshot["version"] < 1000


def test_someone_whose_heartbeats_come_stays_present_though_their_row_is_old(started, t0):
    room = started
    written = _row(room, room.maya).last_seen_at
    for second in range(10, 61, 8):
        for person in room.everyone:
            services.heartbeat(call_id=room.call.pk, user=person, now=at(t0, second))
        services.sweep(now=at(t0, second))
    snapshot = room.snapshot(at(t0, 60))
    assert all(p["present"] for p in snapshot["participants"])
    assert not RoomEvent.objects.filter(room_id=room.call.pk, kind="presence.left").exists()
    assert _row(room, room.maya).last_seen_at == written  # no heartbeat wrote it


def test_someone_whose_heartbeats_stop_is_marked_away_from_their_last_one(started, t0):
    room = started
    for person in room.everyone:
        services.heartbeat(call_id=room.call.pk, user=person, now=at(t0, 20))
    for person in room.everyone:
        if person != room.maya:
            services.heartbeat(call_id=room.call.pk, user=person, now=at(t0, 34))
    assert services.sweep(now=at(t0, 34)) == 0  # 14 s since Maya's last heartbeat
    assert services.sweep(now=at(t0, 36)) == 1
    maya = _row(room, room.maya)
    assert not maya.connected
    assert maya.disconnected_at == at(t0, 20)
    present = {p["name"]: p["present"] for p in room.snapshot(at(t0, 36))["participants"]}
    assert present.pop("Maya") is False
    assert all(present.values())


def test_the_database_alone_decides_when_the_cache_knows_nothing(started, t0):
    room = started
    _forget(room)
    assert services.sweep(now=at(t0, 15)) == 0
    assert services.sweep(now=at(t0, 17)) == 1
    assert not any(p["present"] for p in room.snapshot(at(t0, 17))["participants"])


def test_the_nudges_for_one_version_claim_it_once(started, t0):
    room = started
    version = Room.objects.get(pk=room.call.pk).version
    liveness.note_version(room.call.pk, version)
    services.room_tick(call_id=room.call.pk, seen_version=version, now=at(t0, 2))
    with CaptureQueriesContext(connection) as queries:
        for _ in range(7):
            assert services.room_tick(call_id=room.call.pk, seen_version=version, now=at(t0, 2)) is None
    assert len(queries) == 0


def test_a_nudge_for_a_version_the_room_never_had_claims_nothing_and_takes_no_lock(started, t0):
    room = started
    version = Room.objects.get(pk=room.call.pk).version
    liveness.note_version(room.call.pk, version)
    with CaptureQueriesContext(connection) as queries:
        for future in range(version + 1, version + 40):
            assert services.room_tick(call_id=room.call.pk, seen_version=future, now=at(t0, 2)) is None
    assert not any("FOR UPDATE" in query["sql"] for query in queries.captured_queries)
    assert liveness.claim_tick(room.call.pk, version)  # the real version's nudge is still free


def test_a_nudge_is_answered_though_the_cache_lags_one_commit_behind(started, t0):
    """Two commits' keys written out of order leave the cache a version behind: the row decides."""
    room = started
    version = Room.objects.get(pk=room.call.pk).version
    liveness.note_version(room.call.pk, version - 1)
    Room.objects.filter(pk=room.call.pk).update(wake_at=at(t0, 1))  # something is due
    services.room_tick(call_id=room.call.pk, seen_version=version, now=at(t0, 2))
    assert not liveness.claim_tick(room.call.pk, version)  # this nudge claimed it, and went on


# Sockets


async def _ping(socket, number):
    await socket.send({"type": "ping", "t": number})
    return await socket.receive_until(lambda m: m["type"] == "pong")


@pytest.mark.django_db(transaction=True)
async def test_a_heartbeat_answers_with_the_rooms_version_and_heals_a_missed_broadcast(room, sockets, monkeypatch):
    monkeypatch.setattr(consumers, "HEARTBEAT_EVERY_SECONDS", 0)  # every ping is a heartbeat
    fran, maya = await sockets(room.facilitator, room.maya)
    await fran.state_at_least(maya.version)

    def a_change_nobody_heard_of():
        Room.objects.filter(pk=room.call.pk).update(version=maya.version + 1)
        liveness.note_version(room.call.pk, maya.version + 1)

    await database_sync_to_async(a_change_nobody_heard_of)()
    held = maya.version
    pong = await _ping(maya, 7)
    assert (pong["t"], pong["version"], maya.version) == (7, held + 1, held)  # the browser may ask
    # Still behind at the next heartbeat: the broadcast was not on its way, it was lost. The server heals.
    await maya.send({"type": "ping", "t": 8})
    state = await maya.receive_until(lambda m: m["type"] == "state")
    assert state["version"] == held + 1
    assert (await maya.receive_until(lambda m: m["type"] == "pong"))["version"] == held + 1


@pytest.mark.django_db(transaction=True)
async def test_a_socket_marked_away_comes_back_on_its_next_ping(room, sockets):
    fran, maya = await sockets(room.facilitator, room.maya)
    await fran.state_at_least(maya.version)
    later = timezone.now() + timedelta(seconds=40)  # no heartbeat has come for 40 s
    await database_sync_to_async(services.sweep)(now=later)
    state = await maya.state_at_least(maya.version + 1)
    assert next(p for p in state["participants"] if p["id"] == state["you"]["participant"])["present"] is False
    await _ping(maya, 1)
    state = await maya.state_at_least(state["version"] + 1)
    me = next(p for p in state["participants"] if p["id"] == state["you"]["participant"])
    assert me["present"] is True and me["state"] == "admitted"
    await asyncio.sleep(0)


def _browser_ping_seconds() -> float:
    script = (Path(settings.BASE_DIR) / "static/js/room/connection.js").read_text()
    line = next(line for line in script.splitlines() if line.startswith("const PING_EVERY_MS"))
    return int(line.split("=")[1].strip(" ;")) / 1000


def test_every_ping_a_browser_sends_is_a_heartbeat_and_one_late_ping_does_not_make_anyone_away():
    """The room page pings every 8 s. Each of those pings must be a heartbeat, so that presence needs
    no other message, and a ping that comes a few seconds late must still land before the presence
    timeout."""
    ping_every = _browser_ping_seconds()
    assert ping_every > consumers.HEARTBEAT_EVERY_SECONDS
    assert PRESENCE_TIMEOUT.total_seconds() - ping_every >= 5
