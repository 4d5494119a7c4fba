"""The room clock: time and absences move every room on, through `room_tick` and the sweep, and
one room that fails does not hold up the others."""

from datetime import timedelta

import pytest
from django.core.cache import cache

from attunement_site import metrics
from sharing import services
from sharing.models import Participant, Room, RoomEvent
from sharing.room import clock
from tests.rooms import at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_backoff_left_over():
    cache.clear()
    yield
    cache.clear()


def _aiko_speaking(room, t0):
    """Fran, Cody, Maya and Jonas have shared; Aiko, the last of the round, speaks from t0 + 5 s."""
    for step, person in enumerate([room.facilitator, room.co_facilitator, room.maya, room.jonas]):
        room.act(person, "turn.finish", now=at(t0, 2 + step))
    assert room.speaker(at(t0, 5)) == "Aiko"
    return room.snapshot(at(t0, 5))["turn"]


def test_the_last_speaker_dropping_long_before_the_grace_ends_does_not_freeze_the_room(started, t0):
    """Finding 3: the deadline and the speaker's absence fall due in one tick. The deadline ends the
    round first; skipping the speaker is then no longer possible, and must be left out, not raised."""
    room = started
    turn = _aiko_speaking(room, t0)
    assert turn["grace_ends_at"].startswith(at(t0, 5 + 60 + 15).isoformat()[:19])
    room.leave(room.aiko, now=at(t0, 6))  # 74 s before her grace ends
    Room.objects.filter(pk=room.call.pk).update(wake_at=None)  # as before: nobody ticked in between

    snapshot = room.tick(now=at(t0, 80))

    assert snapshot is not None
    assert (snapshot["phase"], snapshot["segment_complete"]) == ("between", True)
    assert room.tick(now=at(t0, 80)) is None  # and once only
    ended = RoomEvent.objects.get(room_id=room.call.pk, kind="turn.ended", subject__user=room.aiko)
    assert ended.detail["outcome"] == "timeout"


def test_the_sweep_skips_an_away_speaker_fifteen_seconds_after_they_left(started, t0):
    room = started
    _aiko_speaking(room, t0)
    room.leave(room.aiko, now=at(t0, 6))
    assert room.snapshot(at(t0, 6))["wake_at"].startswith(at(t0, 21).isoformat()[:19])
    room.heartbeats(at(t0, 20))
    assert services.sweep(now=at(t0, 20)) == 0
    room.heartbeats(at(t0, 21))
    assert services.sweep(now=at(t0, 21)) == 1
    snap = room.snapshot(at(t0, 21))
    assert (snap["phase"], snap["segment_complete"]) == ("between", True)
    ended = RoomEvent.objects.get(room_id=room.call.pk, kind="turn.ended", subject__user=room.aiko)
    assert ended.detail["outcome"] == "away"


@pytest.mark.parametrize("paused", [False, True], ids=["during a turn", "while paused"])
def test_the_sweep_hands_over_to_the_co_facilitator_thirty_seconds_after_the_facilitator_left(started, t0, paused):
    room = started
    room.act(room.facilitator, "turn.finish", now=at(t0, 2))  # Cody speaks
    if paused:
        room.act(room.facilitator, "pause", now=at(t0, 2))
    room.leave(room.facilitator, now=at(t0, 3))
    snap = room.snapshot(at(t0, 3))
    assert snap["wake_at"].startswith(at(t0, 33).isoformat()[:19])
    room.heartbeats(at(t0, 32))
    services.sweep(now=at(t0, 32))
    assert room.snapshot(at(t0, 32))["acting_facilitator"] == room.pid(room.facilitator)
    room.heartbeats(at(t0, 33))
    assert services.sweep(now=at(t0, 33)) == 1
    snap = room.snapshot(at(t0, 33))
    assert snap["acting_facilitator"] == room.pid(room.co_facilitator)
    assert snap["status"] == ("paused" if paused else "live")
    if paused:
        assert snap["wake_at"] is None  # a paused room with its co-facilitator acting waits for nobody
    assert services.sweep(now=at(t0, 34)) == 0


def test_a_room_woken_for_nothing_is_not_woken_again_every_second(started, t0):
    room = started
    Room.objects.filter(pk=room.call.pk).update(wake_at=at(t0, 10))  # computed from rows changed since
    version = room.snapshot(at(t0, 10))["version"]
    room.heartbeats(at(t0, 10))
    assert services.sweep(now=at(t0, 10)) == 0
    woken = Room.objects.get(pk=room.call.pk).wake_at
    assert woken == at(t0, 1 + 60 + 15)  # the speaker's grace, the room's real next deadline
    assert room.snapshot(at(t0, 10))["version"] == version


def test_a_room_that_fails_is_logged_counted_and_pushed_back_and_the_others_are_swept(
    started, t0, circle, monkeypatch, caplog
):
    first = started
    other = circle.call(starts_in=timedelta(minutes=5), co_facilitator=circle.co_facilitator, title="Other")
    for person in (circle.facilitator, circle.co_facilitator):
        services.room_enter(call_id=other.pk, user=person, now=t0)
    services.room_apply(call_id=other.pk, user=circle.facilitator, action="call.start", now=t0)
    # Both rooms are due: the first at its speaker's grace, the other at the end of its grounding.
    broken = first.call.pk
    real = clock.due_actions

    def due_actions(change):
        if change.room.pk == broken:
            raise RuntimeError("a bug in one room")
        return real(change)

    monkeypatch.setattr(clock, "due_actions", due_actions)
    moment = at(t0, 90)
    Room.objects.update(wake_at=moment)
    Participant.objects.update(last_seen_at=moment)

    assert services.sweep(now=moment) == 1

    assert Room.objects.get(pk=other.pk).segment_complete is True  # the room after it moved on
    assert Room.objects.get(pk=broken).wake_at == moment + clock.SWEEP_RETRY
    assert RoomEvent.objects.filter(room_id=broken, kind="sweep.failed").count() == 1
    reported = {name: value for name, _kind, _help, value in metrics.collect(now=moment)}
    assert reported["attunement_sweep_failures_total"] == 1
    failure = next(record for record in caplog.records if record.getMessage() == "sweep failed for a room")
    assert failure.call == broken
    assert failure.exc_info is not None
    # Still broken a second later: not tried again before its pushed-back wake time.
    assert services.sweep(now=moment + timedelta(seconds=1)) == 0
    assert RoomEvent.objects.filter(room_id=broken, kind="sweep.failed").count() == 1
