import json
import logging

import pytest

from core.logs import JsonFormatter, correlation_id


def test_json_lines_carry_the_correlation_id_and_extra_ids():
    token = correlation_id.set("req-abc123")
    try:
        record = logging.LogRecord("attunement.room", logging.INFO, __file__, 1, "room change", None, None)
        record.call = 42
        line = json.loads(JsonFormatter().format(record))
    finally:
        correlation_id.reset(token)
    assert line["message"] == "room change"
    assert line["correlation_id"] == "req-abc123"
    assert line["call"] == 42
    assert line["level"] == "INFO"


@pytest.mark.django_db
def test_every_response_names_its_request(client):
    response = client.get("/")
    assert response["X-Request-ID"].startswith("req-")
    kept = client.get("/", headers={"X-Request-ID": "proxy-1234abcd"})
    assert kept["X-Request-ID"] == "proxy-1234abcd"
    replaced = client.get("/", headers={"X-Request-ID": "<script>"})
    assert replaced["X-Request-ID"].startswith("req-")


def test_room_logs_hold_ids_never_what_was_said(room, caplog):
    from sharing import relays

    caplog.set_level(logging.DEBUG)
    room.enter(room.facilitator, room.maya)
    room.act(room.facilitator, "call.start")
    room.act(room.facilitator, "segment.next")
    relays.share_text(call_id=room.call.pk, user=room.facilitator, text="my private words")
    room.act(room.facilitator, "turn.finish")
    text = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "room change" in text
    assert "my private words" not in text
    assert "member@example.com" not in text
