"""A ban during a live call disconnects the person within 2 seconds: real server process, real
sockets, and the ban sent through the Members page like a facilitator would."""

import asyncio
import re
import time
from datetime import timedelta

import httpx
import pytest
from django.test import Client

from groups.models import Membership
from groups.services.rsvps import rsvp_set
from tests.roomclient import RoomClient

pytestmark = pytest.mark.slow


def cookie_for(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def ban_through_the_page(base_url, session, path, reason):
    async with httpx.AsyncClient(base_url=base_url, cookies={"sessionid": session}) as http:
        page = await http.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = await http.post(
            path, data={"csrfmiddlewaretoken": token, "reason": reason}, headers={"Referer": base_url + path}
        )
        assert response.status_code == 302, response.text[:500]


def test_a_ban_during_a_live_call_closes_the_persons_socket_within_two_seconds(site, circle):
    call = circle.call(starts_in=timedelta(minutes=5))
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    membership = Membership.objects.get(community=circle.community, user=circle.member)
    fran_session, maya_session = cookie_for(circle.facilitator), cookie_for(circle.member)
    path = f"/c/{circle.community.slug}/members/{membership.pk}/ban/"

    async def scenario():
        fran = RoomClient("Fran", f"sessionid={fran_session}", call.pk)
        maya = RoomClient("Maya", f"sessionid={maya_session}", call.pk)
        await fran.connect(site.url)
        await maya.connect(site.url)
        await fran.act("call.start")
        await maya.wait_for(lambda s: s["status"] == "live")
        started = time.monotonic()
        await ban_through_the_page(site.url, fran_session, path, "Threatened another member")
        await asyncio.wait_for(maya.closed.wait(), timeout=2)
        elapsed = time.monotonic() - started
        codes = [m.get("code") for m in maya.messages if m["type"] == "error"]
        state = await fran.wait_for(lambda s: all(p["name"] != "Maya" for p in s["participants"]))
        await fran.close()
        return elapsed, codes, state, maya.socket.close_code

    elapsed, codes, state, close_code = asyncio.run(scenario())
    assert elapsed < 2
    assert codes[-1] == "removed"
    assert close_code == 4403
    assert [p["name"] for p in state["participants"]] == ["Fran"]
