import contextlib
import io
import json
import logging
import time
from types import SimpleNamespace

import httpx
import pytest

from core.logs import JsonFormatter, RedactFilter, correlation_id
from tests.conftest import make_person


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


# Secrets in addresses: a calendar feed's token is the key to a person's calls.

FEED_TOKEN = "Zq8-secret-feed-token_4Yx0Rk2Lm9Vb7Nc5Hd3Jf1Tg6Wp"


def _record(name, msg, args, **extra):
    record = logging.LogRecord(name, logging.WARNING, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


@pytest.mark.parametrize(
    "path",
    [
        f"/calendar/{FEED_TOKEN}.ics",
        f"/invite/{FEED_TOKEN}/",
        f"/unsubscribe/{FEED_TOKEN}/",
        f"/accounts/confirm-email/{FEED_TOKEN}/",
        f"/accounts/password/reset/key/1-{FEED_TOKEN}/",
    ],
)
def test_secrets_in_addresses_are_redacted_in_every_kind_of_line(path):
    lines = [
        # Django's "Not Found", with the request it names.
        _record("django.request", "Not Found: %s", (path,), status_code=404, request=SimpleNamespace(path=path)),
        # uvicorn's access line: client, method, path with query, HTTP version, status.
        _record("uvicorn.access", '%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5555", "GET", f"{path}?x=1", "1.1", 200)),
        # A message written out in full, and a field passed with extra=.
        _record("attunement", f"fetched {path}", None, url=path),
    ]
    for record in lines:
        assert RedactFilter().filter(record) is True
        text = logging.Formatter("%(message)s %(url)s" if hasattr(record, "url") else "%(message)s")
        for formatter in (JsonFormatter(), text):
            line = formatter.format(record)
            assert FEED_TOKEN not in line, line
            assert "[redacted]" in line, line
    assert lines[1].args[2].endswith("?x=1"), "the rest of the line is kept"


def test_ordinary_addresses_are_left_alone():
    record = _record("django.request", "Not Found: %s", ("/calls/12/calendar.ics",))
    RedactFilter().filter(record)
    assert record.getMessage() == "Not Found: /calls/12/calendar.ics"


@contextlib.contextmanager
def console_output():
    """What the site's log handler writes, while the block runs."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


@pytest.mark.django_db
def test_a_feed_not_found_and_a_feed_served_leave_no_token_in_the_log(client, person):
    token = person("feed@example.com").reset_calendar_token()
    with console_output() as output:
        assert client.get(f"/calendar/{FEED_TOKEN}.ics").status_code == 404
        assert client.get(f"/calendar/{token}.ics").status_code == 200
    text = output.getvalue()
    assert "Not Found: /calendar/[redacted].ics" in text
    assert FEED_TOKEN not in text and token not in text


def test_the_web_servers_access_log_leaves_no_token(site):
    """The Procfile's web process: its access lines and Django's "Not Found" line."""
    token = make_person("feed@example.com").reset_calendar_token()
    assert httpx.get(f"{site.url}/calendar/{token}.ics", timeout=10).status_code == 200
    assert httpx.get(f"{site.url}/calendar/{FEED_TOKEN}.ics", timeout=10).status_code == 404
    deadline = time.monotonic() + 5
    while site.log().count("/calendar/[redacted].ics") < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    log = site.log()
    assert log.count("/calendar/[redacted].ics") >= 3, log[-2000:]  # two access lines, one "Not Found"
    assert token not in log and FEED_TOKEN not in log
