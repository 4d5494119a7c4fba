"""The room service, transition by transition, with an explicit clock."""

import json
from datetime import timedelta

import pytest

from groups.models import Membership
from sharing import protocol
from sharing.errors import RoomError
from sharing.models import Participant, Room, RoomEvent
from tests.rooms import at


def names(room, ids, now=None):
    snap = room.snapshot(now)
    by_id = {p["id"]: p["name"] for p in snap["participants"]}
    return [by_id[pid] for pid in ids]


# Entering


def test_rsvpd_members_and_facilitators_come_in(room, t0):
    room.enter(*room.everyone, now=t0)
    snap = room.snapshot(t0)
    assert {p["name"]: (p["role"], p["state"]) for p in snap["participants"]} == {
        "Fran": ("facilitator", "admitted"),
        "Cody": ("co_facilitator", "admitted"),
        "Maya": ("member", "admitted"),
        "Jonas": ("member", "admitted"),
        "Aiko": ("member", "admitted"),
    }
    assert snap["status"] == "lobby"


@pytest.mark.parametrize("persona", ["outsider", "banned", "pending"])
def test_people_outside_the_community_cannot_enter(room, t0, persona):
    with pytest.raises(RoomError) as error:
        room.enter(getattr(room.circle, persona), now=t0)
    assert error.value.code == "forbidden"


def test_members_who_did_not_rsvp_wait_for_drop_ins(room, t0):
    walk_in = room.circle.add_member("walkin@example.com", display_name="Wren")
    with pytest.raises(RoomError) as error:
        room.enter(walk_in, now=t0)
    assert error.value.code == "not_rsvped"
    room.enter(room.facilitator, now=t0)
    room.act(room.facilitator, "settings", now=t0, allow_drop_ins=True)
    room.enter(walk_in, now=t0)
    wren = next(p for p in room.snapshot(t0)["participants"] if p["name"] == "Wren")
    assert wren["state"] == "lobby"
    room.act(room.facilitator, "participant.admit", now=t0, participant=wren["id"])
    assert next(p for p in room.snapshot(t0)["participants"] if p["name"] == "Wren")["state"] == "admitted"


def test_the_room_opens_ten_minutes_before_the_start(room):
    too_early = room.call.starts_at - timedelta(minutes=10, seconds=1)
    with pytest.raises(RoomError) as error:
        room.enter(room.maya, now=too_early)
    assert error.value.code == "not_open"
    room.enter(room.maya, now=room.call.starts_at - timedelta(minutes=10))


def test_without_auto_admit_people_wait_and_late_arrivals_join_the_end_of_the_round(room, t0):
    room.enter(room.facilitator, room.maya, now=t0)
    room.act(room.facilitator, "settings", now=t0, auto_admit=False)
    room.enter(room.jonas, now=t0)
    jonas = room.pid(room.jonas)
    assert next(p for p in room.snapshot(t0)["participants"] if p["id"] == jonas)["state"] == "lobby"
    room.act(room.facilitator, "call.start", now=t0)
    room.act(room.facilitator, "segment.next", now=at(t0, 1))
    assert names(room, room.snapshot(t0)["order"]) == ["Fran", "Maya"]
    room.act(room.facilitator, "participant.admit", now=at(t0, 2), participant=jonas)
    assert names(room, room.snapshot(at(t0, 2))["order"]) == ["Fran", "Maya", "Jonas"]


def test_a_locked_room_refuses_new_arrivals_but_not_returning_ones(room, t0):
    room.enter(room.facilitator, room.maya, now=t0)
    room.act(room.facilitator, "settings", now=t0, locked=True)
    with pytest.raises(RoomError) as error:
        room.enter(room.jonas, now=t0)
    assert error.value.code == "locked"
    room.leave(room.maya, now=t0)
    room.enter(room.maya, now=at(t0, 5))


def test_removed_people_cannot_come_back(started, t0):
    room = started
    room.act(room.facilitator, "participant.remove", now=at(t0, 2), participant=room.pid(room.jonas))
    assert "Jonas" not in names(room, room.snapshot(at(t0, 2))["order"])
    with pytest.raises(RoomError) as error:
        room.enter(room.jonas, now=at(t0, 3))
    assert error.value.code == "removed"


# The agenda


def test_the_call_walks_through_its_segments(room, t0):
    room.enter(*room.everyone, now=t0)
    room.act(room.facilitator, "call.start", now=t0)
    snap = room.snapshot(t0)
    assert (snap["status"], snap["phase"], snap["segment_index"]) == ("live", "grounding", 0)
    assert room.tick(now=at(t0, 59)) is None
    room.tick(now=at(t0, 60))
    snap = room.snapshot(at(t0, 60))
    assert (snap["phase"], snap["segment_complete"]) == ("between", True)
    room.tick(now=at(t0, 68))
    snap = room.snapshot(at(t0, 68))
    assert (snap["phase"], snap["segment_index"]) == ("turn", 1)
    # RSVP order, with the facilitators first.
    assert names(room, snap["order"]) == ["Fran", "Cody", "Maya", "Jonas", "Aiko"]
    assert room.speaker(at(t0, 68)) == "Fran"


def test_the_speaker_says_done_and_the_next_person_speaks(started, t0):
    room = started
    snap = room.snapshot(at(t0, 1))
    assert snap["next"] == room.pid(room.co_facilitator)
    room.act(room.facilitator, "turn.finish", now=at(t0, 20))
    assert room.speaker(at(t0, 20)) == "Cody"
    fran = next(p for p in room.snapshot(at(t0, 20))["participants"] if p["name"] == "Fran")
    assert (fran["round"], fran["shared"]) == ("done", True)


def test_time_up_gives_a_grace_period_then_moves_on_exactly_once(started, t0):
    room = started
    turn = room.snapshot(at(t0, 1))["turn"]
    ends = at(t0, 61)
    assert turn["ends_at"] == ends.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert room.tick(now=at(t0, 70)) is None  # time is up, but the 15-second grace is still running
    assert room.speaker(at(t0, 70)) == "Fran"
    version = room.snapshot(at(t0, 76))["version"]
    assert room.tick(now=at(t0, 76)) is not None
    assert room.tick(now=at(t0, 76)) is None  # a second nudge for the same deadline changes nothing
    snap = room.snapshot(at(t0, 76))
    assert snap["version"] == version + 1
    assert room.speaker(at(t0, 76)) == "Cody"
    assert RoomEvent.objects.filter(kind="turn.ended", detail__outcome="timeout").count() == 1


def test_extend_adds_thirty_seconds_each_time(started, t0):
    room = started
    room.act(room.facilitator, "turn.extend", now=at(t0, 50))
    room.act(room.facilitator, "turn.extend", now=at(t0, 51))
    turn = room.snapshot(at(t0, 52))["turn"]
    assert turn["extended_seconds"] == 60
    assert room.tick(now=at(t0, 1 + 60 + 60 + 15 - 1)) is None
    assert room.tick(now=at(t0, 1 + 60 + 60 + 15)) is not None


def test_extending_during_the_grace_period_counts_from_now(started, t0):
    room = started
    room.act(room.facilitator, "turn.extend", now=at(t0, 70))
    turn = room.snapshot(at(t0, 70))["turn"]
    assert turn["ends_at"].startswith(at(t0, 100).isoformat()[:19])


def test_extra_time_multiplies_the_speakers_turn(started, t0):
    room = started
    room.maya.extra_time = "1.5"
    room.maya.save()
    room.act(room.facilitator, "turn.finish", now=at(t0, 2))
    room.act(room.co_facilitator, "turn.finish", now=at(t0, 3))
    turn = room.snapshot(at(t0, 3))["turn"]
    assert room.speaker(at(t0, 3)) == "Maya"
    assert turn["ends_at"].startswith(at(t0, 3 + 90).isoformat()[:19])


def test_passing_ahead_and_being_offered_a_turn_again_at_the_end(started, t0):
    room = started
    room.act(room.jonas, "turn.pass", now=at(t0, 2))  # before his turn
    for step, speaker in enumerate([room.facilitator, room.co_facilitator, room.maya]):
        room.act(speaker, "turn.finish", now=at(t0, 3 + step))
    assert room.speaker(at(t0, 6)) == "Aiko"  # Jonas passed, so Aiko is next
    room.act(room.aiko, "turn.finish", now=at(t0, 7))
    assert room.speaker(at(t0, 7)) == "Jonas"  # offered once more
    room.act(room.jonas, "turn.pass", now=at(t0, 8))
    snap = room.snapshot(at(t0, 8))
    assert snap["segment_complete"] is True
    jonas = next(p for p in snap["participants"] if p["name"] == "Jonas")
    assert (jonas["round"], jonas["shared"]) == ("declined", False)


def test_nobody_can_pass_someone_elses_turn_or_finish_it(started, t0):
    room = started
    assert room.refused(room.maya, "turn.finish", now=at(t0, 2)) == "forbidden"
    assert room.refused(room.maya, "turn.skip", now=at(t0, 2)) == "forbidden"
    assert room.refused(room.maya, "turn.extend", now=at(t0, 2)) == "forbidden"
    assert room.speaker(at(t0, 2)) == "Fran"


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("call.end", {}),
        ("pause", {}),
        ("segment.next", {}),
        ("turn.skip", {}),
        ("turn.extend", {}),
        ("order.set", {"order": []}),
        ("settings", {"locked": True}),
        ("participant.admit", {"participant": 1}),
        ("participant.remove", {"participant": 1}),
        ("support.clear", {"participant": 1}),
        ("hand.first", {"participant": 1}),
    ],
)
def test_members_cannot_use_facilitator_controls(started, t0, action, payload):
    assert started.refused(started.aiko, action, now=at(t0, 2), **payload) == "forbidden"


def test_the_co_facilitator_has_the_same_controls(started, t0):
    room = started
    room.act(room.co_facilitator, "turn.extend", now=at(t0, 2))
    room.act(room.co_facilitator, "pause", now=at(t0, 3))
    assert room.snapshot(at(t0, 3))["status"] == "paused"


def test_pause_stops_every_timer_and_resume_continues_from_where_it_stood(started, t0):
    room = started
    room.act(room.facilitator, "pause", now=at(t0, 31))
    assert room.tick(now=at(t0, 500)) is None
    room.act(room.facilitator, "resume", now=at(t0, 331))  # paused for five minutes
    turn = room.snapshot(at(t0, 331))["turn"]
    assert turn["ends_at"].startswith(at(t0, 361).isoformat()[:19])
    assert room.speaker(at(t0, 331)) == "Fran"


def test_a_speaker_gone_for_fifteen_seconds_is_skipped_and_rejoins_the_end(started, t0):
    room = started
    room.act(room.facilitator, "turn.finish", now=at(t0, 2))
    room.act(room.co_facilitator, "turn.finish", now=at(t0, 3))
    assert room.speaker(at(t0, 3)) == "Maya"
    room.leave(room.maya, now=at(t0, 10))
    assert room.tick(now=at(t0, 24)) is None
    room.tick(now=at(t0, 25))
    assert room.speaker(at(t0, 25)) == "Jonas"
    room.enter(room.maya, now=at(t0, 30))
    snap = room.snapshot(at(t0, 30))
    assert names(room, snap["order"])[-1] == "Maya"
    room.act(room.jonas, "turn.finish", now=at(t0, 31))
    room.act(room.aiko, "turn.finish", now=at(t0, 32))
    assert room.speaker(at(t0, 32)) == "Maya"


def test_a_silent_socket_counts_as_gone(started, t0):
    room = started
    room.act(room.facilitator, "turn.finish", now=at(t0, 2))
    room.go_silent(room.co_facilitator)  # his connection dies without closing
    room.tick(now=at(t0, 40))
    snap = room.snapshot(at(t0, 40))
    cody = next(p for p in snap["participants"] if p["name"] == "Cody")
    assert cody["present"] is False
    assert room.speaker(at(t0, 40)) != "Cody"


def test_the_co_facilitator_takes_over_after_thirty_seconds_and_hands_back(started, t0):
    room = started
    room.act(room.facilitator, "turn.finish", now=at(t0, 2))
    room.leave(room.facilitator, now=at(t0, 5))
    room.tick(now=at(t0, 34))
    assert room.snapshot(at(t0, 34))["acting_facilitator"] == room.pid(room.facilitator)
    room.tick(now=at(t0, 35))
    assert room.snapshot(at(t0, 35))["acting_facilitator"] == room.pid(room.co_facilitator)
    room.enter(room.facilitator, now=at(t0, 40))
    assert room.snapshot(at(t0, 40))["acting_facilitator"] == room.pid(room.facilitator)


def test_without_a_co_facilitator_the_room_keeps_its_timers(room, t0):
    room.call.co_facilitator = None
    room.call.save()
    room.enter(room.facilitator, room.maya, now=t0)
    room.act(room.facilitator, "call.start", now=t0)
    room.leave(room.facilitator, now=at(t0, 1))
    room.tick(now=at(t0, 60))
    assert room.snapshot(at(t0, 60))["segment_complete"] is True


# Sharing


def sharing_segment(room, t0):
    """Move the started room on to the sharing round (segment 2), with Fran speaking."""
    room.act(room.facilitator, "segment.next", now=at(t0, 2))
    return room.snapshot(at(t0, 2))


def test_sharer_chooses_reflections_and_listeners_raise_hands_in_order(started, t0):
    room = started
    sharing_segment(room, t0)
    assert room.snapshot(at(t0, 2))["turn"]["share_mode"] == "reflections"  # Fran's profile default
    room.act(room.facilitator, "turn.finish", now=at(t0, 60))
    snap = room.snapshot(at(t0, 60))
    assert snap["phase"] == "reflections"
    assert snap["phase_ends_at"].startswith(at(t0, 120).isoformat()[:19])
    room.act(room.aiko, "hand.raise", now=at(t0, 61))
    room.act(room.maya, "hand.raise", now=at(t0, 62))
    assert room.snapshot(at(t0, 62))["turn"]["reflector"] == room.pid(room.aiko)
    room.act(room.aiko, "reflection.done", now=at(t0, 70))
    assert room.snapshot(at(t0, 70))["turn"]["reflector"] == room.pid(room.maya)
    room.act(room.facilitator, "reflections.end", now=at(t0, 80))
    assert room.speaker(at(t0, 80)) == "Cody"


def test_just_listen_means_no_reflections_and_no_resonance(started, t0):
    room = started
    sharing_segment(room, t0)
    room.act(room.facilitator, "share.mode", now=at(t0, 3), mode="listen")
    assert room.refused(room.maya, "resonate", now=at(t0, 4)) == "not_allowed"
    room.act(room.facilitator, "turn.finish", now=at(t0, 5))
    assert room.speaker(at(t0, 5)) == "Cody"
    assert room.snapshot(at(t0, 5))["phase"] == "turn"


def test_resonance_is_counted_once_per_listener_and_only_the_speaker_sees_it(started, t0):
    room = started
    room.act(room.maya, "resonate", now=at(t0, 3))
    assert room.act(room.maya, "resonate", now=at(t0, 4)) is None  # once per share
    room.act(room.jonas, "resonate", now=at(t0, 5))
    snap = room.snapshot(at(t0, 5))
    assert snap["turn"]["resonance_count"] == 2
    from sharing.snapshots import for_viewer

    assert for_viewer(snap, participant_id=room.pid(room.facilitator), facilitator=True)["turn"]["resonance_count"] == 2
    assert for_viewer(snap, participant_id=room.pid(room.aiko), facilitator=False)["turn"]["resonance_count"] is None
    assert (
        for_viewer(snap, participant_id=room.pid(room.co_facilitator), facilitator=True)["turn"]["resonance_count"]
        is None
    )
    assert room.refused(room.facilitator, "resonate", now=at(t0, 6)) == "not_allowed"  # not for your own share


def test_reflections_are_offered_only_where_the_format_has_time_for_them(started, t0):
    room = started
    assert room.snapshot(at(t0, 2))["turn"]["share_mode"] == "resonance"  # check-in has no reflections
    assert room.refused(room.facilitator, "share.mode", now=at(t0, 2), mode="reflections") == "not_allowed"


def test_open_sharing_follows_raised_hands_and_marks_who_has_not_shared(started, t0):
    room = started
    call_format = room.call.format
    call_format.segments = [{"kind": "open", "title": "Open", "seconds": 600, "turn_seconds": 60}]
    call_format.save()
    room.act(room.facilitator, "call.end", now=at(t0, 2))
    from sharing.models import Room as RoomRow

    RoomRow.objects.filter(pk=room.call.pk).delete()
    room.enter(*room.everyone, now=at(t0, 3))
    room.act(room.facilitator, "call.start", now=at(t0, 3))
    snap = room.snapshot(at(t0, 3))
    assert (snap["phase"], snap["segment_complete"]) == ("between", False)
    room.act(room.jonas, "hand.raise", now=at(t0, 4))
    assert room.speaker(at(t0, 4)) == "Jonas"
    room.act(room.maya, "hand.raise", now=at(t0, 5))
    room.act(room.aiko, "hand.raise", now=at(t0, 6))
    room.act(room.facilitator, "hand.first", now=at(t0, 7), participant=room.pid(room.aiko))
    assert room.snapshot(at(t0, 7))["next"] == room.pid(room.aiko)
    room.act(room.jonas, "turn.finish", now=at(t0, 8))
    assert room.speaker(at(t0, 8)) == "Aiko"
    room.act(room.aiko, "turn.finish", now=at(t0, 9))
    room.act(room.maya, "turn.finish", now=at(t0, 10))
    snap = room.snapshot(at(t0, 10))
    assert snap["phase"] == "between" and snap["turn"] is None
    shared = {p["name"]: p["shared"] for p in snap["participants"]}
    assert shared == {"Fran": False, "Cody": False, "Maya": True, "Jonas": True, "Aiko": True}
    room.act(
        room.facilitator,
        "turn.give",
        now=at(t0, 11),
        version=snap["version"],
        participant=room.pid(room.co_facilitator),
    )
    assert room.speaker(at(t0, 11)) == "Cody"
    room.tick(now=at(t0, 3 + 600 + 100))
    assert room.snapshot(at(t0, 703))["segment_complete"] is True


def test_the_facilitator_arranges_the_order_before_and_during_a_round(room, t0):
    room.enter(*room.everyone, now=t0)
    ids = {person.display_name: room.pid(person) for person in room.everyone}
    wanted = [ids[name] for name in ["Aiko", "Fran", "Maya", "Cody", "Jonas"]]
    room.act(room.facilitator, "order.set", now=t0, version=room.snapshot(t0)["version"], order=wanted)
    room.act(room.facilitator, "call.start", now=t0)
    room.act(room.facilitator, "segment.next", now=at(t0, 1))
    assert names(room, room.snapshot(at(t0, 1))["order"]) == ["Aiko", "Fran", "Maya", "Cody", "Jonas"]
    snap = room.snapshot(at(t0, 1))
    during = [ids[name] for name in ["Aiko", "Jonas", "Fran", "Maya", "Cody"]]
    room.act(room.facilitator, "order.set", now=at(t0, 2), version=snap["version"], order=during)
    room.act(room.aiko, "turn.finish", now=at(t0, 3))
    assert room.speaker(at(t0, 3)) == "Jonas"
    bad = room.refused(room.facilitator, "order.set", now=at(t0, 4), order=during[:-1])
    assert bad == "invalid_order"


def test_a_stale_version_is_refused_and_changes_nothing(started, t0):
    room = started
    version = room.snapshot(at(t0, 2))["version"]
    room.act(room.facilitator, "turn.finish", now=at(t0, 2), version=version)
    with pytest.raises(RoomError) as error:
        room.act(room.co_facilitator, "turn.finish", now=at(t0, 2), version=version)
    assert error.value.code == "stale"
    assert error.value.version == version + 1
    assert room.speaker(at(t0, 2)) == "Cody"


def test_membership_is_checked_on_every_action(started, t0):
    room = started
    Membership.objects.filter(community=room.call.community, user=room.maya).update(state="banned")
    assert room.refused(room.maya, "turn.pass", now=at(t0, 2)) == "forbidden"


def test_ending_the_call_records_structure_and_never_content(started, t0):
    room = started
    room.act(room.facilitator, "turn.finish", now=at(t0, 30))
    room.act(room.facilitator, "call.end", now=at(t0, 40))
    assert room.snapshot(at(t0, 40))["status"] == "ended"
    with pytest.raises(RoomError):
        room.enter(room.maya, now=at(t0, 41))
    ended = RoomEvent.objects.get(kind="turn.ended", subject__user=room.facilitator)
    assert ended.duration_ms == 29000
    assert set(ended.detail) == {"outcome", "segment", "extended_s", "mode", "typed"}
    for event in RoomEvent.objects.all():
        assert all(not isinstance(value, str) or len(value) < 30 for value in event.detail.values())


def test_every_change_bumps_the_version_by_one_and_broadcasts_the_fresh_snapshot(
    room, t0, monkeypatch, django_capture_on_commit_callbacks
):
    """Convergence: the snapshot a change broadcasts equals a fresh snapshot read afterwards."""
    sent = []
    monkeypatch.setattr(
        "sharing.broadcast.send",
        lambda group, message: group.endswith(".circle") and sent.append(message["snapshot"]),
    )
    steps = [
        (room.facilitator, "settings", {"auto_admit": True}),
        (room.facilitator, "call.start", {}),
        (room.facilitator, "segment.next", {}),
        (room.maya, "resonate", {}),
        (room.jonas, "turn.pass", {}),
        (room.facilitator, "turn.extend", {}),
        (room.facilitator, "pause", {}),
        (room.facilitator, "resume", {}),
        (room.facilitator, "turn.finish", {}),
        (room.co_facilitator, "turn.skip", {}),
        (room.facilitator, "segment.next", {}),
        (room.facilitator, "share.typing", {"typing": True}),
        (room.facilitator, "turn.finish", {}),
        (room.maya, "hand.raise", {}),
        (room.maya, "reflection.done", {}),
        (room.aiko, "support.request", {}),
        (room.facilitator, "reflections.end", {}),
        (room.facilitator, "call.end", {}),
    ]
    room.enter(*room.everyone, now=t0)
    previous = room.snapshot(t0)["version"]
    for second, (user, action, payload) in enumerate(steps, start=1):
        now = at(t0, second)
        with django_capture_on_commit_callbacks(execute=True):
            returned = room.act(user, action, now=now, **payload)
        assert returned is not None, action
        assert sent[-1] == returned, f"{action}: the broadcast is the returned snapshot"
        assert returned == room.snapshot(now), f"{action}: the broadcast equals a fresh snapshot"
        assert returned["version"] == previous + 1, action
        previous = returned["version"]
    assert len(sent) == len(steps)


def test_typed_shares_and_reflections_are_relayed_not_stored(started, t0):
    from sharing import relays

    room = started
    with pytest.raises(RoomError):
        relays.share_text(call_id=room.call.pk, user=room.maya, text="not my turn")
    [(to, shared)] = relays.share_text(call_id=room.call.pk, user=room.facilitator, text="hello")
    assert shared["participant"] == room.pid(room.facilitator)
    assert to.group == f"room.{room.call.pk}.circle"
    sharing_segment(room, t0)
    room.act(room.facilitator, "turn.finish", now=at(t0, 3))
    [(to, message)] = relays.reflection_send(call_id=room.call.pk, user=room.maya, text="I hear you")
    assert to.user_id == room.facilitator.pk
    [(_to, shown)] = relays.reflection_show(
        call_id=room.call.pk,
        user=room.facilitator,
        reflection_id=message["id"],
        sender=message["from"],
        text=message["text"],
        sig=message["sig"],
    )
    assert shown["text"] == "I hear you"
    with pytest.raises(RoomError):
        relays.reflection_show(
            call_id=room.call.pk,
            user=room.facilitator,
            reflection_id=message["id"],
            sender=message["from"],
            text="Something else",
            sig=message["sig"],
        )
    with pytest.raises(RoomError):
        relays.reflection_show(
            call_id=room.call.pk,
            user=room.maya,
            reflection_id=message["id"],
            sender=message["from"],
            text=message["text"],
            sig=message["sig"],
        )
    stored = " ".join(str(event.detail) for event in RoomEvent.objects.all())
    assert "I hear you" not in stored and "hello" not in stored
    assert Participant.objects.filter(room_id=room.call.pk).count() == 5
    assert Room.objects.get(pk=room.call.pk).status == "live"


def test_a_shown_reflection_cannot_be_given_to_someone_else(started, t0):
    """Maya's reflection "<jonas>|You should leave" cannot be shown as Jonas saying "You should leave"
    by moving the cut between id, sender and text."""
    from sharing import relays

    room = started
    sharing_segment(room, t0)
    room.act(room.facilitator, "turn.finish", now=at(t0, 3))
    maya, jonas = room.pid(room.maya), room.pid(room.jonas)
    [(_to, ticket)] = relays.reflection_send(call_id=room.call.pk, user=room.maya, text=f"{jonas}|You should leave")
    assert relays.REFLECTION_ID.fullmatch(ticket["id"])
    re_cut = {"reflection_id": f"{ticket['id']}|{maya}", "sender": jonas, "text": "You should leave"}
    with pytest.raises(RoomError) as refused:
        relays.reflection_show(call_id=room.call.pk, user=room.facilitator, sig=ticket["sig"], **re_cut)
    assert refused.value.code == "invalid"
    # The signature alone tells the two apart, whatever ids are allowed.
    room_row = Room.objects.get(pk=room.call.pk)
    assert relays._signature(room_row, ticket["id"], maya, ticket["text"]) == ticket["sig"]
    assert relays._signature(room_row, re_cut["reflection_id"], jonas, re_cut["text"]) != ticket["sig"]
    # The socket refuses an id the server could not have made.
    frame = {"type": "reflection.show", "id": re_cut["reflection_id"], "from": jonas, "text": "x", "sig": "0"}
    with pytest.raises(protocol.ProtocolError):
        protocol.parse_client(json.dumps(frame))
