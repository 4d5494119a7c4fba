"""Sockets for consumer tests: a browser's socket with a session, checking every message it gets."""

import asyncio
import json

import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from attunement_site.asgi import application
from sharing import protocol

ORIGIN = b"http://127.0.0.1"


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


class Socket:
    """One browser's socket: connects with a session, and checks every message it receives."""

    def __init__(self, call_id, user=None, origin=ORIGIN):
        self.path = f"/ws/calls/{call_id}/"
        self.user = user
        self.origin = origin
        self.communicator = None
        self.version = None
        self.last = None  # the newest snapshot received

    async def connect(self):
        headers = [(b"origin", self.origin)]
        if self.user is not None:
            headers.append((b"cookie", await database_sync_to_async(session_cookie)(self.user)))
        self.communicator = WebsocketCommunicator(application, self.path, headers=headers)
        connected, _subprotocol = await self.communicator.connect(timeout=5)
        return connected

    def decode(self, raw: str) -> dict:
        return json.loads(raw)

    async def receive(self, timeout=3) -> dict:
        message = self.decode(await self.communicator.receive_from(timeout=timeout))
        assert protocol.server_errors(message) == [], message
        if message["type"] == "state":
            assert self.version is None or message["version"] >= self.version, "versions never go back"
            self.version = message["version"]
            self.last = message
        return message

    async def receive_until(self, predicate, timeout=5) -> dict:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            assert left > 0, "the expected message did not arrive"
            message = await self.receive(timeout=left)
            if predicate(message):
                return message

    async def state(self, timeout=5) -> dict:
        return await self.receive_until(lambda m: m["type"] == "state", timeout)

    async def state_at_least(self, version, timeout=5) -> dict:
        if self.last is not None and self.last["version"] >= version:
            return self.last
        return await self.receive_until(lambda m: m["type"] == "state" and m["version"] >= version, timeout)

    async def error(self, timeout=3) -> dict:
        return await self.receive_until(lambda m: m["type"] == "error", timeout)

    async def send(self, message):
        await self.communicator.send_to(text_data=json.dumps(message))

    async def act(self, kind: str, **fields):
        """An action as the room page sends it: turn actions name the turn they meant, segment.next
        the segment, from this socket's newest snapshot."""
        message = {"type": kind, **fields}
        if kind in {"turn.finish", "turn.extend", "turn.skip"}:
            message.setdefault("turn", (self.last["turn"] or {}).get("number", 0))
        elif kind == "segment.next":
            message.setdefault("segment", self.last["segment_index"])
        await self.send(message)

    async def send_raw(self, text):
        await self.communicator.send_to(text_data=text)

    async def closed_with(self, timeout=3):
        while True:
            output = await self.communicator.receive_output(timeout=timeout)
            if output["type"] == "websocket.close":
                return output.get("code")

    async def none_of(self, kind: str, timeout=0.5) -> bool:
        """True when no message of this type arrives within the timeout (other messages are read)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (left := deadline - loop.time()) > 0:
            if await self.communicator.receive_nothing(timeout=left):
                return True
            if (await self.receive())["type"] == kind:
                return False
        return True

    async def quiet(self, timeout=0.3) -> bool:
        return await self.communicator.receive_nothing(timeout=timeout)

    async def close(self):
        await self.communicator.disconnect()


@pytest_asyncio.fixture
async def sockets(room):
    """Open sockets for people, each having received its first snapshot; all closed afterwards."""
    opened = []

    async def open_for(*users):
        result = []
        for user in users:
            socket = Socket(room.call.pk, user)
            assert await socket.connect()
            await socket.state()
            opened.append(socket)
            result.append(socket)
        return result

    yield open_for
    for socket in opened:
        await socket.close()


async def settle(*sockets, version):
    return [await socket.state_at_least(version) for socket in sockets]
