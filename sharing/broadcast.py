"""Sending to a room's sockets. Snapshots are sent only after the transaction that made them commits."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def room_group(call_id: int) -> str:
    return f"room.{call_id}"


def person_group(call_id: int, user_id: int) -> str:
    """Every socket one person has open in one room: for private messages and for closing them."""
    return f"room.{call_id}.user.{user_id}"


def send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, message)


def state_after_commit(call_id: int, snapshot: dict) -> None:
    transaction.on_commit(lambda: send(room_group(call_id), {"type": "room.state", "snapshot": snapshot}))
