"""Reads about rooms for other apps, so they need not know the room's tables: who was admitted to
a call and in what role, who shared, how long each segment took, and the counts /metrics reports.
Other apps import this module and sharing.services, never sharing.models or sharing.room (an
import-linter contract in pyproject.toml says so)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from groups.models import RSVP
from sharing.models import Participant, Room, RoomEvent

MEMBER_ROLE = Participant.Role.MEMBER  # the role of someone who came to a call without holding it


def admitted_call_ids(*, user, call_ids: Iterable[int]) -> QuerySet:
    """Of these calls, the ids of the ones whose room admitted this person (lazy: usable as a subquery)."""
    return Participant.objects.filter(room_id__in=list(call_ids), user=user, admitted_at__isnull=False).values(
        "room_id"
    )


def admitted_role(*, call_id: int, user) -> str | None:
    """The person's role in the call's room if they were admitted to it, else None."""
    return (
        Participant.objects.filter(room_id=call_id, user=user, admitted_at__isnull=False)
        .values_list("role", flat=True)
        .first()
    )


def open_call_ids(*, user, community_id: int | None = None) -> list[int]:
    """The calls whose room is still open and where this person holds a place."""
    seats = Participant.objects.filter(user=user).exclude(room__status=Room.Status.ENDED)
    if community_id is not None:
        seats = seats.filter(room__call__community_id=community_id)
    return list(seats.values_list("room_id", flat=True))


def community_has_ended_rooms(*, community_id: int) -> bool:
    return Room.objects.filter(call__community_id=community_id, status=Room.Status.ENDED).exists()


def _in_period(community_id: int, since: datetime, until: datetime) -> dict:
    return {
        "room__call__community_id": community_id,
        "room__call__starts_at__gte": since,
        "room__call__starts_at__lt": until,
    }


def member_attendance(*, community_id: int, since: datetime, until: datetime) -> dict[int, tuple[int, int]]:
    """For each call of the community that began in the period: (members admitted, of whom RSVP'd
    going). Facilitators hold the call; they are not counted as coming."""
    rsvped = RSVP.objects.filter(call_id=OuterRef("room_id"), user_id=OuterRef("user_id"), status=RSVP.Status.GOING)
    rows = (
        Participant.objects.filter(
            admitted_at__isnull=False, role=Participant.Role.MEMBER, **_in_period(community_id, since, until)
        )
        .alias(rsvped=Exists(rsvped))
        .values("room_id")
        .annotate(attended=Count("pk"), showed=Count("pk", filter=Q(rsvped=True)))
    )
    return {row["room_id"]: (row["attended"], row["showed"]) for row in rows}


def agendas(*, call_ids: Iterable[int]) -> dict[int, list[dict]]:
    """Each call's agenda, as its room copied it from the format when the call started."""
    return dict(Room.objects.filter(pk__in=list(call_ids)).values_list("pk", "segments"))


def segment_timings(*, community_id: int, since: datetime, until: datetime) -> list[tuple[int, int | None, dict]]:
    """(call id, milliseconds taken, detail with `segment`, `segment_kind` and `planned_ms`) for every
    segment that ended in the community's calls that began in the period."""
    return list(
        RoomEvent.objects.filter(kind="segment.ended", **_in_period(community_id, since, until)).values_list(
            "room_id", "duration_ms", "detail"
        )
    )


def shared_user_ids(*, call_ids: Iterable[int]) -> set[int]:
    """Who was admitted to any of these calls and shared in it."""
    return set(
        Participant.objects.filter(room_id__in=list(call_ids), admitted_at__isnull=False, has_shared=True).values_list(
            "user_id", flat=True
        )
    )


@dataclass(frozen=True)
class RoomCounts:
    open_sockets: int  # people connected to a room that has not ended
    live_rooms: int  # rooms whose call is in progress or paused
    turns_ended: int  # since the beginning
    sweep_failures: int  # times the clock failed to tick a room


def room_counts() -> RoomCounts:
    return RoomCounts(
        open_sockets=Participant.objects.filter(connected=True).exclude(room__status=Room.Status.ENDED).count(),
        live_rooms=Room.objects.filter(status__in=[Room.Status.LIVE, Room.Status.PAUSED]).count(),
        turns_ended=RoomEvent.objects.filter(kind="turn.ended").count(),
        sweep_failures=RoomEvent.objects.filter(kind="sweep.failed").count(),
    )
