"""Reads other pages need from the journey."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from groups.models import Call
from sharing.selectors import admitted_call_ids


def checkouts_open(*, user, calls: Iterable[Call], now=None) -> set[int]:
    """Of these calls, the ones this person was in, has not checked out of yet, and may still check out of.
    One query, however many calls."""
    if not user.is_authenticated:
        return set()
    now = now or timezone.now()
    candidates = [call.pk for call in calls if not call.is_cancelled and now < call.checkout_closes_at]
    if not candidates:
        return set()
    admitted = admitted_call_ids(user=user, call_ids=candidates)
    return set(Call.objects.filter(pk__in=admitted).exclude(checkouts__user=user).values_list("pk", flat=True))
