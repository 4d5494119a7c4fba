"""Messages that pass through the room without being stored: typed shares and typed reflections.

The server checks who may send them, relays them, and forgets them. A typed reflection goes only to
the person who shared, with a signature; if the sharer chooses to show it to everyone, they send it
back with that signature, which proves the server relayed exactly this text for this share.
"""

from __future__ import annotations

import json
import re
import secrets

from django.utils.crypto import constant_time_compare, salted_hmac

from sharing.access import may_keep_seat
from sharing.broadcast import To, circle, one_in_circle
from sharing.errors import RoomError
from sharing.models import Participant, Room

Relayed = list[tuple[To, dict]]  # each message with its audience (sharing.audiences)


def _room_and_me(call_id: int, user) -> tuple[Room, Participant]:
    room = Room.objects.filter(pk=call_id).select_related("call").first()
    if room is None or room.status == Room.Status.ENDED:
        raise RoomError("not_open", "This call's room is not open.")
    me = Participant.objects.filter(room=room, user=user, state=Participant.State.ADMITTED).first()
    if me is None:
        raise RoomError("forbidden", "You are not in this call.")
    if not may_keep_seat(user, room.call.community_id):
        raise RoomError("forbidden", "You are no longer a member of this community.")
    return room, me


# A reflection's id: made by the server, 12 URL-safe characters (secrets.token_urlsafe(9)).
REFLECTION_ID = re.compile(r"[A-Za-z0-9_-]{12}")


def _signature(room: Room, reflection_id: str, sender: int, text: str) -> str:
    # A JSON list, so no choice of id or text can make two different reflections sign alike.
    value = json.dumps([room.pk, room.turn_number, reflection_id, sender, text], ensure_ascii=False)
    return salted_hmac("attunement.reflection", value, algorithm="sha256").hexdigest()


def share_text(*, call_id: int, user, text: str) -> Relayed:
    """The speaker's typed share, for the circle."""
    room, me = _room_and_me(call_id, user)
    if room.phase != Room.Phase.TURN or room.speaker_id != me.pk:
        raise RoomError("not_your_turn", "Typed shares are sent during your own turn.")
    return [(circle(call_id), {"type": "share.text", "version": room.version, "participant": me.pk, "text": text})]


def reflection_send(*, call_id: int, user, text: str) -> Relayed:
    """A listener's typed reflection, addressed to the sharer alone."""
    room, me = _room_and_me(call_id, user)
    if room.phase != Room.Phase.REFLECTIONS or room.speaker_id is None:
        raise RoomError("not_allowed", "Typed reflections are sent during reflections.")
    if room.speaker_id == me.pk:
        raise RoomError("not_allowed", "This is your share.")
    segment = room.segment() or {}
    # Someone who prefers typing reflects in writing even where reflections are spoken.
    if segment.get("reflection_mode") == "spoken" and not user.prefers_typing:
        raise RoomError("not_allowed", "Reflections are spoken in this part of the call.")
    sharer_user_id = Participant.objects.values_list("user_id", flat=True).get(pk=room.speaker_id)
    reflection_id = secrets.token_urlsafe(9)
    message = {
        "type": "reflection",
        "version": room.version,
        "id": reflection_id,
        "from": me.pk,
        "text": text,
        "sig": _signature(room, reflection_id, me.pk, text),
    }
    return [(one_in_circle(call_id, sharer_user_id), message)]


def reflection_show(*, call_id: int, user, reflection_id: str, sender: int, text: str, sig: str) -> Relayed:
    """The sharer shows a reflection they received to the whole group."""
    room, me = _room_and_me(call_id, user)
    if room.speaker_id != me.pk:
        raise RoomError("forbidden", "Only the person who shared can show their reflections.")
    if not REFLECTION_ID.fullmatch(reflection_id):
        raise RoomError("invalid", "That reflection was not sent to you in this share.")
    if not constant_time_compare(sig, _signature(room, reflection_id, sender, text)):
        raise RoomError("invalid", "That reflection was not sent to you in this share.")
    return [(circle(call_id), {"type": "reflection.shown", "version": room.version, "from": sender, "text": text})]


def support_message(*, call_id: int, user, text: str, to: int | None) -> Relayed:
    """A private message between a person who asked for support and the call's facilitators.

    A facilitator writes to one participant; a participant who asked for support writes to all the
    facilitators in the room. Returns who receives it and the message; nothing is stored.
    """
    room, me = _room_and_me(call_id, user)
    people = {p.pk: p for p in Participant.objects.filter(room=room, state=Participant.State.ADMITTED)}
    if me.is_facilitator:
        target = people.get(to or 0)
        if target is None or target.pk == me.pk:
            raise RoomError("unknown_participant", "That person is not in this call.")
        recipients = [target.user_id, *(p.user_id for p in people.values() if p.is_facilitator and p.pk != me.pk)]
    else:
        if not me.needs_support:
            raise RoomError("not_allowed", "Use “I need support” first; then you can write to the facilitators.")
        recipients = [p.user_id for p in people.values() if p.is_facilitator]
        to = None
    message = {"type": "support.message", "version": room.version, "from": me.pk, "to": to, "text": text}
    return [(one_in_circle(call_id, user_id), message) for user_id in sorted({*recipients, user.pk})]


def signal(*, call_id: int, user, message: dict) -> Relayed:
    """WebRTC signalling between two admitted participants of the same room: the payload goes to
    the one it names, marked with who sent it, and nothing is kept. Anyone not admitted, or a
    target outside the room, is refused.
    """
    to = message["to"]
    room, me = _room_and_me(call_id, user)
    target = Participant.objects.filter(room=room, pk=to, state=Participant.State.ADMITTED).first()
    if target is None or target.pk == me.pk:
        raise RoomError("unknown_participant", "That person is not in this call.")
    relayed = {key: value for key, value in message.items() if key != "to"}
    relayed["from"] = me.pk
    return [(one_in_circle(call_id, target.user_id), relayed)]
