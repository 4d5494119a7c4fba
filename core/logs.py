"""Structured logs: one JSON object per line, with the request's or the socket's correlation id.

Logs carry ids, never message bodies or personal data: no typed shares, no reflections, no
emails' content, no email addresses. Call sites log ids (call, participant, user) only.

Some addresses hold a secret in their path (a person's calendar feed, an invite link, an
unsubscribe link, allauth's confirmation and password-reset keys). RedactFilter, on the one
handler every log line goes through (the application's, Django's "Not Found" and uvicorn's access
lines alike), replaces those secrets with "[redacted]" before anything is written.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="-")

# Attributes every LogRecord has; anything else a call site passes with `extra=` is added as a field.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


REDACTED = "[redacted]"
# (what comes before the secret)(the secret)(what follows it), for each address that holds one.
_SECRET_PATHS = [
    re.compile(r"(/calendar/)([^/?#\s\"'<>]+)(\.ics)"),
    re.compile(r"(/invite/)([^/?#\s\"'<>]+)(/)"),
    re.compile(r"(/unsubscribe/)([^/?#\s\"'<>]+)(/)"),
    re.compile(r"(/accounts/confirm-email/)([^/?#\s\"'<>]+)(/)"),
    re.compile(r"(/accounts/password/reset/key/)([^/?#\s\"'<>]+)(/)"),
]


def redact(text: str) -> str:
    """The text with every secret of an address in it replaced by [redacted]."""
    if "/" not in text:
        return text
    for pattern in _SECRET_PATHS:
        text = pattern.sub(lambda match: f"{match[1]}{REDACTED}{match[3]}", text)
    return text


class RedactFilter(logging.Filter):
    """Takes the secrets of addresses out of a record: its arguments (the path in Django's "Not
    Found: %s" and in uvicorn's access line), its message, and the text fields added with `extra=`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: redact(arg) if isinstance(arg, str) else arg for key, arg in record.args.items()}
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the message: logging reports it
            return True
        if redact(message) != message:  # a secret put together from message and arguments
            record.msg, record.args = redact(message), ()
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and not key.startswith("_") and isinstance(value, str):
                setattr(record, key, redact(value))
        return True


class RefusalFilter(logging.Filter):
    """A refused request (a 4xx from Django, a 403 or 404 above all) is one line, without the
    traceback of the exception that refused it: it is the site working, not failing."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": correlation_id.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                # Objects such as Django's request name their path when made text.
                entry[key] = value if isinstance(value, int | float | bool | type(None)) else redact(str(value))
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class CorrelationFilter(logging.Filter):
    """Adds the correlation id to plain-text logs too."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get()
        return True


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class RequestIdMiddleware:
    """Every request gets a correlation id (kept from a trusted proxy's X-Request-ID when sane)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if 8 <= len(incoming) <= 64 and incoming.replace("-", "").isalnum() else new_id("req")
        token = correlation_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            correlation_id.reset(token)
        response["X-Request-ID"] = request_id
        return response
