"""WebRTC signalling over the room socket: relayed only between admitted participants of one room."""

import base64
import hashlib
import hmac

import pytest
from django.test import override_settings

from sharing import ice
from tests.sharing.sockets import Socket, settle

SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
CANDIDATE = {"candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host", "sdpMid": "0", "sdpMLineIndex": 0}


@pytest.mark.django_db(transaction=True)
async def test_offers_answers_and_candidates_reach_only_their_target(room, sockets):
    fran, maya, jonas = await sockets(room.facilitator, room.maya, room.jonas)
    state = await settle(fran, maya, jonas, version=jonas.version)
    ids = {p["name"]: p["id"] for p in state[0]["participants"]}
    await fran.send({"type": "rtc.offer", "to": ids["Maya"], "sdp": SDP})
    offer = await maya.receive_until(lambda m: m["type"] == "rtc.offer")
    assert (offer["from"], offer["sdp"]) == (ids["Fran"], SDP)
    await maya.send({"type": "rtc.answer", "to": ids["Fran"], "sdp": SDP})
    answer = await fran.receive_until(lambda m: m["type"] == "rtc.answer")
    assert answer["from"] == ids["Maya"]
    await maya.send({"type": "rtc.ice", "to": ids["Fran"], "candidate": CANDIDATE})
    assert (await fran.receive_until(lambda m: m["type"] == "rtc.ice"))["candidate"] == CANDIDATE
    assert await jonas.none_of("rtc.offer") and await jonas.none_of("rtc.ice")


@pytest.mark.django_db(transaction=True)
async def test_signalling_to_someone_outside_the_room_is_refused_and_relays_nothing(room, sockets):
    fran, maya = await sockets(room.facilitator, room.maya)
    await fran.send({"type": "rtc.offer", "to": 999999, "sdp": SDP})
    assert (await fran.error())["code"] == "unknown_participant"
    await fran.send({"type": "rtc.offer", "to": fran.last["you"]["participant"], "sdp": SDP})
    assert (await fran.error())["code"] == "unknown_participant"
    assert await maya.none_of("rtc.offer")


@pytest.mark.django_db(transaction=True)
async def test_someone_waiting_in_the_lobby_cannot_signal(room, sockets):
    (fran,) = await sockets(room.facilitator)
    await fran.send({"type": "settings", "auto_admit": False})
    await fran.state_at_least(fran.version + 1)
    waiting = Socket(room.call.pk, room.aiko)
    assert await waiting.connect()
    lobby_state = await waiting.state()
    assert lobby_state["you"]["state"] == "lobby"
    assert [p["name"] for p in lobby_state["participants"]] == ["Aiko"]  # the lobby sees no one else
    fran_id = fran.last["you"]["participant"]
    await waiting.send({"type": "rtc.offer", "to": fran_id, "sdp": SDP})
    assert (await waiting.error())["code"] == "forbidden"
    assert await fran.none_of("rtc.offer")
    await waiting.close()


@pytest.mark.parametrize(
    "message",
    [
        {"type": "rtc.offer", "to": 1, "sdp": "not an sdp"},
        {"type": "rtc.offer", "to": 1},
        {"type": "rtc.answer", "to": 1, "sdp": 42},
        {"type": "rtc.ice", "to": 1, "candidate": "candidate:1"},
        {"type": "rtc.ice", "to": 1, "candidate": {"candidate": "x", "evil": True}},
        {"type": "rtc.ice", "to": 1, "candidate": {"candidate": "x" * 2000}},
        {"type": "rtc.offer", "to": "Maya", "sdp": SDP},
    ],
)
@pytest.mark.django_db(transaction=True)
async def test_malformed_sdp_or_ice_is_refused_with_an_error_code(room, sockets, message):
    fran, maya = await sockets(room.facilitator, room.maya)
    await fran.send(message)
    assert (await fran.error())["code"] == "invalid"
    assert await maya.none_of(message["type"])


@pytest.mark.django_db(transaction=True)
async def test_session_descriptions_may_be_larger_than_other_frames_but_not_without_limit(room, sockets):
    fran, maya = await sockets(room.facilitator, room.maya)
    state = await fran.state_at_least(maya.version)
    maya_id = next(p["id"] for p in state["participants"] if p["name"] == "Maya")
    big = SDP + "a=x\r\n" * 1500  # about 9 KB, as an offer with video can be
    await fran.send({"type": "rtc.offer", "to": maya_id, "sdp": big})
    assert (await maya.receive_until(lambda m: m["type"] == "rtc.offer"))["sdp"] == big
    await fran.send({"type": "share.text", "text": "x" * 1999 + "\u00e9" * 1200})
    assert (await fran.error())["code"] == "too_large"


@pytest.mark.django_db(transaction=True)
async def test_each_socket_gets_its_ice_servers(room):
    with override_settings(
        ICE_SERVERS=[{"urls": "stun:stun.example.org:3478"}], TURN_SECRET="s3cret", TURN_URLS=["turn:turn.example.org"]
    ):
        socket = Socket(room.call.pk, room.maya)
        assert await socket.connect()
        message = await socket.receive_until(lambda m: m["type"] == "ice")
        await socket.close()
    stun, turn = message["servers"]
    assert stun == {"urls": "stun:stun.example.org:3478"}
    assert turn["urls"] == ["turn:turn.example.org"]
    assert turn["username"].endswith(f":{room.call.pk}-{room.maya.pk}")


def test_turn_credentials_follow_coturns_rest_scheme():
    """coturn's use-auth-secret: username "<expiry>:<user>", password base64(HMAC-SHA1(secret, username))."""
    username, password, expires = ice.turn_credential("north-wind", "42", ttl=3600, now=1_800_000_000)
    assert username == "1800003600:42"
    assert expires == 1_800_003_600
    expected = base64.b64encode(hmac.new(b"north-wind", b"1800003600:42", hashlib.sha1).digest()).decode()
    assert password == expected
    assert ice.turn_credential("north-wind", "42", ttl=3600, now=1_800_000_001)[0] != username  # expiry moves


@override_settings(ICE_SERVERS=[], TURN_SECRET="", TURN_URLS=[])
def test_with_nothing_configured_browsers_use_host_candidates():
    assert ice.servers_for(3, 1) == {"servers": [], "expires_at": None, "expires_unix": None}


@override_settings(TURN_SECRET="k", TURN_URLS=["turn:t.example"], TURN_TTL_SECONDS=600)
def test_minted_credentials_expire():
    minted = ice.servers_for(3, 7, now=1_700_000_000)
    assert minted["expires_at"] == "2023-11-14T22:23:20Z"
    assert minted["servers"][-1]["username"] == "1700000600:3-7"  # for this call and person only
