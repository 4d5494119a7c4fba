"""IANA time zones: the list people choose from, and the check that a value is one of them."""

import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


@cache
def time_zone_names() -> tuple[str, ...]:
    names = zoneinfo.available_timezones() - {"localtime", "Factory"}
    return tuple(sorted(name for name in names if "/" in name or name == "UTC"))


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in time_zone_names()]


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(
            _("“%(value)s” is not a time zone we know. Choose one from the list, such as Europe/Berlin."),
            params={"value": value},
            code="invalid_time_zone",
        )
