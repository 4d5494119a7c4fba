"""The room socket never dies of an unexpected exception: it answers `internal` and stays open."""

import logging

import pytest

from sharing import consumers, services

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
    calls = {"n": 0}

    async def flaky(self, snapshot, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("a bug while rendering")
        return await real(self, snapshot, **kwargs)

    monkeypatch.setattr(consumers.RoomConsumer, "send_snapshot", flaky)
    await fran.send({"type": "call.start"})
    first = await fran.receive_until(lambda m: m["type"] in {"error", "state"})
    other = await maya.receive_until(lambda m: m["type"] in {"error", "state"})
    assert {first["type"], other["type"]} == {"error", "state"}
    broken = fran if first["type"] == "error" else maya
    assert (first if broken is fran else other)["code"] == "internal"
    await broken.send({"type": "sync"})
    assert (await broken.state())["status"] == "live"
