"""A scripted room participant over a real WebSocket, for tests that run real server processes."""

from __future__ import annotations

import asyncio
import contextlib
import json

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed


class RoomClient:
    """Keeps the newest snapshot, records every version it saw, and reconnects when told to."""

    def __init__(self, name: str, cookie: str, call_id: int):
        self.name = name
        self.cookie = cookie
        self.call_id = call_id
        self.socket = None
        self.reader = None
        self.state: dict | None = None
        self.versions: list[int] = []
        self.messages: list[dict] = []
        self.closed = asyncio.Event()
        self.changed = asyncio.Condition()
        self.base_url = None
        self.pinger = None

    async def connect(self, base_url: str, timeout: float = 15):
        self.base_url = base_url
        self.closed.clear()
        ws_url = base_url.replace("http://", "ws://") + f"/ws/calls/{self.call_id}/"
        self.socket = await connect(
            ws_url,
            origin=base_url,
            additional_headers={"Cookie": self.cookie},
            open_timeout=min(10, timeout),
            close_timeout=1,
            compression=None,
        )
        self.connected_states = 0
        self.reader = asyncio.create_task(self._read())
        if self.pinger is not None:
            self.pinger.cancel()
        self.pinger = asyncio.create_task(self._ping())
        try:
            await self.wait_for(lambda state: self.connected_states > 0, timeout=timeout)
        except TimeoutError:
            await self.socket.close()  # no room came: close, as the room page does, and try again
            raise

    async def _read(self):
        try:
            async for raw in self.socket:
                message = json.loads(raw)
                self.messages.append(message)
                if message["type"] == "state":
                    self.connected_states += 1
                    if self.state is None or message["version"] > self.state["version"]:
                        self.state = message
                        self.versions.append(message["version"])
                async with self.changed:
                    self.changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            self.closed.set()
            async with self.changed:
                self.changed.notify_all()

    async def _ping(self):
        """Ping every 4 seconds, as the room page does: it keeps the person present and lets the
        server notice a snapshot this socket missed."""
        with contextlib.suppress(ConnectionClosed, asyncio.CancelledError):
            while not self.closed.is_set():
                await self.socket.send(json.dumps({"type": "ping", "t": asyncio.get_running_loop().time() * 1000}))
                await asyncio.sleep(4)

    async def wait_for(self, predicate, timeout: float = 15) -> dict:
        async def check():
            async with self.changed:
                while self.state is None or not predicate(self.state):
                    if self.closed.is_set() and self.reader is not None and self.reader.done():
                        raise ConnectionError(f"{self.name}'s socket closed while waiting")
                    await self.changed.wait()
                return self.state

        return await asyncio.wait_for(check(), timeout)

    async def send(self, message: dict):
        await self.socket.send(json.dumps(message))

    async def act(self, kind: str, **fields):
        """An action as the room page sends it: turn actions name the turn, segment.next the segment."""
        message = {"type": kind, **fields}
        if kind in {"turn.finish", "turn.extend", "turn.skip"}:
            message.setdefault("turn", (self.state["turn"] or {}).get("number", 0))
        elif kind == "segment.next":
            message.setdefault("segment", self.state["segment_index"])
        elif kind in {"order.set", "call.end"}:
            message.setdefault("version", self.state["version"])
        await self.send(message)

    def me(self) -> int:
        return self.state["you"]["participant"]

    async def close(self):
        if self.pinger is not None:
            self.pinger.cancel()
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await self.socket.close()
        if self.reader is not None:
            with contextlib.suppress(Exception):
                await self.reader

    def gaps(self) -> list[tuple[int, int]]:
        """Jumps in the versions this client saw. A jump is harmless when the snapshot it
        received is complete, but a test can ask for none at all."""
        return [(a, b) for a, b in zip(self.versions, self.versions[1:], strict=False) if b != a + 1]
