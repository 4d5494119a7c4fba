"""Read settings from the environment, rejecting malformed values with the variable's name.

Every helper takes the environment as an argument so that tests can pass a plain dict.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class Env:
    def __init__(self, environ: Mapping[str, str] | None = None):
        self.environ = os.environ if environ is None else environ

    def _raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def is_set(self, name: str) -> bool:
        return self._raw(name) is not None

    def str(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self._raw(name)
        if value is None:
            if required:
                raise ImproperlyConfigured(f"{name} must be set.")
            return default
        return value

    def bool(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(f"{name} must be true or false (1/0, yes/no, on/off), not {value!r}.")

    def int(self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
        if maximum is not None and number > maximum:
            raise ImproperlyConfigured(f"{name} must be at most {maximum}, not {number}.")
        return number

    def list(self, name: str, default: list[str] | None = None, *, required: bool = False) -> list[str]:
        value = self._raw(name)
        if value is None:
            if required:
                raise ImproperlyConfigured(f"{name} must be set (a comma-separated list).")
            return list(default or [])
        items = [item.strip() for item in value.split(",")]
        if any(not item for item in items):
            raise ImproperlyConfigured(f"{name} has an empty item in {value!r}.")
        return items

    def url(self, name: str, schemes: set[str], default: str | None = None) -> str | None:
        value = self._raw(name)
        if value is None:
            return default
        parts = urlsplit(value)
        if parts.scheme not in schemes:
            allowed = ", ".join(sorted(schemes))
            raise ImproperlyConfigured(f"{name} must be a URL starting with one of: {allowed}; got {value!r}.")
        if parts.scheme not in {"sqlite", "sqla+sqlite"} and not parts.hostname:
            raise ImproperlyConfigured(f"{name} must name a host, got {value!r}.")
        try:
            parts.port  # noqa: B018  (raises ValueError on a malformed port)
        except ValueError:
            raise ImproperlyConfigured(f"{name} has a malformed port in {value!r}.") from None
        return value

    def local_url(self) -> str:
        """The address the embedded server listens on, from HOST and PORT as `make run` uses them.
        A wildcard host (0.0.0.0, ::) is reached through 127.0.0.1."""
        host = self.str("HOST", "127.0.0.1")
        if host in {"0.0.0.0", "::", "[::]"}:  # noqa: S104  (read, not bound)
            host = "127.0.0.1"
        elif ":" in host and not host.startswith("["):
            host = f"[{host}]"
        port = self.int("PORT", 8000, minimum=1, maximum=65535)
        return f"http://{host}:{port}"

    def json(self, name: str, default=None):
        value = self._raw(name)
        if value is None:
            return default
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            raise ImproperlyConfigured(f"{name} is not valid JSON: {error.msg}.") from None

    def choice(self, name: str, choices: set[str], default: str) -> str:
        value = self._raw(name)
        if value is None:
            return default
        if value not in choices:
            allowed = ", ".join(sorted(choices))
            raise ImproperlyConfigured(f"{name} must be one of: {allowed}; got {value!r}.")
        return value
