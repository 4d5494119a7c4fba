"""Check-in words: picked by each person for this call, shown beside their name, gone at the end."""

import pytest

from sharing.models import Participant, RoomEvent
from tests.rooms import at

pytestmark = pytest.mark.django_db


def checkin_of(snapshot, pid):
    return next(p["checkin"] for p in snapshot["participants"] if p["id"] == pid)


def test_a_word_or_an_emoji_shows_beside_the_name_for_everyone(started, t0):
    room = started
    snapshot = room.act(room.maya, "checkin.set", now=at(t0, 1), word="  tired   but here ")
    assert checkin_of(snapshot, room.pid(room.maya)) == "tired but here"
    snapshot = room.act(room.jonas, "checkin.set", now=at(t0, 2), word="🌊")
    assert checkin_of(snapshot, room.pid(room.jonas)) == "🌊"
    assert checkin_of(snapshot, room.pid(room.maya)) == "tired but here"
    assert checkin_of(snapshot, room.pid(room.aiko)) == ""


def test_the_same_word_again_changes_nothing_and_empty_clears(started, t0):
    room = started
    room.act(room.maya, "checkin.set", now=at(t0, 1), word="calm")
    assert room.act(room.maya, "checkin.set", now=at(t0, 2), word="calm") is None
    snapshot = room.act(room.maya, "checkin.set", now=at(t0, 3), word="")
    assert checkin_of(snapshot, room.pid(room.maya)) == ""


@pytest.mark.parametrize(
    "word",
    ["a" * 25, "<script>", "🔥", "calm 🌊", "https://example.com", "x\u200by"],
)
def test_anything_but_a_short_word_or_the_offered_emoji_is_refused(started, t0, word):
    room = started
    assert room.refused(room.maya, "checkin.set", now=at(t0, 1), word=word) == "invalid"


def test_words_in_any_script_are_welcome(started, t0):
    room = started
    for second, word in enumerate(["müde", "疲れた", "O'Neill", "so-so"], start=1):
        snapshot = room.act(room.maya, "checkin.set", now=at(t0, second), word=word)
        assert checkin_of(snapshot, room.pid(room.maya)) == word


def test_a_check_in_works_from_the_lobby_too(room, t0):
    room.enter(room.maya, now=t0)
    snapshot = room.act(room.maya, "checkin.set", now=at(t0, 1), word="hopeful")
    assert checkin_of(snapshot, room.pid(room.maya)) == "hopeful"


def test_nothing_of_a_check_in_is_stored_after_the_call(started, t0):
    room = started
    room.act(room.maya, "checkin.set", now=at(t0, 1), word="heavy")
    room.act(room.jonas, "checkin.set", now=at(t0, 2), word="🌿")
    room.act(room.facilitator, "call.end", now=at(t0, 3))
    assert set(Participant.objects.filter(room_id=room.call.pk).values_list("checkin", flat=True)) == {""}
    # The event log records that someone checked in, never the word.
    assert not any("heavy" in str(event.detail) for event in RoomEvent.objects.filter(room_id=room.call.pk))
    assert room.refused(room.maya, "checkin.set", now=at(t0, 4), word="late") == "invalid_state"
