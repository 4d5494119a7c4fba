"""One rule decides who is next (sharing.room.agenda.next_speaker): the snapshot's `next` is always
the person whose turn starts next, through passes, absences, second offers and open sharing."""

import pytest

from tests.rooms import at

pytestmark = pytest.mark.django_db


def _walk_the_round(room, now):
    """Finish each turn in turn; the speaker who follows is always the one `next` announced."""
    speakers = []
    for _ in range(12):
        snap = room.snapshot(now)
        if snap["phase"] != "turn":
            assert snap["next"] is None
            break
        announced = snap["next"]
        speakers.append(snap["turn"]["speaker"])
        now = at(now, 1)
        room.act(room.circle.facilitator, "turn.finish", now=now)
        after = room.snapshot(now)
        if announced is None:
            assert after["turn"] is None or after["segment_index"] != snap["segment_index"]
        else:
            assert after["turn"]["speaker"] == announced
    return speakers, now


def test_next_is_who_speaks_next_through_a_pass_an_absence_and_a_second_offer(started, t0):
    room = started
    now = at(t0, 2)
    room.act(room.jonas, "turn.pass", now=now)  # offered again at the end of the round
    room.go_silent(room.maya)
    now = at(t0, 20)  # Maya's heartbeats stopped: she is away, and loses her turn
    room.heartbeats(now)
    speakers, _ = _walk_the_round(room, now)
    ids = {name: room.pid(getattr(room, name)) for name in ("facilitator", "co_facilitator", "jonas", "aiko")}
    assert speakers == [ids["facilitator"], ids["co_facilitator"], ids["aiko"], ids["jonas"]]


def test_next_in_open_sharing_is_the_first_raised_hand_of_someone_here(started, t0):
    room = started
    room.call.format.segments = [{"kind": "open", "title": "Open", "seconds": 600, "turn_seconds": 60}]
    room.call.format.save()
    room.act(room.facilitator, "call.end", now=at(t0, 2))
    room.call.room.delete()
    room.enter(*room.everyone, now=at(t0, 3))
    room.act(room.facilitator, "call.start", now=at(t0, 3))
    room.act(room.jonas, "hand.raise", now=at(t0, 4))  # Jonas speaks at once
    room.act(room.maya, "hand.raise", now=at(t0, 5))
    room.act(room.aiko, "hand.raise", now=at(t0, 6))
    room.go_silent(room.maya)
    now = at(t0, 25)
    room.heartbeats(now)
    assert room.snapshot(now)["next"] == room.pid(room.aiko), "Maya is away: the next hand here is Aiko's"
    room.act(room.jonas, "turn.finish", now=now)
    assert room.speaker(now) == "Aiko"
