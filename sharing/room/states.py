"""The room's state graph, as a table a facilitator could check.

A room is in one of these states:

    lobby        before the facilitator starts the call; people gather and are admitted
    grounding    a shared pause with a timer
    turn         one person has the floor; at its end a soft chime and a grace period
    reflections  after a share, listeners answer: raised hands one at a time, or typed
    between      a breath between segments, or open sharing waiting for a raised hand
    paused       the facilitator paused; every timer stands still
    ended        the call is over

Each row says which action moves a room from which states to which states, who may ask for it,
and the guards that must also hold: named conditions on the room and the person asking ("it is
open sharing", "a hand is raised"). `allowed` answers for one person and one action from the row
alone (roles, state, guards); `sharing.services.room_apply` refuses whatever it does not allow,
before any change, and checks after the change that the room landed in one of the row's target
states. A handler still checks what the person asks for (whom to skip, which order); it never
refuses what the row allows. Guards are for people: time and presence (the clock, a kick, a change of
standing) are checked on role and state. The table is checked when this module is imported.

Who may act:
    facilitator  the call's facilitator, its co-facilitator, or site staff
    speaker      the person whose turn it is (or whose share is being reflected on)
    reflector    the listener whose raised hand has the floor during reflections
    self         any admitted participant, acting for themselves only
    system       time and presence: deadlines passing, people arriving and leaving
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from groups.formats import Segment
from sharing.models import Participant, Room

LOBBY = "lobby"
GROUNDING = "grounding"
TURN = "turn"
REFLECTIONS = "reflections"
BETWEEN = "between"
PAUSED = "paused"
ENDED = "ended"

STATES = (LOBBY, GROUNDING, TURN, REFLECTIONS, BETWEEN, PAUSED, ENDED)
LIVE = frozenset({GROUNDING, TURN, REFLECTIONS, BETWEEN})
OPEN = frozenset({LOBBY, *LIVE, PAUSED})  # every state but ended
SEGMENT_STARTS = frozenset({GROUNDING, TURN, BETWEEN})  # where a new segment begins

FACILITATOR = "facilitator"
SPEAKER = "speaker"
REFLECTOR = "reflector"
SELF = "self"
SYSTEM = "system"
ACTORS = frozenset({FACILITATOR, SPEAKER, REFLECTOR, SELF, SYSTEM})


class Change(Protocol):
    """What the guards read of a room (sharing.room.work.Change is one)."""

    room: Room
    participants: dict[int, Participant]

    @property
    def segment(self) -> Segment | None: ...

    def in_open_sharing(self) -> bool: ...

    def present(self) -> list[Participant]: ...

    def hands(self) -> list[Participant]: ...


@dataclass(frozen=True)
class Actor:
    """Who asks: their seat (None for the system) and their roles in the room right now."""

    participant: Participant | None
    roles: frozenset[str]


@dataclass(frozen=True)
class Guard:
    """A named condition a row needs besides role and state, and what a refusal says."""

    name: str
    holds: Callable[[Change, Actor], bool]
    code: str
    message: str


def _guard(code: str, message: str):
    def named(holds: Callable[[Change, Actor], bool]) -> Guard:
        return Guard(holds.__name__, holds, code, message)

    return named


WAITING = frozenset({Participant.Round.PENDING, Participant.Round.OFFERED})


@_guard("nothing_to_pass", "There is no turn of yours to pass right now.")
def has_a_turn_to_pass(change: Change, actor: Actor) -> bool:
    """Speaking now, waiting in the round, or in open sharing (where passing lowers a hand)."""
    me, room = actor.participant, change.room
    speaking = room.phase == Room.Phase.TURN and room.speaker_id == me.pk
    return speaking or change.in_open_sharing() or me.round_status in WAITING


@_guard("nothing_to_skip", "Nobody is speaking or waiting for a turn.")
def someone_to_skip(change: Change, actor: Actor) -> bool:
    """Someone speaks, or someone still waits for a turn in the round."""
    room = change.room
    speaking = room.phase == Room.Phase.TURN and room.speaker_id is not None
    return speaking or any(p.round_status in WAITING for p in change.participants.values())


@_guard("invalid_state", "The floor is given only in open sharing.")
def open_sharing(change: Change, actor: Actor) -> bool:
    return change.in_open_sharing()


@_guard("not_present", "Nobody is here to give the floor to.")
def someone_here(change: Change, actor: Actor) -> bool:
    return bool(change.present())


@_guard("unknown_participant", "There is nobody in this call to remove.")
def someone_to_remove(change: Change, actor: Actor) -> bool:
    """Someone in the circle or the lobby who is not the call's facilitator."""
    return any(
        p.state in {Participant.State.ADMITTED, Participant.State.LOBBY} and p.role != Participant.Role.FACILITATOR
        for p in change.participants.values()
    )


@_guard("not_allowed", "Resonance is not open for this share.")
def resonance_open(change: Change, actor: Actor) -> bool:
    """A listener, and the speaker has not asked to be just listened to."""
    room = change.room
    return room.speaker_id != actor.participant.pk and room.share_mode != Room.ShareMode.LISTEN


@_guard("not_allowed", "Hands are raised during reflections and open sharing.")
def hands_open(change: Change, actor: Actor) -> bool:
    return change.room.phase == Room.Phase.REFLECTIONS or change.in_open_sharing()


@_guard("not_allowed", "This is your share; listeners raise hands to reflect.")
def not_my_share(change: Change, actor: Actor) -> bool:
    room = change.room
    return not (room.phase == Room.Phase.REFLECTIONS and room.speaker_id == actor.participant.pk)


@_guard("not_allowed", "Reflections are typed in this part of the call.")
def reflections_spoken(change: Change, actor: Actor) -> bool:
    segment = change.segment
    return not (change.room.phase == Room.Phase.REFLECTIONS and segment.reflection_mode == "typed")


@_guard("no_hand", "Nobody's hand is raised.")
def a_hand_is_raised(change: Change, actor: Actor) -> bool:
    return bool(change.hands())


@dataclass(frozen=True)
class Transition:
    action: str
    source: frozenset[str]
    target: frozenset[str]
    by: frozenset[str]
    summary: str
    guards: tuple[Guard, ...] = ()


def _row(action, source, target, by, summary, guards=()):
    return Transition(action, frozenset(source), frozenset(target), frozenset(by), summary, tuple(guards))


# Moving on from a turn lands in reflections, the next turn, or a breath between segments.
AFTER_TURN = {REFLECTIONS, TURN, BETWEEN}
NEXT_TURN_OR_BREAK = {TURN, BETWEEN}

TABLE: tuple[Transition, ...] = (
    # The call as a whole.
    _row("call.start", {LOBBY}, SEGMENT_STARTS, {FACILITATOR}, "Start the call with its first segment."),
    _row("call.end", OPEN, {ENDED}, {FACILITATOR, SYSTEM}, "End the call for everyone."),
    _row("pause", LIVE, {PAUSED}, {FACILITATOR}, "Stop every timer."),
    _row("resume", {PAUSED}, LIVE, {FACILITATOR}, "Start the timers again where they stood."),
    _row("segment.next", LIVE, SEGMENT_STARTS, {FACILITATOR}, "Move on to the next segment now."),
    # Time passing. The system applies a deadline only after it has passed on the server's clock.
    _row("deadline", LIVE, {*SEGMENT_STARTS, REFLECTIONS}, {SYSTEM}, "A timer ran out: move on."),
    _row("speaker.away", {TURN}, NEXT_TURN_OR_BREAK, {SYSTEM}, "The speaker has been gone 15 s: skip them."),
    # A turn.
    _row("turn.finish", {TURN}, AFTER_TURN, {SPEAKER, FACILITATOR}, "“I'm done” (or the facilitator's “next”)."),
    _row(
        "turn.pass",
        {*LIVE, PAUSED},
        {*LIVE, PAUSED},
        {SELF},
        "Pass, before or during my own turn.",
        [has_a_turn_to_pass],
    ),
    _row("turn.skip", LIVE, LIVE, {FACILITATOR}, "Skip the speaker, or someone still waiting.", [someone_to_skip]),
    _row("turn.extend", {TURN, REFLECTIONS}, {TURN, REFLECTIONS}, {FACILITATOR}, "Give 30 seconds more."),
    _row(
        "turn.give",
        {BETWEEN},
        {TURN},
        {FACILITATOR},
        "Open sharing: give the floor to someone.",
        [open_sharing, someone_here],
    ),
    _row("share.mode", {TURN}, {TURN}, {SPEAKER}, "The speaker chooses how listeners may answer."),
    _row("share.typing", {TURN}, {TURN}, {SPEAKER}, "The speaker switches between speaking and typing."),
    _row("resonate", {TURN}, {TURN}, {SELF}, "A silent “resonates with me”.", [resonance_open]),
    # Reflections and raised hands.
    _row(
        "hand.raise",
        {TURN, REFLECTIONS, BETWEEN},
        {TURN, REFLECTIONS, BETWEEN},
        {SELF},
        "Raise my hand.",
        [hands_open, not_my_share, reflections_spoken],
    ),
    _row("hand.lower", {TURN, REFLECTIONS, BETWEEN}, {TURN, REFLECTIONS, BETWEEN}, {SELF}, "Lower my hand."),
    _row(
        "hand.first",
        {TURN, REFLECTIONS, BETWEEN},
        {TURN, REFLECTIONS, BETWEEN},
        {FACILITATOR},
        "Invite a hand first.",
        [a_hand_is_raised],
    ),
    _row(
        "reflection.done",
        {REFLECTIONS},
        {REFLECTIONS},
        {REFLECTOR, SPEAKER, FACILITATOR},
        "Hand the floor to the next hand.",
    ),
    _row("reflections.end", {REFLECTIONS}, NEXT_TURN_OR_BREAK, {SPEAKER, FACILITATOR}, "Close the reflections."),
    # People and settings: these never change the state.
    _row("order.set", OPEN, OPEN, {FACILITATOR}, "Arrange the order of the round."),
    _row("settings", OPEN, OPEN, {FACILITATOR}, "Admission, drop-ins, lock, order and talking stick."),
    _row("participant.admit", OPEN, OPEN, {FACILITATOR}, "Let someone in from the lobby."),
    _row(
        "participant.remove",
        OPEN,
        OPEN,
        {FACILITATOR, SYSTEM},
        "Remove someone from this call (or a ban does).",
        [someone_to_remove],
    ),
    _row("checkin.set", OPEN, OPEN, {SELF}, "Pick (or clear) my check-in word or emoji for this call."),
    _row("support.request", OPEN, OPEN, {SELF}, "Tell the facilitators privately that I need support."),
    _row("support.clear", OPEN, OPEN, {FACILITATOR}, "The facilitator has seen the request."),
    _row("presence.enter", OPEN, OPEN, {SYSTEM}, "Someone's socket connected."),
    _row("presence.leave", OPEN, OPEN, {SYSTEM}, "Someone's socket closed, or fell silent."),
    _row("facilitator.takeover", OPEN, OPEN, {SYSTEM}, "The co-facilitator acts while the facilitator is away."),
    _row(
        "standing.changed",
        OPEN,
        OPEN,
        {SYSTEM},
        "Someone left the community, was removed or banned, lost a role or their second factor.",
    ),
)

BY_ACTION: dict[str, Transition] = {row.action: row for row in TABLE}
# The actions people ask for (the others are time and presence, applied by the system).
PERSON_ACTIONS: tuple[str, ...] = tuple(sorted(row.action for row in TABLE if row.by - {SYSTEM}))


class TransitionError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def lookup(action: str) -> Transition:
    try:
        return BY_ACTION[action]
    except KeyError:
        raise TransitionError("unknown_action", f"unknown action {action!r}") from None


def check_allowed(action: str, state: str, roles: set[str]) -> Transition:
    """Raise TransitionError unless `roles` may ask for `action` in `state`."""
    row = lookup(action)
    if not row.by & roles:
        raise TransitionError("forbidden", f"{action} is not yours to do")
    if state not in row.source:
        raise TransitionError("invalid_state", f"{action} cannot happen while the room is {state}")
    return row


def check_guards(row: Transition, change: Change, actor: Actor) -> None:
    """Raise TransitionError, with the guard's own code, unless every guard of the row holds."""
    for guard in row.guards:
        if not guard.holds(change, actor):
            raise TransitionError(guard.code, guard.message)


def check(change: Change, actor: Actor, action: str) -> Transition:
    """Raise TransitionError unless this person may ask for this action in this room now."""
    row = check_allowed(action, change.room.state, actor.roles)
    check_guards(row, change, actor)
    return row


def allowed(change: Change, actor: Actor, action: str) -> bool:
    """Whether the room accepts this action from this person now: role, state and guards."""
    try:
        check(change, actor, action)
    except TransitionError:
        return False
    return True


def check_landed(row: Transition, state: str) -> None:
    if state not in row.target:
        raise AssertionError(f"{row.action} moved the room to {state}, outside {sorted(row.target)}")


class TableError(Exception):
    """The table contradicts itself; raised at import, so a broken table never runs."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise TableError(message)


def _check_table() -> None:
    actions = [row.action for row in TABLE]
    duplicates = {action for action in actions if actions.count(action) > 1}
    _require(not duplicates, f"actions declared twice: {duplicates}")
    for row in TABLE:
        _require(row.source and row.target, f"{row.action} needs source and target states")
        _require(row.source <= set(STATES), f"{row.action} starts from unknown states")
        _require(row.target <= set(STATES), f"{row.action} leads to unknown states")
        _require(row.by and row.by <= ACTORS, f"{row.action} names unknown actors")
        _require(ENDED not in row.source, f"{row.action} acts on an ended call")
    reachable = {LOBBY}
    changed = True
    while changed:
        changed = False
        for row in TABLE:
            if row.source & reachable and not row.target <= reachable:
                reachable |= row.target
                changed = True
    _require(reachable == set(STATES), f"unreachable states: {set(STATES) - reachable}")
    for state in set(STATES) - {ENDED}:
        _require(any(state in row.source and ENDED in row.target for row in TABLE), f"{state} cannot end")


_check_table()
