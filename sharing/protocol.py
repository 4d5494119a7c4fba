"""The room socket's messages, as JSON Schemas. docs/protocol.md describes each one; the consumer
validates every incoming message here, and the tests validate what the server sends.
"""

from __future__ import annotations

import json
import math

from jsonschema import Draft202012Validator

MAX_FRAME_BYTES = 4096
MAX_SIGNAL_FRAME_BYTES = 16384  # a session description with video can be larger than other frames
MAX_SDP = 15000
SIGNALS = {"rtc.offer", "rtc.answer", "rtc.ice"}
MAX_SHARE_TEXT = 2000
MAX_REFLECTION_TEXT = 280
MAX_SUPPORT_TEXT = 1000

_version = {"type": "integer", "minimum": 1}
_turn = {"type": "integer", "minimum": 0}  # the turn number the client acted on
_segment = {"type": "integer", "minimum": -1}  # the segment index the client acted on
_participant = {"type": "integer", "minimum": 1}


def _message(type_name: str, properties: dict | None = None, required: tuple[str, ...] = ()) -> dict:
    return {
        "type": "object",
        "properties": {"type": {"const": type_name}, **(properties or {})},
        "required": ["type", *required],
        "additionalProperties": False,
    }


# Client → server. Actions that act on a particular moment of the room require the version the
# client saw; a stale one is refused with the error code "stale".
CLIENT: dict[str, dict] = {
    "ping": _message("ping", {"t": {"type": "number"}}, ("t",)),
    "sync": _message("sync"),
    "tick": _message("tick", {"version": _version}),
    "call.start": _message("call.start", {"version": _version}),
    "call.end": _message("call.end", {"version": _version}),
    "pause": _message("pause", {"version": _version}),
    "resume": _message("resume", {"version": _version}),
    "segment.next": _message("segment.next", {"version": _version, "segment": _segment}, ("segment",)),
    "turn.finish": _message("turn.finish", {"version": _version, "turn": _turn}, ("turn",)),
    "turn.pass": _message("turn.pass", {"version": _version}),
    "turn.skip": _message("turn.skip", {"version": _version, "turn": _turn, "participant": _participant}),
    "turn.extend": _message("turn.extend", {"version": _version, "turn": _turn}, ("turn",)),
    "turn.give": _message("turn.give", {"version": _version, "participant": _participant}, ("participant",)),
    "share.mode": _message("share.mode", {"mode": {"enum": ["listen", "reflections", "resonance"]}}, ("mode",)),
    "share.typing": _message("share.typing", {"typing": {"type": "boolean"}}, ("typing",)),
    "share.text": _message("share.text", {"text": {"type": "string", "maxLength": MAX_SHARE_TEXT}}, ("text",)),
    "resonate": _message("resonate"),
    "hand.raise": _message("hand.raise"),
    "checkin.set": _message("checkin.set", {"word": {"type": "string", "maxLength": 64}}, ("word",)),
    "hand.lower": _message("hand.lower"),
    "hand.first": _message("hand.first", {"participant": _participant}, ("participant",)),
    "reflection.send": _message(
        "reflection.send",
        {"text": {"type": "string", "minLength": 1, "maxLength": MAX_REFLECTION_TEXT}},
        ("text",),
    ),
    "reflection.show": _message(
        "reflection.show",
        {
            "id": {"type": "string", "minLength": 12, "maxLength": 12, "pattern": "^[A-Za-z0-9_-]{12}$"},
            "from": _participant,
            "text": {"type": "string", "minLength": 1, "maxLength": MAX_REFLECTION_TEXT},
            "sig": {"type": "string", "maxLength": 128},
        },
        ("id", "from", "text", "sig"),
    ),
    "support.message": _message(
        "support.message",
        {"text": {"type": "string", "minLength": 1, "maxLength": MAX_SUPPORT_TEXT}, "to": _participant},
        ("text",),
    ),
    "reflection.done": _message("reflection.done"),
    "reflections.end": _message("reflections.end", {"version": _version}),
    "order.set": _message(
        "order.set",
        {"version": _version, "order": {"type": "array", "items": _participant, "maxItems": 64}},
        ("version", "order"),
    ),
    "settings": _message(
        "settings",
        {
            "auto_admit": {"type": "boolean"},
            "allow_drop_ins": {"type": "boolean"},
            "locked": {"type": "boolean"},
            "talking_stick": {"type": "boolean"},
            "order_policy": {"enum": ["rsvp", "random", "arranged"]},
        },
    ),
    "participant.admit": _message("participant.admit", {"participant": _participant}, ("participant",)),
    "participant.remove": _message("participant.remove", {"participant": _participant}, ("participant",)),
    "support.request": _message("support.request"),
    "support.clear": _message("support.clear", {"participant": _participant}, ("participant",)),
    "rtc.offer": _message(
        "rtc.offer",
        {"to": _participant, "sdp": {"type": "string", "pattern": "^v=0", "maxLength": MAX_SDP}},
        ("to", "sdp"),
    ),
    "rtc.answer": _message(
        "rtc.answer",
        {"to": _participant, "sdp": {"type": "string", "pattern": "^v=0", "maxLength": MAX_SDP}},
        ("to", "sdp"),
    ),
    "rtc.ice": _message(
        "rtc.ice",
        {
            "to": _participant,
            "candidate": {
                "type": "object",
                "properties": {
                    "candidate": {"type": "string", "maxLength": 1000},
                    "sdpMid": {"type": ["string", "null"], "maxLength": 64},
                    "sdpMLineIndex": {"type": ["integer", "null"], "minimum": 0, "maximum": 64},
                    "usernameFragment": {"type": ["string", "null"], "maxLength": 256},
                },
                "required": ["candidate"],
                "additionalProperties": False,
            },
        },
        ("to", "candidate"),
    ),
}

# The client messages that are room actions in sharing.room.states (the others are transport or relays).
TRANSPORT = {"ping", "sync", "tick"}
RELAYS = {"share.text", "reflection.send", "reflection.show", "support.message", *SIGNALS}
ACTIONS = set(CLIENT) - TRANSPORT - RELAYS

_time = {"type": ["string", "null"]}
_nullable_int = {"type": ["integer", "null"]}
_participant_view = {
    "type": "object",
    "properties": {
        "id": _participant,
        "name": {"type": "string"},
        "role": {"enum": ["facilitator", "co_facilitator", "member"]},
        "state": {"enum": ["lobby", "admitted"]},
        "present": {"type": "boolean"},
        "round": {"enum": ["", "pending", "speaking", "done", "passed", "offered", "declined", "skipped"]},
        "hand": {"type": "boolean"},
        "shared": {"type": "boolean"},
        "needs_support": {"type": "boolean"},
        "checkin": {"type": "string"},
        "accommodations": {
            "type": ["object", "null"],
            "properties": {"extra_time": {"type": "string"}, "prefers_typing": {"type": "boolean"}},
        },
    },
    "required": ["id", "name", "role", "state", "present", "round", "hand", "shared"],
    "additionalProperties": False,
}
_turn = {
    "type": ["object", "null"],
    "properties": {
        "number": {"type": "integer"},
        "speaker": _participant,
        "started_at": _time,
        "ends_at": _time,
        "grace_ends_at": _time,
        "extended_seconds": {"type": "integer"},
        "share_mode": {"enum": ["", "listen", "reflections", "resonance"]},
        "typing": {"type": "boolean"},
        "resonance_count": _nullable_int,
        "reflector": _nullable_int,
    },
    "required": [
        "number",
        "speaker",
        "started_at",
        "ends_at",
        "grace_ends_at",
        "share_mode",
        "resonance_count",
    ],
    "additionalProperties": False,
}

SERVER: dict[str, dict] = {
    "state": {
        "type": "object",
        "properties": {
            "type": {"const": "state"},
            "version": _version,
            "server_now": {"type": "string"},
            "call": {"type": "object"},
            "status": {"enum": ["lobby", "live", "paused", "ended"]},
            "phase": {"enum": ["", "grounding", "turn", "reflections", "between"]},
            "paused_phase": {"enum": ["", "grounding", "turn", "reflections", "between"]},
            "paused_at": _time,
            "segments": {"type": "array"},
            "segment_index": {"type": "integer"},
            "segment_complete": {"type": "boolean"},
            "segment_ends_at": _time,
            "phase_started_at": _time,
            "phase_ends_at": _time,
            "wake_at": _time,
            "turn": _turn,
            "order": {"type": "array", "items": _participant},
            "round_pass": {"type": "integer"},
            "next": _nullable_int,
            "hands": {"type": "array", "items": _participant},
            "acting_facilitator": _nullable_int,
            "floor": {"type": ["array", "null"], "items": _participant},
            "settings": {"type": "object"},
            "participants": {"type": "array", "items": _participant_view},
            "you": {
                "type": "object",
                "properties": {
                    "participant": _nullable_int,
                    "role": {"type": ["string", "null"]},
                    "state": {"type": "string"},
                    "facilitator": {"type": "boolean"},
                    "may": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["participant", "role", "state", "facilitator", "may"],
            },
        },
        "required": ["type", "version", "server_now", "status", "phase", "turn", "participants", "you"],
        "additionalProperties": False,
    },
    "pong": _message(
        "pong",
        {"t": {"type": "number"}, "server_now": {"type": "number"}, "version": _nullable_int},
        ("t", "server_now"),
    ),
    "error": _message(
        "error",
        {"code": {"type": "string"}, "message": {"type": "string"}, "version": _nullable_int},
        ("code", "message"),
    ),
    "share.text": _message(
        "share.text",
        {"version": _nullable_int, "participant": _participant, "text": {"type": "string"}},
        ("participant", "text"),
    ),
    "reflection": _message(
        "reflection",
        {
            "version": _nullable_int,
            "id": {"type": "string"},
            "from": _participant,
            "text": {"type": "string"},
            "sig": {"type": "string"},
        },
        ("id", "from", "text", "sig"),
    ),
    "support.message": _message(
        "support.message",
        {"version": _nullable_int, "from": _participant, "to": _nullable_int, "text": {"type": "string"}},
        ("from", "text"),
    ),
    "rtc.offer": _message("rtc.offer", {"from": _participant, "sdp": {"type": "string"}}, ("from", "sdp")),
    "rtc.answer": _message("rtc.answer", {"from": _participant, "sdp": {"type": "string"}}, ("from", "sdp")),
    "rtc.ice": _message("rtc.ice", {"from": _participant, "candidate": {"type": "object"}}, ("from", "candidate")),
    "ice": _message(
        "ice",
        {
            "servers": {"type": "array", "items": {"type": "object"}},
            "expires_at": {"type": ["string", "null"]},
        },
        ("servers",),
    ),
    "reflection.shown": _message(
        "reflection.shown",
        {"version": _nullable_int, "from": _participant, "text": {"type": "string"}},
        ("from", "text"),
    ),
}

_client_validators = {name: Draft202012Validator(schema) for name, schema in CLIENT.items()}
_server_validators = {name: Draft202012Validator(schema) for name, schema in SERVER.items()}


class ProtocolError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses to infinity, which JSON cannot carry back
        raise ValueError("numbers must be finite")
    return value


def parse_client(raw: str | bytes | None) -> dict:
    """Decode and validate one client frame, or raise ProtocolError with a machine-readable code."""
    if raw is None:
        raise ProtocolError("malformed", "Send JSON text frames.")
    size = len(raw.encode("utf-8")) if isinstance(raw, str) else len(raw)
    if size > MAX_SIGNAL_FRAME_BYTES:
        raise ProtocolError("too_large", f"Frames are limited to {MAX_FRAME_BYTES} bytes.")
    try:
        message = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
        # Lone surrogates ("\\ud800") decode to a str no database or browser can store: refuse them.
        json.dumps(message, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeError, RecursionError):
        raise ProtocolError("malformed", "That frame is not JSON.") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError("malformed", "A message is a JSON object with a string `type`.")
    if size > MAX_FRAME_BYTES and message["type"] not in {"rtc.offer", "rtc.answer"}:
        raise ProtocolError("too_large", f"Frames are limited to {MAX_FRAME_BYTES} bytes.")
    validator = _client_validators.get(message["type"])
    if validator is None:
        raise ProtocolError("unknown_type", "Unknown message type.")
    error = next(iter(validator.iter_errors(message)), None)
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "message"
        raise ProtocolError("invalid", f"{where}: {error.message}"[:200])
    return message


def server_errors(message: dict) -> list[str]:
    """Schema errors in a message the server sends (empty when it conforms); for tests and docs."""
    validator = _server_validators.get(message.get("type"))
    if validator is None:
        return [f"unknown server message type {message.get('type')!r}"]
    return [error.message for error in validator.iter_errors(message)]


def schema_appendix() -> str:
    """The JSON Schemas as the Markdown appendix of docs/protocol.md (a test keeps the two equal)."""
    parts = ["## Appendix: JSON Schemas", "", "Generated from `sharing/protocol.py`.", ""]
    for title, schemas in (("Client to server", CLIENT), ("Server to client", SERVER)):
        parts += [f"### {title}", ""]
        for name, schema in schemas.items():
            parts += [f"#### `{name}`", "", "```json", json.dumps(schema, indent=2, sort_keys=True), "```", ""]
    return "\n".join(parts)
