"""The two-factor rule: who must log in with a second factor, and whether they do.

Site staff always must. Apps add the roles that must too (a community's owners) with
`require_for`, so this module knows no app. Every page (`accounts.middleware`) and the room socket
ask `missing(user)`; the answer is cached briefly and forgotten whenever a role or an authenticator
changes.
"""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.core.cache import cache

CACHE_SECONDS = 300

_roles_that_require: list[Callable[[int], bool]] = []


def require_for(holds_role: Callable[[int], bool]) -> Callable[[int], bool]:
    """Register a predicate on a user id: people for whom it is true must use a second factor."""
    if holds_role not in _roles_that_require:
        _roles_that_require.append(holds_role)
    return holds_role


def _key(user_id: int) -> str:
    return f"needs-two-factor:{user_id}"


def required(user) -> bool:
    """Whether this person's role asks for a second factor."""
    return bool(user.is_staff) or any(holds_role(user.pk) for holds_role in _roles_that_require)


def has_second_factor(user) -> bool:
    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


def missing(user) -> bool:
    """True for someone whose role needs a second factor they have not set up."""
    if not getattr(user, "is_authenticated", False):
        return False
    known = cache.get(_key(user.pk))
    if known is not None:
        return known
    answer = required(user) and not has_second_factor(user)
    cache.set(_key(user.pk), answer, CACHE_SECONDS)
    return answer


def forget(user_id: int) -> None:
    """Decide again on the next question: someone's role or authenticators changed."""
    cache.delete(_key(user_id))
