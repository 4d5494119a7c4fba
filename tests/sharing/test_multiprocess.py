"""Two real ASGI server processes on real Redis and PostgreSQL share one room. Killing one of them
mid-turn loses nothing: its clients reconnect to the other and the round goes on."""

import asyncio
import signal

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from sharing.models import RoomEvent
from tests.processes import WebServer, server_environment
from tests.roomclient import RoomClient

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def cookie_for(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


@pytest.fixture
def servers(tmp_path, room):
    env = server_environment(tmp_path, DATABASE_POOL_MAX_SIZE="4")
    pair = [WebServer(env, tmp_path), WebServer(env, tmp_path)]
    try:
        for server in pair:
            server.wait_ready()
        yield pair
    finally:
        for server in pair:
            server.stop()


async def run_turns(clients, *, until):
    """Each speaker in turn says "I'm done" (and closes their reflections), until `until(state)`."""
    while True:
        state = clients[0].state
        if until(state):
            break
        speaker = state["turn"]["speaker"] if state["turn"] else None
        owner = next((c for c in clients if speaker is not None and c.me() == speaker), None)
        if owner is None:
            await clients[0].wait_for(lambda s, v=state["version"]: s["version"] > v)
            continue
        await owner.act("reflections.end" if state["phase"] == "reflections" else "turn.finish")
        await asyncio.gather(*(c.wait_for(lambda s, v=state["version"]: s["version"] > v) for c in clients))


async def test_a_room_across_two_processes_survives_one_being_killed_mid_turn(room, servers):
    first, second = servers
    people = [room.facilitator, room.maya, room.jonas, room.aiko]
    cookies = [await database_sync_to_async(cookie_for)(person) for person in people]
    fran, maya, jonas, aiko = (
        RoomClient(p.display_name, c, room.call.pk) for p, c in zip(people, cookies, strict=True)
    )
    clients = [fran, maya, jonas, aiko]
    try:
        await fran.connect(first.url)
        await maya.connect(first.url)
        await jonas.connect(second.url)
        await aiko.connect(second.url)
        everyone_in = lambda s: sum(p["present"] for p in s["participants"]) == 4  # noqa: E731
        await asyncio.gather(*(c.wait_for(everyone_in) for c in clients))

        await fran.act("call.start")
        await asyncio.gather(*(c.wait_for(lambda s: s["status"] == "live") for c in clients))
        await fran.act("segment.next")  # past the grounding, into the check-in round
        await asyncio.gather(*(c.wait_for(lambda s: s["phase"] == "turn") for c in clients))

        # The whole check-in round, with the speakers' sockets on both processes.
        await run_turns(clients, until=lambda s: s["segment_complete"])
        final = fran.state["version"]
        await asyncio.gather(*(c.wait_for(lambda s, v=final: s["version"] >= v) for c in clients))
        assert {c.state["version"] for c in clients} == {final}

        # The sharing round: Fran shares, closes her reflections, and Maya begins.
        await fran.act("segment.next")
        await fran.wait_for(lambda s: s["phase"] == "turn" and s["segment_index"] == 2)
        await fran.send({"type": "share.mode", "mode": "resonance"})
        await fran.wait_for(lambda s: s["turn"]["share_mode"] == "resonance")
        await fran.act("turn.finish")
        maya_speaks = await maya.wait_for(lambda s: s["phase"] == "turn" and s["turn"]["speaker"] == maya.me())
        turn_number = maya_speaks["turn"]["number"]
        before_kill = {c.name: c.state["version"] for c in clients}

        # SIGKILL the first process in the middle of Maya's turn.
        first.kill(signal.SIGKILL)
        await asyncio.gather(fran.closed.wait(), maya.closed.wait())
        await fran.connect(second.url)
        await maya.connect(second.url)
        for client in (fran, maya):
            state = client.state
            assert state["version"] >= before_kill[client.name], "versions continue"
            assert state["turn"]["speaker"] == maya.me(), "the same turn goes on"
            assert state["turn"]["number"] == turn_number

        # The round completes on the surviving process.
        await run_turns(clients, until=lambda s: s["segment_complete"] and s["segment_index"] == 2)
        final = fran.state["version"]
        await asyncio.gather(*(c.wait_for(lambda s, v=final: s["version"] >= v) for c in clients))
        assert {c.state["version"] for c in clients} == {final}
        for client in clients:
            assert client.versions == sorted(set(client.versions)), "no client ever went back"

        ended = await database_sync_to_async(
            lambda: list(
                RoomEvent.objects.filter(room_id=room.call.pk, kind="turn.ended", detail__segment=2)
                .order_by("pk")
                .values_list("subject__user__display_name", "detail__outcome")
            )
        )()
        speakers = [name for name, outcome in ended if outcome in {"finished", "timeout"}]
        assert sorted(speakers) == ["Aiko", "Fran", "Jonas", "Maya"], "every turn once: none lost, none doubled"
    finally:
        for client in clients:
            await client.close()
