"""A calm `make run`: at INFO each request and event is one line, the room sweep speaks only when
it moves a room on, a refused request has no traceback, and email bodies go only to var/mail/."""

import io
import logging
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.mail import send_mail
from django.test import override_settings
from django.utils import timezone

from core.logs import RefusalFilter
from sharing.tasks import sweep_rooms


def console_like():
    """A handler built as settings.LOGGING builds the console one, writing to a buffer."""
    console = settings.LOGGING["handlers"]["console"]
    assert "refusal" in console["filters"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logging.Formatter(settings.LOGGING["formatters"]["text"]["format"].replace(" [%(correlation_id)s]", ""))
    )
    handler.addFilter(RefusalFilter())
    return handler, stream


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/calls/999999/", "/c/no-such-community/"])
def test_a_refused_request_is_one_line_without_a_traceback(client, circle, path):
    handler, stream = console_like()
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        client.force_login(circle.member)
        response = client.get(path)
        forbidden = client.get(f"/c/{circle.community.slug}/members/")
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 404 and forbidden.status_code in {403, 404}
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert all("WARNING django.request" in line for line in lines)
    assert "Traceback" not in stream.getvalue()


def test_a_server_error_keeps_its_traceback():
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error: /", None, None)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    record.status_code = 500
    RefusalFilter().filter(record)
    assert record.exc_info is not None


def test_celerys_per_task_lines_are_not_logged_at_info():
    for name in ("celery.beat", "celery.app.trace", "celery.worker.strategy"):
        assert settings.LOGGING["loggers"][name]["level"] == "WARNING"


@pytest.mark.django_db(transaction=True)
def test_the_sweep_logs_only_when_it_moves_a_room_on(room, caplog):
    caplog.set_level(logging.INFO, logger="attunement.clock")
    assert sweep_rooms() == 0
    assert [r for r in caplog.records if r.name == "attunement.clock"] == []

    room.enter(room.facilitator, room.maya)
    room.act(room.facilitator, "call.start")
    caplog.clear()
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        room.heartbeats(timezone.now())
        moved = sweep_rooms()
    lines = [r.getMessage() for r in caplog.records if r.name == "attunement.clock"]
    assert moved >= 1
    assert lines == [f"room sweep moved {moved} room(s) on"]


def test_an_email_goes_to_var_mail_in_one_log_line_and_its_body_nowhere_else(tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    with override_settings(EMAIL_BACKEND="attunement_site.mail.ConsoleAndFileBackend", EMAIL_FILE_PATH=tmp_path):
        assert send_mail("Tomorrow: Evening circle", "Line one\nLine two of the body", None, ["maya@example.com"]) == 1
    files = list(tmp_path.glob("*.eml"))
    assert len(files) == 1 and "Line two of the body" in files[0].read_text()
    records = [r for r in caplog.records if r.name == "attunement.mail"]
    assert len(records) == 1 and records[0].levelno == logging.INFO
    assert str(files[0]) in records[0].getMessage()
    assert "Line two" not in " ".join(r.getMessage() for r in caplog.records)
    out = capsys.readouterr()
    assert "Line two" not in out.out + out.err
