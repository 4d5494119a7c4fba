"""The two-factor rule: who must log in with a second factor, and whether they do.

Site staff always must. Apps add the roles that must too (a community's owners) with
`require_for`, so this module knows no app. A role that says when it began gives its holder GRACE
to set one up: until then every page works and shows a banner (`setup_due`), afterwards pages lead
to the setup (`overdue`). The room asks `missing(user)`: facilitator powers need the second factor
from the start. Answers are cached briefly and forgotten whenever a role or an authenticator changes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from allauth.mfa.models import Authenticator
from django.core.cache import cache
from django.utils import timezone

CACHE_SECONDS = 300
GRACE = timedelta(days=7)

_roles_that_require: list[Callable[[int], bool]] = []
_role_beginnings: list[Callable[[int], datetime | None]] = []


def require_for(
    holds_role: Callable[[int], bool], *, since: Callable[[int], datetime | None] | None = None
) -> Callable[[int], bool]:
    """Register a predicate on a user id: people for whom it is true must use a second factor.
    `since` tells when someone took the role: they have GRACE from then to set it up."""
    if holds_role not in _roles_that_require:
        _roles_that_require.append(holds_role)
    if since is not None and since not in _role_beginnings:
        _role_beginnings.append(since)
    return holds_role


def _key(user_id: int) -> str:
    return f"needs-two-factor:{user_id}"


def _due_key(user_id: int) -> str:
    return f"two-factor-due:{user_id}"


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


def _due_at(user) -> datetime | None:
    """When the grace to set up a second factor ends; None when there is none (staff, for example)."""
    if user.is_staff:
        return None
    known = cache.get(_due_key(user.pk))
    if known is not None:
        return known or None
    beginnings = [begun for since in _role_beginnings if (begun := since(user.pk)) is not None]
    due = min(beginnings) + GRACE if beginnings else None
    cache.set(_due_key(user.pk), due or "", CACHE_SECONDS)
    return due


def setup_due(user, now=None) -> datetime | None:
    """For someone still in their grace: when the second factor becomes required. Else None."""
    if not missing(user):
        return None
    due = _due_at(user)
    if due is None or (now or timezone.now()) >= due:
        return None
    return due


def overdue(user, now=None) -> bool:
    """True for someone who must have a second factor by now and has none: pages lead to the setup."""
    return missing(user) and setup_due(user, now) is None


def forget(user_id: int) -> None:
    """Decide again on the next question: someone's role or authenticators changed."""
    cache.delete_many([_key(user_id), _due_key(user_id)])
