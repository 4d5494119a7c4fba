"""Random clocks, disconnects and actions across several rooms, through `room_tick` and the sweep:
no call raises, every room whose deadline passed advances exactly once, nothing due is left behind,
and one broken room does not stop the others (it is counted and pushed back)."""

import contextlib
from collections import Counter
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groups.services.rsvps import rsvp_set
from sharing import services
from sharing.errors import RoomError
from sharing.models import PRESENCE_TIMEOUT, Participant, Room, RoomEvent
from sharing.room import clock

pytestmark = pytest.mark.django_db

ROOMS = 3
PEOPLE = 5  # Fran facilitates, Cody co-facilitates, three members

room_index = st.integers(min_value=0, max_value=ROOMS - 1)
person = st.integers(min_value=0, max_value=PEOPLE - 1)
step = st.one_of(
    st.tuples(st.just("wait"), st.integers(min_value=1, max_value=90)),
    st.tuples(st.just("speaker leaves"), room_index),
    st.tuples(st.just("leave"), room_index, person),
    st.tuples(st.just("silent"), room_index, person),
    st.tuples(st.just("back"), room_index, person),
    st.tuples(st.just("finish"), room_index),
    st.tuples(st.just("pause"), room_index),
    st.tuples(st.just("resume"), room_index),
    st.tuples(st.just("tick"), room_index),
    st.just(("sweep",)),
)


seen = Counter()


class Broken(RuntimeError):
    """The deliberate failure of one room."""


def test_the_sweep_moves_every_due_room_on_exactly_once_and_survives_a_broken_one(circle, monkeypatch):
    people = [
        circle.facilitator,
        circle.co_facilitator,
        circle.member,
        circle.add_member("jonas@example.com", display_name="Jonas"),
        circle.add_member("aiko@example.com", display_name="Aiko"),
    ]
    broken = {"pk": None}
    real_due_actions = clock.due_actions

    def due_actions(change):
        if change.room.pk == broken["pk"]:
            raise Broken(f"room {change.room.pk} is broken")
        return real_due_actions(change)

    monkeypatch.setattr(clock, "due_actions", due_actions)

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        skips=st.lists(st.integers(min_value=0, max_value=2), min_size=ROOMS, max_size=ROOMS),
        shared=st.lists(st.integers(min_value=0, max_value=PEOPLE - 1), min_size=ROOMS, max_size=ROOMS),
        broken_index=st.one_of(st.none(), room_index),
        steps=st.lists(step, min_size=1, max_size=14),
    )
    def run(skips, shared, broken_index, steps):
        cache.clear()
        Room.objects.exclude(status=Room.Status.ENDED).update(status=Room.Status.ENDED)  # earlier examples'
        now = timezone.now().replace(microsecond=0)
        calls, alive = [], []
        for index in range(ROOMS):
            call = circle.call(starts_in=timedelta(minutes=5), co_facilitator=people[1], title=f"Room {index}")
            for member in people[2:]:
                rsvp_set(call_id=call.pk, user=member, going=True, now=now - timedelta(minutes=10))
            for user in people:
                services.room_enter(call_id=call.pk, user=user, now=now)
            services.room_apply(call_id=call.pk, user=people[0], action="call.start", now=now)
            for _ in range(skips[index]):
                services.room_apply(call_id=call.pk, user=people[0], action="segment.next", now=now)
            for _ in range(shared[index]):  # some have shared already: the round's end is nearer
                with contextlib.suppress(RoomError):
                    services.room_apply(call_id=call.pk, user=people[0], action="turn.finish", now=now)
            calls.append(call.pk)
            alive.append({user.pk for user in people})
        broken["pk"] = calls[broken_index] if broken_index is not None else None
        retry_at = None  # when the broken room may be tried again

        def heartbeats():
            for call_id, here in zip(calls, alive, strict=True):
                Participant.objects.filter(room_id=call_id, user_id__in=here, connected=True).update(last_seen_at=now)

        for action, *args in steps:
            heartbeats()
            if action == "wait":
                now += timedelta(seconds=args[0])
                heartbeats()
            elif action == "leave":
                alive[args[0]].discard(people[args[1]].pk)
                services.room_leave(call_id=calls[args[0]], user=people[args[1]], now=now)
            elif action == "speaker leaves":
                speaker = Room.objects.filter(pk=calls[args[0]]).values_list("speaker__user", flat=True).first()
                if speaker is not None:
                    alive[args[0]].discard(speaker)
                    services.room_leave(
                        call_id=calls[args[0]], user=next(p for p in people if p.pk == speaker), now=now
                    )
            elif action == "silent":
                alive[args[0]].discard(people[args[1]].pk)
            elif action == "back":
                alive[args[0]].add(people[args[1]].pk)
                services.room_enter(call_id=calls[args[0]], user=people[args[1]], now=now)
            elif action in {"finish", "pause", "resume"}:
                room = Room.objects.select_related("speaker__user").get(pk=calls[args[0]])
                actor = room.speaker.user if action == "finish" and room.speaker else people[0]
                with contextlib.suppress(RoomError):  # refused (nobody speaking, already paused)
                    name = "turn.finish" if action == "finish" else action
                    services.room_apply(call_id=room.pk, user=actor, action=name, now=now)
            elif action == "tick":
                if calls[args[0]] == broken["pk"]:
                    with pytest.raises(Broken):
                        services.room_tick(call_id=calls[args[0]], now=now)
                else:
                    services.room_tick(call_id=calls[args[0]], now=now)
            else:
                retry_at = sweep_and_check(calls, broken["pk"], now, retry_at)
        now += timedelta(seconds=90)  # past every turn's grace: each live room has a deadline due
        heartbeats()
        sweep_and_check(calls, broken["pk"], now, retry_at)

    run()
    # The examples did exercise what the test is about.
    assert seen["deadline advanced"] > 0
    assert seen["broken room counted"] > 0
    assert seen["others swept past a broken room"] > 0


def sweep_and_check(calls, broken, now, retry_at):
    """Sweep once at `now`, and check what it did to each room. Returns the broken room's retry time."""
    before = {}
    for room in Room.objects.filter(pk__in=calls):
        participants = list(Participant.objects.filter(room=room))
        deadline = room.next_deadline()
        stale = any(p.connected and p.last_seen_at < now - PRESENCE_TIMEOUT for p in participants)
        before[room.pk] = {
            "version": room.version,
            "deadline_passed": deadline is not None and deadline <= now,
            "woken": stale or (room.wake_at is not None and room.wake_at <= now),
        }
    failures = RoomEvent.objects.filter(kind="sweep.failed").count()

    services.sweep(now=now)  # never raises

    for room in Room.objects.filter(pk__in=calls):
        was = before[room.pk]
        if room.pk == broken:
            assert room.version == was["version"]
            if was["woken"] and (retry_at is None or now >= retry_at):
                assert RoomEvent.objects.filter(kind="sweep.failed").count() == failures + 1
                assert room.wake_at == now + clock.SWEEP_RETRY
                retry_at = room.wake_at
                seen["broken room counted"] += 1
            continue
        advanced = room.version - was["version"]
        assert advanced in {0, 1}, "one sweep saves a room at most once"
        if was["deadline_passed"]:
            assert advanced == 1, "a room whose deadline passed moves on"
            seen["deadline advanced"] += 1
            if broken is not None:
                seen["others swept past a broken room"] += 1
        if not was["woken"]:
            assert advanced == 0, "a room with nothing due is left alone"
        # Nothing due is left behind: a second look at the same moment changes nothing.
        assert room.wake_at is None or room.wake_at > now
        stale = Participant.objects.filter(room=room, connected=True, last_seen_at__lt=now - PRESENCE_TIMEOUT)
        assert not stale.exists()
        assert services.room_tick(call_id=room.pk, now=now) is None
    if broken is None:
        assert RoomEvent.objects.filter(kind="sweep.failed").count() == failures
    return retry_at
