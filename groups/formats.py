"""Call formats as data: an ordered list of segments, validated, with one documented schema.

A format is stored as a JSON list. Each item is one segment:

    {"kind": "grounding", "title": "Arrive", "seconds": 60}
    {"kind": "round", "title": "Check-in", "turn_seconds": 60}
    {"kind": "round", "title": "Sharing", "turn_seconds": 120,
     "reflection_seconds": 60, "reflection_mode": "either"}
    {"kind": "open", "title": "Open sharing", "seconds": 900, "turn_seconds": 120}
    {"kind": "closing", "title": "Closing", "turn_seconds": 30}

docs/formats.md describes every field and its bounds. The live room reads formats only through
`parse_segments`, so a stored format that no longer validates fails loudly instead of misbehaving.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

DEFAULT_GRACE_SECONDS = 15
GRACE_BOUNDS = (0, 120)
MAX_SEGMENTS = 12
TURN_BOUNDS = (15, 900)  # a turn: 15 seconds to 15 minutes
GROUNDING_BOUNDS = (10, 900)
OPEN_BOUNDS = (60, 3600)  # an open-sharing segment: 1 to 60 minutes
REFLECTION_BOUNDS = (15, 600)
TITLE_MAX = 60

KINDS = {
    "grounding": gettext_lazy("Grounding"),
    "round": gettext_lazy("Round"),
    "open": gettext_lazy("Open sharing"),
    "closing": gettext_lazy("Closing round"),
}
REFLECTION_MODES = {
    "spoken": gettext_lazy("Spoken"),
    "typed": gettext_lazy("Typed"),
    "either": gettext_lazy("Spoken or typed"),
}
TURN_KINDS = {"round", "open", "closing"}
ROUND_KINDS = {"round", "closing"}


@dataclass(frozen=True)
class Segment:
    kind: str
    title: str
    seconds: int | None = None  # grounding and open sharing: the segment's length
    turn_seconds: int | None = None  # rounds, closing and open sharing: one turn's length
    reflection_seconds: int = 0  # rounds: 0 means no reflections after a turn
    reflection_mode: str = "either"

    @property
    def has_turns(self) -> bool:
        return self.kind in TURN_KINDS

    @property
    def is_round(self) -> bool:
        return self.kind in ROUND_KINDS

    @property
    def allows_reflections(self) -> bool:
        return self.reflection_seconds > 0

    def planned_seconds(self, *, people: int) -> int:
        """How long the segment is expected to take with this many people."""
        if self.kind == "grounding" or self.kind == "open":
            return self.seconds or 0
        return people * ((self.turn_seconds or 0) + self.reflection_seconds)

    @classmethod
    def from_dict(cls, data: dict) -> Segment:
        """A segment as the room stores it (`to_dict`'s output, already validated)."""
        return cls(**data)

    def to_dict(self) -> dict:
        data = {key: value for key, value in asdict(self).items() if value is not None}
        if not self.allows_reflections:
            data.pop("reflection_seconds", None)
            data.pop("reflection_mode", None)
        return data

    def kind_label(self) -> str:
        return str(KINDS[self.kind])


def _whole_number(raw, field: str, position: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValidationError(
            _("Segment %(n)s: %(field)s must be a whole number of seconds."),
            params={"n": position, "field": field},
            code="not_a_number",
        )
    return raw


def _within(value: int, bounds: tuple[int, int], what: str, position: int) -> int:
    low, high = bounds
    if not low <= value <= high:
        raise ValidationError(
            _("Segment %(n)s: %(what)s must be between %(low)s and %(high)s seconds (it is %(value)s)."),
            params={"n": position, "what": what, "low": low, "high": high, "value": value},
            code="out_of_bounds",
        )
    return value


def _read_segment(raw, position: int) -> tuple[Segment | None, dict[str, list[ValidationError]]]:
    """The segment, or every problem with it, each under the field it concerns."""
    if not isinstance(raw, dict):
        error = ValidationError(_("Segment %(n)s is not a segment."), params={"n": position}, code="invalid")
        return None, {"kind": [error]}
    kind = raw.get("kind")
    if kind not in KINDS:
        error = ValidationError(
            _("Segment %(n)s: choose a kind (grounding, round, open sharing or closing round)."),
            params={"n": position},
            code="invalid_kind",
        )
        return None, {"kind": [error]}
    problems: dict[str, list[ValidationError]] = {}

    def check(field: str, read):
        try:
            return read()
        except ValidationError as error:
            problems.setdefault(field, []).extend(error.error_list)
            return None

    title = str(raw.get("title") or "").strip() or str(KINDS[kind])
    if len(title) > TITLE_MAX:
        problems["title"] = [
            ValidationError(
                _("Segment %(n)s: the title can be at most %(max)s characters."),
                params={"n": position, "max": TITLE_MAX},
                code="title_too_long",
            )
        ]
    seconds = turn_seconds = None
    reflection_seconds = 0
    reflection_mode = "either"
    if kind in {"grounding", "open"}:
        bounds, what = (GROUNDING_BOUNDS, _("a grounding")) if kind == "grounding" else (OPEN_BOUNDS, _("open sharing"))
        seconds = check(
            "seconds", lambda: _within(_whole_number(raw.get("seconds"), "length", position), bounds, what, position)
        )
    if kind in TURN_KINDS:
        turn_seconds = check(
            "turn_seconds",
            lambda: _within(
                _whole_number(raw.get("turn_seconds"), "turn length", position), TURN_BOUNDS, _("a turn"), position
            ),
        )
    if kind == "round":
        raw_reflections = raw.get("reflection_seconds", 0) or 0
        reflection_seconds = check(
            "reflection_seconds", lambda: _whole_number(raw_reflections, "reflection time", position)
        )
        if reflection_seconds:
            check(
                "reflection_seconds",
                lambda: _within(reflection_seconds, REFLECTION_BOUNDS, _("reflection time"), position),
            )
            reflection_mode = raw.get("reflection_mode", "either")
            if reflection_mode not in REFLECTION_MODES:
                problems["reflection_mode"] = [
                    ValidationError(
                        _("Segment %(n)s: reflections are spoken, typed, or either."),
                        params={"n": position},
                        code="invalid_reflection_mode",
                    )
                ]
    if kind == "open" and seconds is not None and turn_seconds is not None and turn_seconds > seconds:
        problems.setdefault("turn_seconds", []).append(
            ValidationError(
                _("Segment %(n)s: a turn cannot be longer than the open-sharing segment itself."),
                params={"n": position},
                code="turn_longer_than_segment",
            )
        )
    if problems:
        return None, problems
    segment = Segment(
        kind=kind,
        title=title,
        seconds=seconds,
        turn_seconds=turn_seconds,
        reflection_seconds=reflection_seconds or 0,
        reflection_mode=reflection_mode,
    )
    return segment, {}


def segment_errors(raw, position: int) -> dict[str, list[ValidationError]]:
    """Every problem with one segment, under the field it concerns (kind, title, seconds, ...)."""
    return _read_segment(raw, position)[1]


def parse_segment(raw, position: int) -> Segment:
    segment, problems = _read_segment(raw, position)
    if segment is None:
        raise ValidationError([error for errors in problems.values() for error in errors])
    return segment


def parse_segments(raw) -> list[Segment]:
    """Validate a stored or submitted list of segments; raise ValidationError with every problem."""
    if not isinstance(raw, list) or not raw:
        raise ValidationError(_("A format needs at least one segment."), code="no_segments")
    if len(raw) > MAX_SEGMENTS:
        raise ValidationError(
            _("A format can have at most %(max)s segments."), params={"max": MAX_SEGMENTS}, code="too_many"
        )
    segments, errors = [], []
    for position, item in enumerate(raw, start=1):
        try:
            segments.append(parse_segment(item, position))
        except ValidationError as error:
            errors.extend(error.error_list)
    if errors:
        raise ValidationError(errors)
    return segments


def validate_grace_seconds(value) -> int:
    low, high = GRACE_BOUNDS
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(
            _("The grace period must be between %(low)s and %(high)s seconds."),
            params={"low": low, "high": high},
            code="grace_out_of_bounds",
        )
    return value


def default_segments() -> list[dict]:
    """Attuned sharing: arrive, check in, share with reflections, and close."""
    return [
        {"kind": "grounding", "title": "Arriving", "seconds": 60},
        {"kind": "round", "title": "Check-in", "turn_seconds": 60},
        {
            "kind": "round",
            "title": "Sharing",
            "turn_seconds": 120,
            "reflection_seconds": 60,
            "reflection_mode": "either",
        },
        {"kind": "closing", "title": "Closing", "turn_seconds": 30},
    ]


# Segments a facilitator can add with one button in the format editor, then adjust.
PRESETS = {
    "grounding": (gettext_lazy("Grounding"), {"kind": "grounding", "seconds": 60}),
    "check_in": (gettext_lazy("Check-in round"), {"kind": "round", "turn_seconds": 60}),
    "sharing": (
        gettext_lazy("Sharing round"),
        {"kind": "round", "turn_seconds": 120, "reflection_seconds": 60, "reflection_mode": "either"},
    ),
    "open": (gettext_lazy("Open sharing"), {"kind": "open", "seconds": 900, "turn_seconds": 120}),
    "closing": (gettext_lazy("Closing"), {"kind": "closing", "turn_seconds": 30}),
}
# The fields each kind of segment reads; the editor shows only these.
KIND_FIELDS = {
    "grounding": ("seconds",),
    "round": ("turn_seconds", "reflection_seconds", "reflection_mode"),
    "open": ("seconds", "turn_seconds"),
    "closing": ("turn_seconds",),
}


def presets() -> list[dict]:
    """Each preset's name and its segment, titled in the current language."""
    return [
        {"key": key, "name": str(title), "segment": {**fields, "title": str(title)}}
        for key, (title, fields) in PRESETS.items()
    ]


DEFAULT_FORMAT_NAME = "Attuned sharing"
DEFAULT_FORMAT_DESCRIPTION = (
    "A minute of grounding, a check-in round of 1-minute turns, a sharing round of 2-minute turns "
    "with a minute for reflections, and a closing round of 30-second turns."
)
