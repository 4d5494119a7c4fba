"""The room socket with WebsocketCommunicator: a facilitator and three members on real sockets."""

import asyncio
import json
import threading
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from sharing import consumers
from sharing.models import Room, RoomEvent
from tests.sharing.sockets import Socket, settle

pytestmark = pytest.mark.django_db(transaction=True)

# Who may connect


async def test_anonymous_people_are_told_to_log_in_and_closed(room):
    socket = Socket(room.call.pk)
    assert await socket.connect()
    assert (await socket.error())["code"] == "unauthenticated"
    assert await socket.closed_with() == 4401


@pytest.mark.parametrize(
    ("persona", "code"), [("outsider", "forbidden"), ("banned", "forbidden"), ("pending", "forbidden")]
)
async def test_people_outside_the_circle_cannot_connect(room, persona, code):
    socket = Socket(room.call.pk, getattr(room.circle, persona))
    assert await socket.connect()
    assert (await socket.error())["code"] == code
    assert await socket.closed_with() == 4403


async def test_a_foreign_origin_is_refused_at_the_handshake(room):
    socket = Socket(room.call.pk, room.maya, origin=b"https://evil.example")
    assert not await socket.connect()


async def test_a_call_that_does_not_exist(room):
    socket = Socket(10**6, room.maya)
    assert await socket.connect()
    assert (await socket.error())["code"] == "not_found"
    assert await socket.closed_with() == 4404


# The actions, end to end


async def test_a_round_with_every_kind_of_action(room, sockets):
    fran, maya, jonas, aiko = await sockets(room.facilitator, room.maya, room.jonas, room.aiko)
    everyone = [fran, maya, jonas, aiko]
    await fran.send({"type": "sync"})
    snap = await fran.receive_until(lambda m: m["type"] == "state" and len(m["participants"]) == 4)
    ids = {p["name"]: p["id"] for p in snap["participants"]}
    version = snap["version"]

    async def act(socket, message):
        nonlocal version
        message = dict(message)
        kind = message.pop("type")
        message.pop("version", None)
        if kind == "order.set":
            message["version"] = socket.last["version"]
        await socket.act(kind, **message)
        states = await settle(*everyone, version=version + 1)
        version = states[0]["version"]
        return states

    await act(fran, {"type": "call.start", "version": version})
    await act(fran, {"type": "segment.next", "version": version})  # past the grounding, into check-in
    views = dict(zip(everyone, await settle(*everyone, version=version), strict=True))
    assert views[maya]["turn"]["speaker"] == ids["Fran"]
    assert views[maya]["you"] == {
        "participant": ids["Maya"],
        "role": "member",
        "state": "admitted",
        "facilitator": False,
        "may": ["checkin.set", "hand.lower", "resonate", "support.request", "turn.pass"],
    }
    assert views[maya]["participants"][0]["accommodations"] is None  # facilitators only
    assert views[fran]["participants"][0]["accommodations"] is not None

    states = await act(maya, {"type": "resonate"})
    assert states[0]["turn"]["resonance_count"] == 1  # the speaker sees the count
    assert states[1]["turn"]["resonance_count"] is None  # listeners do not
    await act(fran, {"type": "turn.extend", "version": version})
    await act(jonas, {"type": "turn.pass"})
    await act(fran, {"type": "pause"})
    states = await act(fran, {"type": "resume"})
    assert states[0]["status"] == "live"
    await act(fran, {"type": "share.typing", "typing": True})
    await fran.send({"type": "share.text", "text": "I typed this"})
    for socket in everyone:
        relayed = await socket.receive_until(lambda m: m["type"] == "share.text")
        assert relayed["text"] == "I typed this"
    await act(fran, {"type": "share.mode", "mode": "listen"})
    await act(fran, {"type": "turn.finish", "version": version})  # Cody is not connected: he is skipped
    states = await settle(*everyone, version=version)
    assert states[0]["turn"]["speaker"] == ids["Maya"]
    arranged = [ids["Fran"], ids["Maya"], ids["Aiko"], ids["Jonas"]]
    states = await act(fran, {"type": "order.set", "version": version, "order": arranged})
    assert states[0]["order"] == arranged
    await act(fran, {"type": "settings", "locked": True, "talking_stick": False})
    await act(aiko, {"type": "support.request"})
    states = await act(fran, {"type": "support.clear", "participant": ids["Aiko"]})
    assert not any(p["needs_support"] for p in states[0]["participants"])
    await act(maya, {"type": "turn.finish", "version": version})
    await act(fran, {"type": "turn.skip", "version": version})  # skip Aiko
    await act(fran, {"type": "segment.next", "version": version})  # the sharing round
    states = await act(fran, {"type": "turn.finish", "version": version})  # Fran done: reflections
    assert states[0]["phase"] == "reflections"
    await act(aiko, {"type": "hand.raise"})
    states = await act(maya, {"type": "hand.raise"})
    assert states[0]["turn"]["reflector"] == ids["Aiko"]
    await act(aiko, {"type": "reflection.done"})
    await act(maya, {"type": "hand.lower"})
    await jonas.send({"type": "reflection.send", "text": "That moved me"})
    private = await fran.receive_until(lambda m: m["type"] == "reflection")
    assert (private["from"], private["text"]) == (ids["Jonas"], "That moved me")
    assert await maya.quiet(), "a typed reflection goes to the sharer alone"
    await fran.send(
        {
            "type": "reflection.show",
            "id": private["id"],
            "from": private["from"],
            "text": private["text"],
            "sig": private["sig"],
        }
    )
    for socket in everyone:
        shown = await socket.receive_until(lambda m: m["type"] == "reflection.shown")
        assert shown["text"] == "That moved me"
    await act(fran, {"type": "reflections.end", "version": version})
    await act(fran, {"type": "participant.remove", "participant": ids["Jonas"]})
    assert (await jonas.error())["code"] == "removed"
    assert await jonas.closed_with() == 4403
    everyone.remove(jonas)
    states = await act(fran, {"type": "call.end", "version": version})
    assert states[0]["status"] == "ended"
    events = await database_sync_to_async(list)(RoomEvent.objects.values_list("detail", flat=True))
    assert "That moved me" not in json.dumps(events) and "I typed this" not in json.dumps(events)


async def test_members_get_forbidden_for_facilitator_controls_and_nothing_changes(room, sockets):
    fran, maya = await sockets(room.facilitator, room.maya)
    await fran.state_at_least(maya.version)  # Maya's arrival
    await fran.act("call.start")
    version = (await settle(fran, maya, version=fran.version + 1))[0]["version"]
    for message in [
        {"type": "turn.skip", "turn": 1},
        {"type": "turn.extend", "turn": 1},
        {"type": "turn.finish", "turn": 1},
        {"type": "call.end"},
        {"type": "settings", "locked": True},
        {"type": "participant.remove", "participant": 1},
    ]:
        await maya.send(message)
        error = await maya.error()
        assert error["code"] == "forbidden", message
    assert await fran.quiet()
    room_version = await database_sync_to_async(lambda: Room.objects.get(pk=room.call.pk).version)()
    assert room_version == version


# Bad input


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "malformed"),
        ("[1, 2]", "malformed"),
        ('{"kind": "ping"}', "malformed"),
        ('{"type": "teleport"}', "unknown_type"),
        ('{"type": "turn.finish", "turn": "41"}', "invalid"),
        ('{"type": "turn.finish"}', "invalid"),
        ('{"type": "share.mode", "mode": "shout"}', "invalid"),
        ('{"type": "resonate", "extra": true}', "invalid"),
        ('{"type": "reflection.send", "text": "' + "x" * 281 + '"}', "invalid"),
        ('{"type": "share.text", "text": "' + "x" * 5000 + '"}', "too_large"),
    ],
)
async def test_malformed_frames_get_an_error_change_nothing_and_keep_the_socket(room, sockets, frame, code):
    (maya,) = await sockets(room.maya)
    before = maya.version
    await maya.send_raw(frame)
    error = await maya.error()
    assert error["code"] == code
    await maya.send({"type": "ping", "t": 1})
    assert (await maya.receive_until(lambda m: m["type"] == "pong"))["t"] == 1
    after = await database_sync_to_async(lambda: Room.objects.get(pk=room.call.pk).version)()
    assert after == before


async def test_a_next_for_a_turn_already_past_is_refused_but_arrivals_do_not_make_it_stale(room, sockets):
    fran, cody = await sockets(room.facilitator, room.co_facilitator)
    await fran.state_at_least(cody.version)
    await fran.act("call.start")
    await fran.state_at_least(fran.version + 1)
    await fran.act("segment.next")
    state = await fran.state_at_least(fran.version + 1)
    turn = state["turn"]["number"]
    # Maya arrives: the room's version moves on, but Fran's "Next" still means this turn.
    maya = Socket(room.call.pk, room.maya)
    assert await maya.connect()
    await fran.state_at_least(state["version"] + 1)
    await fran.send({"type": "turn.finish", "turn": turn})
    await cody.state_at_least(state["version"] + 2)
    # Cody pressed "Next" for the same turn a moment later: refused, and nobody else is skipped.
    await cody.send({"type": "turn.finish", "turn": turn})
    error = await cody.error()
    assert error["code"] == "stale"
    await fran.send({"type": "segment.next", "segment": 0})
    assert (await fran.error())["code"] == "stale"
    await maya.close()


async def test_a_flood_of_messages_closes_the_socket_with_4008(room, sockets):
    (maya,) = await sockets(room.maya)
    for number in range(110):
        await maya.send({"type": "ping", "t": number})
    assert await maya.closed_with(timeout=10) == 4008


# Reconnecting and deadlines


async def test_a_reconnecting_client_resyncs_from_the_snapshot(room, sockets):
    fran, maya = await sockets(room.facilitator, room.maya)
    await maya.close()
    await fran.state_at_least(maya.version + 1)  # Maya's departure
    await fran.act("call.start")
    await fran.state_at_least(fran.version + 1)
    await fran.act("segment.next")
    latest = (await fran.state_at_least(fran.version + 1))["version"]
    again = Socket(room.call.pk, room.maya)
    assert await again.connect()
    state = await again.state_at_least(latest)
    assert state["phase"] == "turn"
    await again.send({"type": "sync"})
    assert (await again.receive_until(lambda m: m["type"] == "state"))["version"] >= latest
    await again.close()


async def test_many_simultaneous_nudges_for_one_deadline_advance_the_room_once(room, sockets):
    fran, maya, jonas, aiko = await sockets(room.facilitator, room.maya, room.jonas, room.aiko)
    everyone = [fran, maya, jonas, aiko]
    await settle(*everyone, version=aiko.version)
    await fran.act("call.start")
    await settle(*everyone, version=fran.version + 1)
    await fran.act("segment.next")
    states = await settle(*everyone, version=fran.version + 1)
    version = states[0]["version"]
    speaker = states[0]["turn"]["speaker"]

    def deadline_passes():
        past = timezone.now() - timedelta(seconds=1)
        Room.objects.filter(pk=room.call.pk).update(turn_ends_at=past, grace_ends_at=past, wake_at=past)

    await database_sync_to_async(deadline_passes)()
    await asyncio.gather(*(socket.send({"type": "tick", "version": version}) for socket in everyone for _ in range(10)))
    states = await settle(*everyone, version=version + 1)
    assert {state["version"] for state in states} == {version + 1}
    assert states[0]["turn"]["speaker"] != speaker
    for socket in everyone:
        assert await socket.quiet(0.5), "only one advance for one deadline"
    timeouts = await database_sync_to_async(
        lambda: RoomEvent.objects.filter(kind="turn.ended", detail__outcome="timeout").count()
    )()
    assert timeouts == 1


# One tab per person


async def test_a_second_socket_of_the_same_person_replaces_the_first_and_she_stays_present(room, sockets):
    fran, maya = await sockets(room.facilitator, room.maya)
    newer = Socket(room.call.pk, room.maya)
    assert await newer.connect()
    state = await newer.state()
    assert (await maya.error())["code"] == "replaced"
    assert await maya.closed_with() == 4001
    # The newer one stays open and in the room; the replaced one did not take Maya out of it.
    await newer.send({"type": "sync"})
    again = await newer.receive_until(lambda m: m["type"] == "state")
    me = next(p for p in again["participants"] if p["id"] == state["you"]["participant"])
    assert me["present"] is True and me["state"] == "admitted"
    assert await fran.none_of("error")
    await newer.close()


# Load


async def test_an_action_is_carried_out_while_other_socket_work_fills_the_worker_threads(room, sockets):
    """A wave of sockets opening and closing at once queues entries, leaves and snapshots for the worker
    threads. A room's change does not wait behind them: that work runs at most two at a time."""
    fran, maya = await sockets(room.facilitator, room.maya)
    await fran.state_at_least(maya.version)
    busy = threading.Event()
    blocked = [asyncio.ensure_future(consumers.db(busy.wait)(30)) for _ in range(64)]  # more than there are threads
    try:
        await fran.act("call.start")
        states = await settle(fran, maya, version=fran.version + 1)
        assert {state["status"] for state in states} == {"live"}
        assert not any(task.done() for task in blocked)  # the other work was still waiting throughout
    finally:
        busy.set()
        await asyncio.gather(*blocked)
