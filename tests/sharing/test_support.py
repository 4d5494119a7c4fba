"""“I need support”: a private signal to the facilitators, a private exchange, crisis resources."""

import pytest

from tests.sharing.sockets import settle

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_support_request_opens_a_private_exchange_with_the_facilitators(room, sockets):
    fran, maya, jonas = await sockets(room.facilitator, room.maya, room.jonas)
    await settle(fran, maya, jonas, version=jonas.version)
    await maya.send({"type": "support.message", "text": "Hello?"})
    assert (await maya.error())["code"] == "not_allowed"  # first, "I need support"

    await maya.send({"type": "support.request"})
    states = await settle(fran, maya, jonas, version=jonas.version + 1)
    views = {
        socket: {p["name"]: p["needs_support"] for p in state["participants"]}
        for socket, state in zip([fran, maya, jonas], states, strict=True)
    }
    assert views[fran]["Maya"] is True  # the facilitators see it
    assert views[maya]["Maya"] is True  # and Maya herself
    assert views[jonas]["Maya"] is False  # nobody else does
    maya_id = next(p["id"] for p in states[0]["participants"] if p["name"] == "Maya")

    await maya.send({"type": "support.message", "text": "I'm finding today hard."})
    for socket in (fran, maya):
        message = await socket.receive_until(lambda m: m["type"] == "support.message")
        assert (message["from"], message["to"], message["text"]) == (maya_id, None, "I'm finding today hard.")
    await fran.send({"type": "support.message", "to": maya_id, "text": "I'm here. Take the time you need."})
    reply = await maya.receive_until(lambda m: m["type"] == "support.message")
    assert reply["text"] == "I'm here. Take the time you need."
    assert await jonas.none_of("support.message"), "a private exchange reaches nobody else"


async def test_members_cannot_write_privately_to_other_members(room, sockets):
    fran, maya, jonas = await sockets(room.facilitator, room.maya, room.jonas)
    await maya.send({"type": "support.request"})
    await settle(maya, version=maya.version + 1)
    jonas_id = next(p["id"] for p in (await maya.state_at_least(maya.version))["participants"] if p["name"] == "Jonas")
    await maya.send({"type": "support.message", "to": jonas_id, "text": "psst"})
    message = await fran.receive_until(lambda m: m["type"] == "support.message")
    assert message["to"] is None  # a member's message always goes to the facilitators
    assert await jonas.none_of("support.message")


def test_the_room_page_always_offers_crisis_resources_and_a_report_link(client, room):
    client.force_login(room.maya)
    html = client.get(f"/calls/{room.call.pk}/room/").content.decode()
    assert "I need support" in html
    assert "116 123" in html or "Call your local emergency number" in html
    assert f"/report/?call={room.call.pk}" in html
    assert 'href="/crisis/"' in html
