"""The room socket. It authenticates, parses, and calls one service per message; every rule lives
in sharing.services, sharing.relays and sharing.room.states. docs/protocol.md lists the messages.

The socket sits in the channel-layer group its seat allows (sharing.audiences): the circle's, the
lobby's, or none. It follows the seat each new snapshot gives it, and checks the policy once more
before anything leaves the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from redis.exceptions import RedisError

from core.logs import correlation_id, new_id
from sharing import access, broadcast, ice, protocol, relays, services, snapshots
from sharing.audiences import Seat, admits, seat_of
from sharing.errors import RoomError

logger = logging.getLogger("attunement.socket")

RATE_WINDOW_SECONDS = 5
RATE_LIMIT = 20 * RATE_WINDOW_SECONDS  # more than 20 messages a second, sustained for 5 seconds
# Browsers ping every 8 s, and each of those pings is a heartbeat; pings closer together than this (a
# tab waking from sleep sends a few at once) are answered without one.
HEARTBEAT_EVERY_SECONDS = 6
GROUP_TIMEOUT_SECONDS = 5

CLOSE_CODES = {
    "unauthenticated": 4401,
    "forbidden": 4403,
    "removed": 4403,
    "banned": 4403,
    "agreements": 4403,
    "not_rsvped": 4403,
    "locked": 4423,
    "not_open": 4409,
    "cancelled": 4410,
    "ended": 4410,
    "rate_limited": 4008,
    "not_found": 4404,
    "two_factor": 4403,
    "replaced": 4001,
}

# Failures that mean the channel layer's server is unreachable, rather than a fault in our code.
LOST_CHANNEL_LAYER = (ConnectionError, TimeoutError, RedisError)

# Renew the TURN credential when less than this is left of it.
ICE_RENEW_BEFORE_SECONDS = 120


# The database work of socket messages runs on the event loop's shared worker threads (asyncio's
# default executor). A process runs Python on one core at a time, so work in more threads at once only
# takes turns from the event loop, which forwards every snapshot, and from the rooms' changes. Other
# work than a change (entries, leaves, snapshots, relays) runs at most OTHER_WORK_AT_ONCE at a time per
# process: a wave of sockets reconnecting together (a network blip, a restarted proxy) then waits its
# turn instead of delaying every room's turn changes. A change (an action, a deadline's tick) never waits.
OTHER_WORK_AT_ONCE = 2
_other_work: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


def _other_work_limit() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    limit = _other_work.get(loop)
    if limit is None:
        for closed in [known for known in _other_work if known.is_closed()]:
            del _other_work[closed]
        limit = _other_work[loop] = asyncio.Semaphore(OTHER_WORK_AT_ONCE)
    return limit


def db(function):
    """Run a service in a worker thread, in parallel with other rooms but never more than
    OTHER_WORK_AT_ONCE at a time; row locks keep each room in order."""
    run = database_sync_to_async(function, thread_sensitive=False)

    async def limited(*args, **kwargs):
        async with _other_work_limit():
            return await run(*args, **kwargs)

    return limited


def db_change(function):
    """Run a change of a room's state in a worker thread, never waiting for other socket work."""
    return database_sync_to_async(function, thread_sensitive=False)


class RoomConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        correlation_id.set(new_id("ws"))  # for every log line of this socket's life
        self.call_id = int(self.scope["url_route"]["kwargs"]["call_id"])
        self.user = self.scope.get("user")
        self.participant_id = None
        self.facilitator = False
        self.staff_powers = False
        self.seat = Seat.GONE
        self.ice_expires = None
        self.version = None
        self.received = deque()
        self.last_heartbeat = 0.0
        self.marked_away = False  # the last snapshot showed this person away while this socket is open
        self.behind = False  # at the last heartbeat, the room's version was newer than the one sent here
        self.room_version = None  # the room's version as the last heartbeat read it
        self.joined_groups = []
        await self.accept()
        if self.user is None or not self.user.is_authenticated:
            await self.refuse(RoomError("unauthenticated", "Please log in."))
            return
        # The person's own group first, so that a removal during entry still reaches this socket.
        await self.join_group(broadcast.person_group(self.call_id, self.user.pk))
        try:
            participant = await db(services.room_enter)(call_id=self.call_id, user=self.user)
            self.staff_powers = await db(access.staff_powers)(self.user)
        except RoomError as error:
            await self.refuse(error)
            return
        self.participant_id = participant.pk
        logger.info("socket open", extra={"call": self.call_id, "participant": participant.pk})
        # One tab per person: this socket takes over from any other this person has in this room.
        await self.channel_layer.group_send(
            broadcast.person_group(self.call_id, self.user.pk),
            {
                "type": "room.close",
                "code": "replaced",
                "message": "This call is open in another tab.",
                "keep": self.channel_name,
            },
        )
        self.last_heartbeat = time.monotonic()
        await self.send_snapshot(await db(services.current_snapshot)(call_id=self.call_id))

    async def join_group(self, group):
        # Bounded: a channel layer that cannot answer (Redis restarting) must not hold the socket open
        # without a room; the error closes it and the browser reconnects.
        if group in self.joined_groups:
            return
        await asyncio.wait_for(self.channel_layer.group_add(group, self.channel_name), GROUP_TIMEOUT_SECONDS)
        self.joined_groups.append(group)

    async def leave_group(self, group):
        if group in self.joined_groups:
            self.joined_groups.remove(group)
            await self.channel_layer.group_discard(group, self.channel_name)

    async def follow_seat(self, seat: Seat):
        """Sit in the group this seat allows, and in no other."""
        if seat == self.seat:
            return
        self.seat = seat
        circle, lobby = broadcast.circle_group(self.call_id), broadcast.lobby_group(self.call_id)
        if seat == Seat.CIRCLE:
            await self.leave_group(lobby)
            await self.join_group(circle)
            await self.send_ice()
        elif seat == Seat.LOBBY:
            await self.leave_group(circle)
            await self.join_group(lobby)
        else:
            await self.leave_group(circle)
            await self.leave_group(lobby)

    async def send_ice(self):
        servers = ice.servers_for(self.call_id, self.user.pk)
        self.ice_expires = servers.pop("expires_unix", None)
        await self.send_json({"type": "ice", **servers})

    async def refuse(self, error: RoomError, code: int | None = None):
        logger.info("socket refused", extra={"call": self.call_id, "code": error.code})
        await self.send_json({"type": "error", "code": error.code, "message": error.message, "version": None})
        await self.close(code=code or CLOSE_CODES.get(error.code, 4403))

    async def disconnect(self, code):
        logger.info("socket closed", extra={"call": self.call_id, "participant": self.participant_id, "close": code})
        for group in self.joined_groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined_groups = []
        if self.participant_id is not None:
            self.participant_id = None
            await db(services.room_leave)(call_id=self.call_id, user=self.user)

    async def send_json(self, message: dict):
        await self.send(text_data=json.dumps(message, separators=(",", ":")))

    async def send_error(self, code: str, message: str, version: int | None = None):
        await self.send_json({"type": "error", "code": code, "message": message, "version": version or self.version})

    async def send_snapshot(self, snapshot: dict, *, again: bool = False):
        """Send a snapshot newer than the last one sent (or the same one again, when asked to)."""
        if self.version is not None and (
            snapshot["version"] < self.version or (snapshot["version"] == self.version and not again)
        ):
            return  # overtaken by a newer one, or already sent: never go back
        self.version = snapshot["version"]
        me = snapshots.viewer(snapshot, self.participant_id)
        self.marked_away = bool(me) and not me["present"]
        seat = seat_of(me["state"] if me else None)
        self.facilitator = seat == Seat.CIRCLE and (me["role"] in snapshots.FACILITATING_ROLES or self.staff_powers)
        view = snapshots.for_viewer(snapshot, participant_id=self.participant_id, facilitator=self.facilitator)
        if seat == Seat.GONE:
            await self.follow_seat(seat)
            await self.send_json({"type": "state", **view})
            if self.participant_id is not None:
                self.participant_id = None
                await self.refuse(RoomError("removed", "You are no longer in this call."))
            return
        # Join the circle before its first snapshot, so that nothing said after it is missed.
        await self.follow_seat(seat)
        await self.send_json({"type": "state", **view})

    # Incoming frames

    async def dispatch(self, message):
        """Whatever goes wrong while handling a frame or a message from the channel layer, the socket
        stays: the browser is told `internal`, and the log says what, with this socket's correlation
        id. Opening and closing are left as they are: a socket that cannot open closes."""
        if message.get("type") in {"websocket.connect", "websocket.disconnect"}:
            await super().dispatch(message)
            return
        try:
            await super().dispatch(message)
        except StopConsumer:
            raise
        except LOST_CHANNEL_LAYER:
            # Redis went away (a restart): this socket may have lost its groups. Close it as a network
            # drop would, so that the browser reconnects and rejoins with a fresh snapshot.
            logger.warning("channel layer lost", extra={"call": self.call_id, "participant": self.participant_id})
            with contextlib.suppress(Exception):
                await self.close(code=1011)
        except OSError:
            # The browser went away while something was being sent to it (the server's own error
            # for that, an OSError): its disconnect follows and does the rest.
            logger.info("socket gone while sending", extra={"call": self.call_id, "participant": self.participant_id})
        except Exception:
            logger.exception(
                "socket message failed",
                extra={"call": self.call_id, "participant": self.participant_id, "message_type": message.get("type")},
            )
            with contextlib.suppress(Exception):
                await self.send_error("internal", "Something went wrong on our side. The room is as it was.")

    async def receive(self, text_data=None, bytes_data=None):
        now = time.monotonic()
        self.received.append(now)
        while self.received and self.received[0] < now - RATE_WINDOW_SECONDS:
            self.received.popleft()
        if len(self.received) > RATE_LIMIT:
            await self.refuse(RoomError("rate_limited", "Too many messages; please reconnect."))
            return
        if self.participant_id is None:
            return
        try:
            message = protocol.parse_client(text_data if text_data is not None else bytes_data)
        except protocol.ProtocolError as error:
            await self.send_error(error.code, error.message)
            return
        kind = message["type"]
        try:
            if kind == "ping":
                await self.on_ping(message)
            elif kind == "sync":
                await self.send_snapshot(await db(services.current_snapshot)(call_id=self.call_id), again=True)
            elif kind == "tick":
                await db_change(services.room_tick)(call_id=self.call_id, seen_version=message.get("version"))
            elif kind in protocol.RELAYS:
                await self.on_relay(message)
            else:
                payload = {
                    key: value for key, value in message.items() if key not in {"type", "version", "turn", "segment"}
                }
                await db_change(services.room_apply)(
                    call_id=self.call_id,
                    user=self.user,
                    action=kind,
                    payload=payload,
                    expected_version=message.get("version"),
                    expected_turn=message.get("turn"),
                    expected_segment=message.get("segment"),
                )
        except RoomError as error:
            await self.send_error(error.code, error.message, error.version)

    async def on_ping(self, message):
        """A ping proves the browser is alive. A browser's ping (every 8 seconds) is a heartbeat, which
        touches the cache alone (sharing.room.liveness) and reads the room's version from there; pings
        that come sooner are answered without leaving the event loop. The pong carries the newest
        version known."""
        now = time.monotonic()
        version = None
        if self.marked_away:
            # Marked away while this socket stayed open (a pause in the network): come back in.
            self.marked_away = False
            self.last_heartbeat = now
            try:
                await db(services.room_enter)(call_id=self.call_id, user=self.user)
            except RoomError as error:
                self.participant_id = None
                await self.refuse(error)
                return
        elif now - self.last_heartbeat >= HEARTBEAT_EVERY_SECONDS:
            self.last_heartbeat = now
            # The cache alone: no database connection to check out or close around it.
            version = await sync_to_async(services.heartbeat, thread_sensitive=False)(
                call_id=self.call_id, user=self.user
            )
            self.room_version = version
            behind = version is not None and self.version is not None and version > self.version
            if behind and self.behind:
                # Behind at two heartbeats in a row, so not a broadcast on its way: it never arrived
                # (group_send is at-most-once, and Redis may have restarted). Rejoin the groups and
                # send the room as it is now. (The browser asks with `sync` sooner.)
                for group in self.joined_groups:
                    await self.channel_layer.group_add(group, self.channel_name)
                await self.send_snapshot(await db(services.current_snapshot)(call_id=self.call_id))
                behind = False
            self.behind = behind
        else:
            version = self.room_version  # as the last heartbeat read it, a few seconds ago
        if version is None or (self.version is not None and self.version > version):
            version = self.version
        # The room's version: a browser holding an older one asks for the snapshot it missed.
        await self.send_json({"type": "pong", "t": message["t"], "server_now": time.time() * 1000, "version": version})
        if self.seat == Seat.CIRCLE and self.ice_expires and self.ice_expires - time.time() < ICE_RENEW_BEFORE_SECONDS:
            await self.send_ice()

    async def on_relay(self, message):
        kind, me, call = message["type"], self.user, self.call_id
        if kind == "share.text":
            relayed = await db(relays.share_text)(call_id=call, user=me, text=message["text"])
        elif kind == "reflection.send":
            relayed = await db(relays.reflection_send)(call_id=call, user=me, text=message["text"])
        elif kind in protocol.SIGNALS:
            relayed = await db(relays.signal)(call_id=call, user=me, message=message)
        elif kind == "support.message":
            relayed = await db(relays.support_message)(
                call_id=call, user=me, text=message["text"], to=message.get("to")
            )
        else:  # reflection.show
            relayed = await db(relays.reflection_show)(
                call_id=call,
                user=me,
                reflection_id=message["id"],
                sender=message["from"],
                text=message["text"],
                sig=message["sig"],
            )
        for to, outgoing in relayed:
            broadcast.check(to, outgoing)
            await self.channel_layer.group_send(to.group, {"type": "room.relay", "message": outgoing})

    # Messages from the channel layer

    async def room_state(self, event):
        await self.send_snapshot(event["snapshot"])

    async def room_relay(self, event):
        message = event["message"]
        if self.participant_id is not None and admits(message["type"], self.seat):
            await self.send_json(message)

    async def room_close(self, event):
        if event.get("keep") == self.channel_name:
            return  # the socket that replaced the others stays
        # Leaving without room_leave: a replaced socket's person is still here, in their newer tab.
        self.participant_id = None
        await self.refuse(RoomError(event.get("code", "forbidden"), event.get("message", "")))
