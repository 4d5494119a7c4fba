"""The room benchmark's database: <configured name>_bench_room on PostgreSQL, emptied, migrated and seeded
with R calls about to start, each with a facilitator and 7 members who RSVP'd going, and a Django
session per person so that each socket logs in with a `sessionid` cookie.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from benchmarks.databases import scratch_database_url

PEOPLE_PER_ROOM = 8  # a facilitator and 7 members
ROOMS_PER_COMMUNITY = 50
EMAIL_DOMAIN = "bench-room.invalid"
SLUG_PREFIX = "bench-room-"
FORMAT_NAME = "Bench room: 11 rounds and open sharing"
TURN_SECONDS = 900  # the longest turn a format allows: no turn ends by itself during a run
GRACE_SECONDS = 15
# Eleven rounds of 8 turns, then open sharing for an hour where the facilitator gives the floor: a
# room never runs out of turns to change, however long the run (formats have at most 12 segments).
SEGMENTS = [{"kind": "round", "title": f"Round {n}", "turn_seconds": TURN_SECONDS} for n in range(1, 12)] + [
    {"kind": "open", "title": "Open sharing", "seconds": 3600, "turn_seconds": TURN_SECONDS}
]


@dataclass
class SeededRoom:
    call_id: int
    sessions: list[str]  # session keys; the facilitator's first


def configure(say, suffix: str = "_bench_room") -> str:
    """Point this process at the benchmark database (<name><suffix>: bench-soak has its own), start
    Django, and return the database URL."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "attunement_site.settings"
    os.environ["DATABASE_URL"] = scratch_database_url(os.environ["DATABASE_URL"], suffix, say)

    import django

    django.setup()
    return os.environ["DATABASE_URL"]


def prepare(rooms: int, say) -> list[SeededRoom]:
    """Migrate, empty (the database is the benchmark's own) and seed; return the calls and sessions."""
    import time

    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    say(f"migrated {connection.settings_dict['NAME']} in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    call_command("flush", interactive=False, verbosity=0)  # rooms from an earlier run have moved on
    seeded = seed(rooms)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    people = rooms * PEOPLE_PER_ROOM
    say(f"seeded {rooms} calls, {people} people and their sessions in {time.perf_counter() - started:.1f}s")
    return seeded


def seed(rooms: int) -> list[SeededRoom]:
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.db import transaction

    from accounts.models import User
    from groups.formats import parse_segments
    from groups.models import RSVP, Agreement, Call, CallFormat, Community, Membership
    from groups.models.communities import DEFAULT_AGREEMENTS

    parse_segments(SEGMENTS)  # fail here, not in the room, if the format is not valid
    now = datetime.now(UTC)
    starts_at = (now + timedelta(minutes=2)).replace(second=0, microsecond=0)  # the room opens 10 min before
    password = make_password("bench-room-password")  # one hash for everyone: hashing 4,000 would take minutes
    backend = settings.AUTHENTICATION_BACKENDS[0]

    with transaction.atomic():
        call_format = CallFormat.objects.create(name=FORMAT_NAME, segments=SEGMENTS, grace_seconds=GRACE_SECONDS)
        communities = Community.objects.bulk_create(
            Community(name=f"Bench room circle {n}", slug=f"{SLUG_PREFIX}{n}", join_policy=Community.JoinPolicy.INVITE)
            for n in range((rooms + ROOMS_PER_COMMUNITY - 1) // ROOMS_PER_COMMUNITY)
        )
        Agreement.objects.bulk_create(
            Agreement(community=community, version=1, text=str(DEFAULT_AGREEMENTS)) for community in communities
        )
        users = User.objects.bulk_create(
            (
                User(
                    email=f"room{room}-{'host' if seat == 0 else f'member{seat}'}@{EMAIL_DOMAIN}",
                    display_name=f"Host {room}" if seat == 0 else f"Member {room}.{seat}",
                    password=password,
                )
                for room in range(rooms)
                for seat in range(PEOPLE_PER_ROOM)
            ),
            batch_size=1000,
        )
        people = [users[room * PEOPLE_PER_ROOM : (room + 1) * PEOPLE_PER_ROOM] for room in range(rooms)]
        Membership.objects.bulk_create(
            (
                Membership(
                    community=communities[room // ROOMS_PER_COMMUNITY],
                    user=user,
                    # Facilitators, not owners: an owner facilitates only with a second factor.
                    role=Membership.Role.FACILITATOR if seat == 0 else Membership.Role.MEMBER,
                    state=Membership.State.ACTIVE,
                    accepted_agreements_version=1,
                )
                for room in range(rooms)
                for seat, user in enumerate(people[room])
            ),
            batch_size=1000,
        )
        calls = Call.objects.bulk_create(
            (
                Call(
                    community=communities[room // ROOMS_PER_COMMUNITY],
                    title=f"Bench room {room}",
                    format=call_format,
                    facilitator=people[room][0],
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(hours=3),
                    time_zone="UTC",
                    capacity=PEOPLE_PER_ROOM,
                )
                for room in range(rooms)
            ),
            batch_size=1000,
        )
        RSVP.objects.bulk_create(
            (
                RSVP(
                    call=call,
                    user=user,
                    status=RSVP.Status.GOING,
                    responded_at=now - timedelta(days=1) + timedelta(minutes=seat),
                )
                for call, room_people in zip(calls, people, strict=True)
                for seat, user in enumerate(room_people)
                if seat > 0
            ),
            batch_size=1000,
        )
        # What django.contrib.auth.login() stores, written in bulk.
        store = SessionStore()
        expires = now + timedelta(days=1)
        sessions = []
        for user in users:
            data = {"_auth_user_id": str(user.pk), "_auth_user_backend": backend}
            data["_auth_user_hash"] = user.get_session_auth_hash()
            sessions.append(
                Session(session_key=secrets.token_hex(16), session_data=store.encode(data), expire_date=expires)
            )
        Session.objects.bulk_create(sessions, batch_size=1000)

    return [
        SeededRoom(
            call_id=call.pk,
            sessions=[s.session_key for s in sessions[room * PEOPLE_PER_ROOM : (room + 1) * PEOPLE_PER_ROOM]],
        )
        for room, call in enumerate(calls)
    ]


def set_deadlines(call_ids: list[int], deadline: datetime) -> int:
    """Make every turn in these rooms run out at the same moment (the burst). Returns the rooms changed."""
    from django.db import close_old_connections

    from sharing.models import Room

    try:
        return Room.objects.filter(pk__in=call_ids, status=Room.Status.LIVE, phase=Room.Phase.TURN).update(
            turn_ends_at=deadline - timedelta(seconds=GRACE_SECONDS), grace_ends_at=deadline, wake_at=deadline
        )
    finally:
        close_old_connections()
