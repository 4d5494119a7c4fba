import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from groups.formats import default_segments, parse_segments
from groups.models import CallFormat
from groups.services.formats import format_create, format_default, format_update


def messages_of(error):
    return " ".join(error.value.messages)


def test_default_format_is_attuned_sharing():
    segments = parse_segments(default_segments())
    assert [(s.kind, s.title) for s in segments] == [
        ("grounding", "Arriving"),
        ("round", "Check-in"),
        ("round", "Sharing"),
        ("closing", "Closing"),
    ]
    grounding, check_in, sharing, closing = segments
    assert grounding.seconds == 60
    assert (check_in.turn_seconds, check_in.reflection_seconds) == (60, 0)
    assert (sharing.turn_seconds, sharing.reflection_seconds) == (120, 60)
    assert closing.turn_seconds == 30
    assert sharing.planned_seconds(people=5) == 5 * 180


def test_a_format_needs_at_least_one_segment():
    with pytest.raises(ValidationError) as error:
        parse_segments([])
    assert "at least one segment" in messages_of(error)


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ({"kind": "round", "turn_seconds": 5}, "a turn must be between 15 and 900 seconds (it is 5)"),
        ({"kind": "round", "turn_seconds": 3600}, "between 15 and 900 seconds"),
        ({"kind": "grounding", "seconds": 4000}, "a grounding must be between 10 and 900"),
        ({"kind": "open", "seconds": 30, "turn_seconds": 60}, "open sharing must be between 60 and 3600"),
        (
            {"kind": "open", "seconds": 120, "turn_seconds": 300},
            "cannot be longer than the open-sharing segment",
        ),
        (
            {"kind": "round", "turn_seconds": 60, "reflection_seconds": 5},
            "reflection time must be between 15",
        ),
        (
            {"kind": "round", "turn_seconds": 60, "reflection_seconds": 60, "reflection_mode": "sung"},
            "spoken, typed",
        ),
        ({"kind": "dance", "seconds": 60}, "choose a kind"),
        ({"kind": "round", "turn_seconds": "60"}, "must be a whole number"),
        ({"kind": "round", "turn_seconds": True}, "must be a whole number"),
        ({"kind": "round", "turn_seconds": 60, "title": "x" * 61}, "at most 60 characters"),
    ],
)
def test_segments_outside_sane_bounds_are_explained(segment, expected):
    with pytest.raises(ValidationError) as error:
        parse_segments([segment])
    assert expected in messages_of(error).lower() or expected in messages_of(error)


def test_every_bad_segment_is_reported_at_once():
    with pytest.raises(ValidationError) as error:
        parse_segments([{"kind": "round", "turn_seconds": 1}, {"kind": "grounding", "seconds": 1}])
    assert len(error.value.messages) == 2
    assert "Segment 1" in error.value.messages[0]
    assert "Segment 2" in error.value.messages[1]


def test_too_many_segments_are_refused():
    with pytest.raises(ValidationError, match="at most 12 segments"):
        parse_segments([{"kind": "closing", "turn_seconds": 30}] * 13)


def test_segments_round_trip_through_their_stored_form():
    segments = parse_segments(default_segments())
    assert parse_segments([segment.to_dict() for segment in segments]) == segments


@pytest.mark.django_db
def test_facilitator_creates_and_edits_a_community_format(circle):
    call_format = format_create(
        community=circle.community,
        actor=circle.facilitator,
        name=" Short circle ",
        segments=[{"kind": "round", "title": "", "turn_seconds": 90}],
        grace_seconds=10,
    )
    assert call_format.name == "Short circle"
    assert call_format.segments == [{"kind": "round", "title": "Round", "turn_seconds": 90}]
    format_update(
        call_format=call_format,
        actor=circle.facilitator,
        name="Short circle",
        segments=[{"kind": "closing", "turn_seconds": 30}],
        grace_seconds=20,
    )
    call_format.refresh_from_db()
    assert call_format.grace_seconds == 20
    assert call_format.segment_list()[0].kind == "closing"


@pytest.mark.django_db
def test_invalid_format_changes_nothing(circle):
    call_format = format_create(
        community=circle.community,
        actor=circle.facilitator,
        name="Keep",
        segments=[{"kind": "closing", "turn_seconds": 30}],
        grace_seconds=15,
    )
    with pytest.raises(ValidationError):
        format_update(call_format=call_format, actor=circle.facilitator, name="Broken", segments=[], grace_seconds=15)
    with pytest.raises(ValidationError, match="grace period"):
        format_update(
            call_format=call_format,
            actor=circle.facilitator,
            name="Broken",
            segments=[{"kind": "closing", "turn_seconds": 30}],
            grace_seconds=500,
        )
    call_format.refresh_from_db()
    assert call_format.name == "Keep"


@pytest.mark.django_db
def test_members_cannot_write_formats_and_only_staff_edit_site_formats(circle):
    with pytest.raises(PermissionDenied):
        format_create(
            community=circle.community,
            actor=circle.member,
            name="Mine",
            segments=[{"kind": "closing", "turn_seconds": 30}],
            grace_seconds=15,
        )
    with pytest.raises(PermissionDenied):
        format_update(
            call_format=format_default(),
            actor=circle.owner,
            name="Changed",
            segments=default_segments(),
            grace_seconds=15,
        )
    assert CallFormat.objects.filter(community=circle.community).count() == 0


@pytest.mark.django_db
def test_format_form_page_saves_segments_in_the_chosen_order(client, circle):
    client.force_login(circle.facilitator)
    data = {
        "name": "Two parts",
        "description": "",
        "grace_seconds": "15",
        "segments-TOTAL_FORMS": "3",
        "segments-INITIAL_FORMS": "0",
        "segments-MIN_NUM_FORMS": "0",
        "segments-MAX_NUM_FORMS": "12",
        "segments-0-kind": "closing",
        "segments-0-title": "Goodbye",
        "segments-0-turn_seconds": "30",
        "segments-0-ORDER": "2",
        "segments-0-reflection_mode": "either",
        "segments-1-kind": "grounding",
        "segments-1-title": "Arrive",
        "segments-1-seconds": "60",
        "segments-1-ORDER": "1",
        "segments-1-reflection_mode": "either",
        "segments-2-kind": "",
        "segments-2-reflection_mode": "either",
    }
    response = client.post(f"/c/{circle.community.slug}/formats/new/", data)
    assert response.status_code == 302
    call_format = CallFormat.objects.get(community=circle.community)
    assert [segment["title"] for segment in call_format.segments] == ["Arrive", "Goodbye"]


@pytest.mark.django_db
def test_format_form_page_explains_bad_lengths_and_saves_nothing(client, circle):
    client.force_login(circle.facilitator)
    data = {
        "name": "Too short",
        "grace_seconds": "15",
        "segments-TOTAL_FORMS": "1",
        "segments-INITIAL_FORMS": "0",
        "segments-MIN_NUM_FORMS": "0",
        "segments-MAX_NUM_FORMS": "12",
        "segments-0-kind": "round",
        "segments-0-turn_seconds": "3",
        "segments-0-reflection_mode": "either",
    }
    response = client.post(f"/c/{circle.community.slug}/formats/new/", data)
    assert response.status_code == 200
    assert "a turn must be between 15 and 900 seconds" in response.content.decode()
    assert not CallFormat.objects.filter(community=circle.community).exists()
