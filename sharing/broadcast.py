"""Delivering the room's messages to sockets, through channel-layer groups.

Each room has a group for the circle (admitted people) and one for the lobby, and each person a
group of their own in each room, for private messages and for closing their sockets. A message
for the circle goes to the circle's group only, so it cannot reach the lobby. Snapshots are sent
only after the transaction that made them commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from sharing.audiences import POLICY, Audience
from sharing.room import liveness


def circle_group(call_id: int) -> str:
    return f"room.{call_id}.circle"


def lobby_group(call_id: int) -> str:
    return f"room.{call_id}.lobby"


def person_group(call_id: int, user_id: int) -> str:
    """Every socket one person has open in one room."""
    return f"room.{call_id}.user.{user_id}"


@dataclass(frozen=True)
class To:
    """Where a message goes: the audience the policy names for it, in one room."""

    audience: Audience
    call_id: int
    user_id: int | None = None

    @property
    def group(self) -> str:
        if self.audience == Audience.CIRCLE:
            return circle_group(self.call_id)
        if self.audience == Audience.ONE_IN_CIRCLE and self.user_id is not None:
            return person_group(self.call_id, self.user_id)
        raise ValueError(f"no single group for {self.audience}")


def circle(call_id: int) -> To:
    return To(Audience.CIRCLE, call_id)


def one_in_circle(call_id: int, user_id: int) -> To:
    return To(Audience.ONE_IN_CIRCLE, call_id, user_id)


def check(to: To, message: dict) -> None:
    """A message may go only where the policy sends its kind."""
    rule = POLICY.get(message["type"])
    if rule is None or rule.audience != to.audience:
        raise ValueError(f"{message['type']} may not go to {to.audience}")


def send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, message)


def state_after_commit(call_id: int, snapshot: dict) -> None:
    """The new snapshot, to the circle and the lobby; each socket cuts its own view from it."""

    def deliver():
        liveness.note_version(call_id, snapshot["version"])
        for group in (circle_group(call_id), lobby_group(call_id)):
            send(group, {"type": "room.state", "snapshot": snapshot})

    transaction.on_commit(deliver)


def close_after_commit(call_id: int, user_id: int, code: str, message: str) -> None:
    """Close every socket this person has open in this room, once the change that requires it commits."""
    transaction.on_commit(
        lambda: send(person_group(call_id, user_id), {"type": "room.close", "code": code, "message": message})
    )
