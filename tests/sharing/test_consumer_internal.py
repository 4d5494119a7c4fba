"""The room socket never dies of an unexpected exception: it answers `internal` and stays open. And
with the clock in the web process, what the clock changes reaches the sockets without a tick."""

import asyncio
import contextlib
import logging
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.utils import timezone

from sharing import consumers, services, web_clock
from sharing.models import Room
from tests.sharing.sockets import settle

pytestmark = pytest.mark.django_db(transaction=True)


async def test_an_unexpected_failure_answers_internal_logs_it_and_keeps_the_socket(room, sockets, monkeypatch, caplog):
    (fran,) = await sockets(room.facilitator)

    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "room_apply", broken)
    with caplog.at_level(logging.ERROR, logger="attunement.socket"):
        await fran.send({"type": "call.start"})
        error = await fran.error()
    assert error["code"] == "internal"
    record = next(r for r in caplog.records if r.getMessage() == "socket message failed")
    assert record.exc_info is not None
    assert record.call == room.call.pk
    assert record.correlation_id.startswith("ws-")  # the socket's own id, to find its other lines

    # The socket is still open and still served: a sync answers with the room as it is.
    monkeypatch.undo()
    await fran.send({"type": "sync"})
    assert (await fran.state())["status"] == "lobby"
    await fran.send({"type": "call.start"})
    assert (await fran.state())["status"] == "live"


async def test_a_failure_delivering_a_broadcast_keeps_the_socket(room, sockets, monkeypatch):
    fran, maya = await sockets(room.facilitator, room.maya)
    real = consumers.RoomConsumer.send_snapshot
    failed = []

    async def flaky(self, snapshot, **kwargs):
        if self.user.pk == room.facilitator.pk and snapshot["status"] == "live" and not failed:
            failed.append(snapshot["version"])
            raise RuntimeError("a bug while rendering")
        return await real(self, snapshot, **kwargs)

    monkeypatch.setattr(consumers.RoomConsumer, "send_snapshot", flaky)
    await fran.send({"type": "call.start"})
    assert (await fran.error())["code"] == "internal"  # Fran's socket failed to deliver the broadcast
    assert (await maya.receive_until(lambda m: m["type"] == "state" and m["status"] == "live"))["status"] == "live"
    await fran.send({"type": "sync"})
    assert (await fran.receive_until(lambda m: m["type"] == "state" and m["status"] == "live"))["version"] == failed[0]


async def test_with_the_clock_in_the_web_process_a_deadline_reaches_every_socket_within_a_second(
    room, sockets, settings
):
    """The embedded default: nobody ticks, and the web process's own clock moves the room on."""
    settings.ROOM_CLOCK_IN_WEB = True
    try:
        fran, maya = await sockets(room.facilitator, room.maya)  # the first socket starts the clock
        await fran.act("call.start")
        await fran.receive_until(lambda m: m["type"] == "state" and m["phase"] == "grounding")
        await fran.act("segment.next")
        turn = await fran.receive_until(lambda m: m["type"] == "state" and m["phase"] == "turn")
        version, speaker = turn["version"], turn["turn"]["speaker"]
        await settle(maya, version=version)

        def deadline_passes():
            past = timezone.now() - timedelta(seconds=1)
            Room.objects.filter(pk=room.call.pk).update(turn_ends_at=past, grace_ends_at=past, wake_at=past)

        await database_sync_to_async(deadline_passes)()
        started = asyncio.get_running_loop().time()
        states = await asyncio.gather(*(s.state_at_least(version + 1, timeout=3) for s in (fran, maya)))
        assert asyncio.get_running_loop().time() - started < 1.5  # one second of the clock, and the work
        assert {state["version"] for state in states} == {version + 1}
        assert states[0]["turn"]["speaker"] != speaker
    finally:
        await web_clock.stop()


async def test_the_web_clock_stops_though_a_sweep_absorbs_its_cancellation(settings, monkeypatch):
    """A sweep's broadcast runs on the event loop while the sweep's thread waits for it: a
    cancellation that lands then reaches the broadcast, and the thread may absorb it, so the clock
    goes on. It still stops: it ends at its next round once it is no longer the loop's clock."""
    settings.ROOM_CLOCK_IN_WEB = True
    rounds = []
    broadcasting = asyncio.Event()

    async def broadcast():
        broadcasting.set()
        await asyncio.sleep(0.5)

    def absorbing_sweep(**kwargs):
        rounds.append(1)
        with contextlib.suppress(BaseException):  # what a thread may do with the cancellation
            async_to_sync(broadcast)()

    monkeypatch.setattr(services, "sweep", absorbing_sweep)
    web_clock.ensure_started()
    await asyncio.wait_for(broadcasting.wait(), 5)
    loop = asyncio.get_running_loop()
    asked = loop.time()
    await asyncio.wait_for(web_clock.stop(), 10)
    assert loop.time() - asked < 3  # the round in progress, not the 10 s the test would wait
    counted = len(rounds)
    await asyncio.sleep(web_clock.EVERY_SECONDS * 2.5)
    assert len(rounds) == counted  # no round after the stop
