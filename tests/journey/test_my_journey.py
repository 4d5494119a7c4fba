"""My journey: calls attended, one's own check-outs and practice notes, deletable, and private."""

import json
import zoneinfo
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import privacy
from journey.models import CheckOut, Practice, PracticeNote
from sharing.models import Participant, Room

pytestmark = pytest.mark.django_db

MY_JOURNEY = "/me/journey/"


def attend(call, user, *, admitted=True):
    room, _created = Room.objects.get_or_create(call=call)
    return Participant.objects.create(
        room=room,
        user=user,
        state=Participant.State.ADMITTED if admitted else Participant.State.LOBBY,
        admitted_at=timezone.now() if admitted else None,
    )


def practice_with(user, notes, *, call=None):
    practice = Practice.objects.create(user=user, call=call)
    for step, text in notes.items():
        PracticeNote.objects.create(practice=practice, step=step, text=text)
    return practice


def page(client, url=MY_JOURNEY):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def maya(client, circle):
    client.force_login(circle.member)
    return circle.member


def test_the_route_and_login(client, db):
    assert reverse("my_journey") == MY_JOURNEY
    response = client.get(MY_JOURNEY)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_empty_states_are_kind_and_the_privacy_promise_is_plain(client, maya):
    text = page(client)
    for heading in ("Calls attended", "My check-outs", "My practice notes"):
        assert f">{heading}</h2>" in text
    assert "No calls yet." in text
    assert "No check-outs yet." in text
    assert "No practice notes yet." in text
    assert "visible only to you" in text
    assert "anonymous totals" in text and "at least 3 people" in text


def test_calls_attended_are_those_the_member_was_admitted_to_newest_first(client, circle, maya):
    older = circle.call(starts_in=timedelta(days=-9), title="Older circle")
    newer = circle.call(starts_in=timedelta(days=-2), title="Newer circle")
    lobby_only = circle.call(starts_in=timedelta(days=-5), title="Waited in the lobby")
    not_there = circle.call(starts_in=timedelta(days=-4), title="Someone else's evening")
    attend(older, maya)
    attend(newer, maya)
    attend(lobby_only, maya, admitted=False)
    attend(not_there, circle.facilitator)
    text = page(client)
    assert text.index("Newer circle") < text.index("Older circle")
    assert "Waited in the lobby" not in text
    assert "Someone else&#x27;s evening" not in text and "Someone else's evening" not in text
    assert circle.community.name in text
    # Dates in the member's own zone (America/New_York), as on My calls.
    in_new_york = timezone.localtime(newer.starts_at, zoneinfo.ZoneInfo("America/New_York"))
    assert f'<time datetime="{newer.starts_at.isoformat()}">{in_new_york:%A %-d %B %Y, %H:%M}</time>' in text


def test_only_my_own_check_outs_are_shown_with_score_chips_and_note(client, circle, maya):
    call = circle.call(starts_in=timedelta(days=-1), title="Yesterday's circle")
    CheckOut.objects.create(
        call=call,
        user=maya,
        felt_heard=4,
        helped=[CheckOut.Helped.LISTENED, CheckOut.Helped.STRUCTURE],
        note="Felt held <today>",
    )
    CheckOut.objects.create(call=call, user=circle.facilitator, felt_heard=2, note="Fran's private words")
    CheckOut.objects.create(call=call, user=None, felt_heard=1, note="")
    text = page(client)
    assert "4 of 5" in text
    assert "2 of 5" not in text and "1 of 5" not in text
    assert "Being listened to" in text and "The structure" in text
    assert "Shared experience" not in text
    assert "Felt held &lt;today&gt;" in text
    assert "Fran&#x27;s private words" not in text and "Fran's private words" not in text


def test_practice_notes_are_shown_with_their_step_and_never_on_anyone_elses_page(client, circle, maya):
    call = circle.call(starts_in=timedelta(hours=1), title="Soon circle")
    mine = practice_with(maya, {1: "Maya arrives slowly", 4: "This is hard, and I am trying"}, call=call)
    practice_with(maya, {})
    text = page(client)
    assert "Maya arrives slowly" in text and "This is hard, and I am trying" in text
    assert "1. Pause and ground" in text and "4. Offer yourself compassion" in text
    assert "before Soon circle" in text
    assert "No notes this time, just the practice." in text
    for note in mine.notes.all():
        assert reverse("journey_note_delete", kwargs={"pk": note.pk}) in text
    assert reverse("journey_practice_delete", kwargs={"pk": mine.pk}) in text

    for other in (circle.facilitator, circle.owner, circle.outsider, circle.staff):
        client.force_login(other)
        for url in (MY_JOURNEY, reverse("my_calls"), reverse("call", kwargs={"call_id": call.pk}), reverse("practice")):
            response = client.get(url, follow=True)
            assert "Maya arrives slowly" not in response.content.decode(), (other, url)
        step = reverse("practice_step", kwargs={"pk": mine.pk, "number": 1})
        assert client.get(step).status_code == 404


def test_deleting_a_note_is_post_only_and_only_for_its_owner(client, circle, maya):
    practice = practice_with(maya, {1: "keep me", 2: "delete me"})
    doomed = practice.notes.get(step=2)
    url = reverse("journey_note_delete", kwargs={"pk": doomed.pk})
    assert client.get(url).status_code == 405
    client.force_login(circle.outsider)
    assert client.post(url).status_code == 404
    assert PracticeNote.objects.filter(pk=doomed.pk).exists()
    client.force_login(maya)
    response = client.post(url)
    assert response.status_code == 302 and response["Location"].startswith(MY_JOURNEY)
    assert list(practice.notes.values_list("text", flat=True)) == ["keep me"]
    assert "The note is deleted." in page(client)
    assert client.post(url).status_code == 404  # already gone


def test_deleting_a_practice_is_post_only_and_only_for_its_owner(client, circle, maya):
    practice = practice_with(maya, {1: "one", 5: "five"})
    url = reverse("journey_practice_delete", kwargs={"pk": practice.pk})
    assert client.get(url).status_code == 405
    client.force_login(circle.facilitator)
    assert client.post(url).status_code == 404
    assert Practice.objects.filter(pk=practice.pk).exists()
    client.force_login(maya)
    assert client.post(url).status_code == 302
    assert not Practice.objects.filter(pk=practice.pk).exists()
    assert not PracticeNote.objects.filter(practice_id=practice.pk).exists()


def test_anonymous_people_cannot_delete(client, circle):
    practice = practice_with(circle.member, {1: "one"})
    note = practice.notes.get()
    for url in (
        reverse("journey_note_delete", kwargs={"pk": note.pk}),
        reverse("journey_practice_delete", kwargs={"pk": practice.pk}),
    ):
        response = client.post(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert PracticeNote.objects.filter(pk=note.pk).exists()


def fill(circle, user, count, start=0):
    for i in range(start, start + count):
        call = circle.call(starts_in=timedelta(days=-(i + 1)), title=f"Circle {i}")
        attend(call, user)
        CheckOut.objects.create(call=call, user=user, felt_heard=1 + i % 5, helped=["listened"], note=f"note {i}")
        practice_with(user, {1: f"arrive {i}", 3: f"name {i}"}, call=call)


def test_the_number_of_queries_does_not_grow_with_rows(client, circle, maya, django_assert_max_num_queries):
    fill(circle, maya, 2)
    with CaptureQueriesContext(connection) as small:
        page(client)
    fill(circle, maya, 60, start=2)
    with django_assert_max_num_queries(len(small)):
        text = page(client)
    assert "Showing your last 50 calls." in text
    assert text.count('class="card journey-practice"') == 50


def test_the_data_export_holds_practices_and_check_outs(client, circle, maya):
    call = circle.call(starts_in=timedelta(days=-1), title="Exported circle")
    practice_with(maya, {2: "exported note"}, call=call)
    CheckOut.objects.create(call=call, user=maya, felt_heard=5, helped=["shared"], note="exported checkout")
    CheckOut.objects.create(call=call, user=circle.facilitator, felt_heard=3, note="not Maya's")
    data = json.loads(client.get("/accounts/data/export.json").content)
    assert data["practices"] == [
        {
            "started_at": data["practices"][0]["started_at"],
            "finished_at": None,
            "call": "Exported circle",
            "notes": [{"step": 2, "text": "exported note"}],
        }
    ]
    assert [(c["felt_heard"], c["helped"], c["note"]) for c in data["checkouts"]] == [
        (5, ["shared"], "exported checkout")
    ]


def test_erasure_removes_practices_and_strips_check_outs_of_author_and_words(circle):
    maya = circle.member
    call = circle.call(starts_in=timedelta(days=-1))
    practice_with(maya, {1: "gone after erasure"})
    checkout = CheckOut.objects.create(call=call, user=maya, felt_heard=4, helped=["listened"], note="my words")
    kept = CheckOut.objects.create(call=call, user=circle.facilitator, felt_heard=2, note="Fran's words")
    privacy.erase(user=maya)
    assert not Practice.objects.filter(user=maya).exists()
    assert not PracticeNote.objects.exists()
    checkout.refresh_from_db()
    assert (checkout.user_id, checkout.note, checkout.felt_heard) == (None, "", 4)  # the total stays true
    kept.refresh_from_db()
    assert (kept.user_id, kept.note) == (circle.facilitator.pk, "Fran's words")
