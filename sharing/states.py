"""The room's state graph, as a table a facilitator could check.

A room is in one of these states:

    lobby        before the facilitator starts the call; people gather and are admitted
    grounding    a shared pause with a timer
    turn         one person has the floor; at its end a soft chime and a grace period
    reflections  after a share, listeners answer: raised hands one at a time, or typed
    between      a breath between segments, or open sharing waiting for a raised hand
    paused       the facilitator paused; every timer stands still
    ended        the call is over

Each row says which action moves a room from which states to which states, and who may ask
for it. `sharing.services.room_apply` looks the action up here before doing anything, and checks
after the change that the room landed in one of the row's target states. The table is checked
when this module is imported.

Who may act:
    facilitator  the call's facilitator, its co-facilitator, or site staff
    speaker      the person whose turn it is (or whose share is being reflected on)
    self         any admitted participant, acting for themselves only
    system       time and presence: deadlines passing, people arriving and leaving
"""

from __future__ import annotations

from dataclasses import dataclass

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
SELF = "self"
SYSTEM = "system"
ACTORS = frozenset({FACILITATOR, SPEAKER, SELF, SYSTEM})


@dataclass(frozen=True)
class Transition:
    action: str
    source: frozenset[str]
    target: frozenset[str]
    by: frozenset[str]
    summary: str


def _row(action, source, target, by, summary):
    return Transition(action, frozenset(source), frozenset(target), frozenset(by), summary)


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
    _row("turn.pass", {*LIVE, PAUSED}, {*LIVE, PAUSED}, {SELF}, "Pass, before or during my own turn."),
    _row("turn.skip", LIVE, LIVE, {FACILITATOR}, "Skip the speaker, or someone still waiting."),
    _row("turn.extend", {TURN, REFLECTIONS}, {TURN, REFLECTIONS}, {FACILITATOR}, "Give 30 seconds more."),
    _row("turn.give", {BETWEEN}, {TURN}, {FACILITATOR}, "Open sharing: give the floor to someone."),
    _row("share.mode", {TURN}, {TURN}, {SPEAKER}, "The speaker chooses how listeners may answer."),
    _row("share.typing", {TURN}, {TURN}, {SPEAKER}, "The speaker switches between speaking and typing."),
    _row("resonate", {TURN}, {TURN}, {SELF}, "A silent “resonates with me”."),
    # Reflections and raised hands.
    _row("hand.raise", {TURN, REFLECTIONS, BETWEEN}, {TURN, REFLECTIONS, BETWEEN}, {SELF}, "Raise my hand."),
    _row("hand.lower", {TURN, REFLECTIONS, BETWEEN}, {TURN, REFLECTIONS, BETWEEN}, {SELF}, "Lower my hand."),
    _row(
        "hand.first",
        {TURN, REFLECTIONS, BETWEEN},
        {TURN, REFLECTIONS, BETWEEN},
        {FACILITATOR},
        "Invite a hand first.",
    ),
    _row(
        "reflection.done",
        {REFLECTIONS},
        {REFLECTIONS},
        {SPEAKER, SELF, FACILITATOR},
        "Hand the floor to the next hand.",
    ),
    _row("reflections.end", {REFLECTIONS}, NEXT_TURN_OR_BREAK, {SPEAKER, FACILITATOR}, "Close the reflections."),
    # People and settings: these never change the state.
    _row("order.set", OPEN, OPEN, {FACILITATOR}, "Arrange the order of the round."),
    _row("settings", OPEN, OPEN, {FACILITATOR}, "Admission, drop-ins, lock, order and talking stick."),
    _row("participant.admit", OPEN, OPEN, {FACILITATOR}, "Let someone in from the lobby."),
    _row("participant.remove", OPEN, OPEN, {FACILITATOR, SYSTEM}, "Remove someone from this call (or a ban does)."),
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
