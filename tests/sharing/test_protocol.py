"""docs/protocol.md documents every message, and its schemas are the ones the code enforces."""

from pathlib import Path

import pytest

from sharing import protocol
from sharing.room import states

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def test_the_schema_appendix_is_generated_from_the_code():
    text = DOC.read_text()
    appendix = text[text.index("## Appendix: JSON Schemas") :]
    assert appendix.strip() == protocol.schema_appendix().strip(), "regenerate it with protocol.schema_appendix()"


def test_every_message_and_every_room_action_is_documented():
    text = DOC.read_text()
    body = text[: text.index("## Appendix")]
    for name in [*protocol.CLIENT, *protocol.SERVER]:
        assert f"`{name}`" in body, name
    client_actions = {row.action for row in states.TABLE} - {
        "deadline",
        "speaker.away",
        "presence.enter",
        "presence.leave",
        "facilitator.takeover",
        "standing.changed",
    }
    assert client_actions == protocol.ACTIONS


def test_the_documented_audiences_are_the_policy():
    from sharing import audiences

    text = DOC.read_text()
    documented = text[text.index("<!-- policy:start -->") : text.index("<!-- policy:end -->")]
    assert documented.split("\n")[1:-1] == audiences.policy_table().split("\n")
    assert set(audiences.POLICY) == set(protocol.SERVER), "every message the server sends has an audience"


@pytest.mark.parametrize(
    "message",
    [
        {"type": "ping", "t": 12.5},
        {"type": "turn.finish", "turn": 4},
        {"type": "segment.next", "segment": 1, "version": 9},
        {"type": "order.set", "version": 2, "order": [3, 1, 2]},
        {"type": "settings", "locked": True, "order_policy": "random"},
        {"type": "reflection.send", "text": "Thank you"},
    ],
)
def test_valid_client_messages_pass(message):
    import json

    assert protocol.parse_client(json.dumps(message)) == message


def test_unknown_server_messages_are_reported():
    assert protocol.server_errors({"type": "gossip"}) != []
    assert protocol.server_errors({"type": "pong", "t": 1, "server_now": 2.0, "version": 3}) == []
