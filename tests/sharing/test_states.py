"""The state table on its own: its shape, and who may ask for what."""

import pytest

from sharing.room import actions, states
from sharing.room.states import TABLE, TransitionError, check_allowed


def test_every_action_has_one_handler_and_the_table_is_checked():
    assert set(actions.HANDLERS) == {row.action for row in TABLE}
    states._check_table()


def test_every_state_is_reachable_from_the_lobby_and_can_end():
    assert {target for row in TABLE for target in row.target} | {states.LOBBY} == set(states.STATES)
    for state in set(states.STATES) - {states.ENDED}:
        check_allowed("call.end", state, {states.FACILITATOR})


@pytest.mark.parametrize(
    ("action", "state", "roles", "code"),
    [
        ("call.start", states.LOBBY, {states.SELF}, "forbidden"),
        ("call.start", states.TURN, {states.FACILITATOR}, "invalid_state"),
        ("turn.finish", states.TURN, {states.SELF}, "forbidden"),
        ("turn.finish", states.REFLECTIONS, {states.SPEAKER}, "invalid_state"),
        ("turn.extend", states.TURN, {states.SELF, states.SPEAKER}, "forbidden"),
        ("turn.skip", states.TURN, {states.SELF}, "forbidden"),
        ("pause", states.TURN, {states.SELF}, "forbidden"),
        ("pause", states.PAUSED, {states.FACILITATOR}, "invalid_state"),
        ("resume", states.TURN, {states.FACILITATOR}, "invalid_state"),
        ("deadline", states.TURN, {states.FACILITATOR}, "forbidden"),
        ("resonate", states.REFLECTIONS, {states.SELF}, "invalid_state"),
        ("order.set", states.TURN, {states.SELF}, "forbidden"),
        ("participant.remove", states.TURN, {states.SELF, states.SPEAKER}, "forbidden"),
        ("call.end", states.ENDED, {states.FACILITATOR}, "invalid_state"),
        ("no.such.action", states.TURN, {states.FACILITATOR}, "unknown_action"),
    ],
)
def test_denied_transitions(action, state, roles, code):
    with pytest.raises(TransitionError) as error:
        check_allowed(action, state, roles)
    assert error.value.code == code


def test_only_facilitators_and_the_system_act_on_other_peoples_turns():
    others = {
        "turn.skip",
        "turn.extend",
        "turn.give",
        "segment.next",
        "order.set",
        "participant.remove",
        "pause",
    }
    for row in TABLE:
        if row.action in others:
            assert row.by <= {states.FACILITATOR, states.SYSTEM}, row.action


def test_a_landing_outside_the_row_is_caught():
    row = states.lookup("pause")
    with pytest.raises(AssertionError):
        states.check_landed(row, states.TURN)
    states.check_landed(row, states.PAUSED)
