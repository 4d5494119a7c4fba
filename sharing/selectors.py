"""Reads about rooms for other apps, so they need not know the room's tables."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from sharing.models import Participant


def admitted_call_ids(*, user, call_ids: Iterable[int]) -> QuerySet:
    """Of these calls, the ids of the ones whose room admitted this person (lazy: usable as a subquery)."""
    return Participant.objects.filter(room_id__in=list(call_ids), user=user, admitted_at__isnull=False).values(
        "room_id"
    )
