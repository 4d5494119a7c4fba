"""Who receives each kind of message the room sends. Declared once, here; enforced in one place.

A person's seat in a room is one of:
- `circle`: admitted, and still allowed to be there (an active member of the community, or site
  staff who log in with a second factor);
- `lobby`: waiting to be let in;
- `gone`: removed from the call or the community, banned, or never there.

Some people in the circle also `facilitate`: the call's facilitator or co-facilitator while the
community still lets them facilitate, and site staff, in both cases only with a second factor when
the two-factor rule asks for one (`sharing.access.seat_role`).

The services decide each message's audience and return `(audience, message)` pairs; the consumer
only delivers them (`sharing.delivery`). The circle and the lobby are separate channel-layer
groups, so a message for the circle cannot reach the lobby. The consumer checks `admits` once more
before anything leaves the server, with the seat its newest snapshot gave it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Seat(StrEnum):
    CIRCLE = "circle"
    LOBBY = "lobby"
    GONE = "gone"


class Audience(StrEnum):
    CIRCLE_AND_LOBBY = "circle and lobby"  # everyone with a seat, each in their own view
    CIRCLE = "circle"  # everyone admitted
    ONE_IN_CIRCLE = "one person in the circle"  # a named recipient, who must be admitted
    SOCKET = "the socket that asked"


@dataclass(frozen=True)
class Rule:
    audience: Audience
    why: str


# Message type -> who receives it. docs/protocol.md ("Who receives what") shows this table; a test
# keeps the two identical.
POLICY: dict[str, Rule] = {
    "state": Rule(
        Audience.CIRCLE_AND_LOBBY,
        "The circle sees the room; resonance counts go to the speaker alone, accommodations and "
        "support requests to those who facilitate. The lobby sees the call's status and its own "
        "seat: no names, no turn, no check-ins.",
    ),
    "share.text": Rule(Audience.CIRCLE, "The speaker's typed words, for the people listening."),
    "reflection": Rule(Audience.ONE_IN_CIRCLE, "A typed reflection goes to the person who shared, and no one else."),
    "reflection.shown": Rule(Audience.CIRCLE, "The sharer chose to show a reflection to the circle."),
    "support.message": Rule(
        Audience.ONE_IN_CIRCLE,
        "Between the person who asked for support and those who facilitate; each is sent on its own.",
    ),
    "rtc.offer": Rule(Audience.ONE_IN_CIRCLE, "Audio set-up between two people in the circle."),
    "rtc.answer": Rule(Audience.ONE_IN_CIRCLE, "Audio set-up between two people in the circle."),
    "rtc.ice": Rule(Audience.ONE_IN_CIRCLE, "Audio set-up between two people in the circle."),
    "ice": Rule(Audience.SOCKET, "Audio servers and a TURN credential for this call, only once admitted."),
    "pong": Rule(Audience.SOCKET, "The answer to a ping, with the server's clock."),
    "error": Rule(Audience.SOCKET, "Why the socket's last message was refused, or why it is closing."),
}

# What each audience asks of the receiving socket's seat.
SEATS: dict[Audience, frozenset[Seat]] = {
    Audience.CIRCLE_AND_LOBBY: frozenset({Seat.CIRCLE, Seat.LOBBY}),
    Audience.CIRCLE: frozenset({Seat.CIRCLE}),
    Audience.ONE_IN_CIRCLE: frozenset({Seat.CIRCLE}),
    Audience.SOCKET: frozenset({Seat.CIRCLE, Seat.LOBBY, Seat.GONE}),
}

# `ice` is for the socket that asked, but only once it sits in the circle.
ADMITTED_ONLY = frozenset({"ice"})


def admits(kind: str, seat: Seat) -> bool:
    """Whether a socket in this seat may receive a message of this kind. Unknown kinds never pass."""
    rule = POLICY.get(kind)
    if rule is None:
        return False
    if kind in ADMITTED_ONLY:
        return seat == Seat.CIRCLE
    return seat in SEATS[rule.audience]


def seat_of(state: str | None) -> Seat:
    """A participant's state in the snapshot, as a seat."""
    if state == "admitted":
        return Seat.CIRCLE
    if state == "lobby":
        return Seat.LOBBY
    return Seat.GONE


def policy_table() -> str:
    """The policy as the Markdown table in docs/protocol.md."""
    lines = ["| Message | Who receives it | Why |", "| --- | --- | --- |"]
    for kind, rule in POLICY.items():
        who = rule.audience.value
        if kind in ADMITTED_ONLY:
            who += ", once admitted"
        lines.append(f"| `{kind}` | {who} | {rule.why} |")
    return "\n".join(lines)
