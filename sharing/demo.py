"""The room's part of the demo and of the histories tests build: fresh rooms for the coming calls,
and the record of a call that took place. Other apps write room rows only through this module
(seeding) and sharing.services (everything live)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from sharing.models import Participant, Room, RoomEvent


def fresh_rooms(*, community, now=None) -> None:
    Room.objects.filter(call__community=community, call__ends_at__gt=now or timezone.now()).delete()


def past_room(
    *,
    call,
    facilitator,
    started_at: datetime,
    ended_at: datetime,
    agenda: list[dict],
    members: list[tuple[object, bool]],
    segments: list[tuple[int, int]],
) -> None:
    """The ended room of a call that took place, as if it had: the facilitator (who shared), each of
    `members` as (user, whether they shared), and each segment as (planned seconds, actual seconds)."""
    room = Room.objects.create(
        call=call, status=Room.Status.ENDED, started_at=started_at, ended_at=ended_at, segments=agenda
    )
    Participant.objects.create(
        room=room,
        user=facilitator,
        role=Participant.Role.FACILITATOR,
        state=Participant.State.ADMITTED,
        admitted_at=started_at,
        has_shared=True,
    )
    for user, shared in members:
        Participant.objects.create(
            room=room, user=user, state=Participant.State.ADMITTED, admitted_at=started_at, has_shared=shared
        )
    for index, (planned, actual) in enumerate(segments):
        RoomEvent.objects.create(
            room=room,
            version=index + 2,
            kind="segment.ended",
            at=started_at + timedelta(minutes=10 * (index + 1)),
            duration_ms=actual * 1000,
            detail={"segment": index, "segment_kind": "round", "planned_ms": planned * 1000},
        )
