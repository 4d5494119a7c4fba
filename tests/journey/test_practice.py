"""The guided self-attunement practice: five steps, private optional notes, and a way back to the call."""

from datetime import timedelta

import pytest
from django.urls import reverse

from groups.models import Community, Membership
from journey.models import NOTE_MAX_LENGTH, Practice, PracticeNote
from journey.practice import STEPS
from tests.conftest import make_person

pytestmark = pytest.mark.django_db


def step_url(practice, number):
    return reverse("practice_step", kwargs={"pk": practice.pk, "number": number})


def done_url(practice):
    return reverse("practice_done", kwargs={"pk": practice.pk})


def notes_of(practice):
    return dict(PracticeNote.objects.filter(practice=practice).values_list("step", "text"))


def begin(client, **query):
    response = client.post(reverse("practice"), query)
    practice = Practice.objects.latest("pk")
    assert response.status_code == 302
    assert response["Location"] == step_url(practice, 1)
    return practice


@pytest.fixture
def maya(client, circle):
    client.force_login(circle.member)
    return circle.member


def test_anonymous_visitors_are_asked_to_log_in(client, db):
    response = client.get(reverse("practice"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_intro_is_calm_and_says_notes_are_optional_and_private(client, maya):
    response = client.get(reverse("practice"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "2 to 3 minutes" in text
    assert "optional and private" in text
    assert ">Begin</button>" in text
    assert Practice.objects.count() == 0  # looking creates nothing


def test_walking_all_five_steps_saves_some_notes_and_skips_others(client, maya):
    practice = begin(client)
    written = {1: "Heavy arms, slow breath.", 3: "restless", 5: "Water, and to listen today."}
    for number in range(1, 6):
        page = client.get(step_url(practice, number))
        assert page.status_code == 200
        assert f"Step {number} of 5" in page.content.decode()
        response = client.post(step_url(practice, number), {"step": number, "note": written.get(number, "")})
        assert response.status_code == 302
        expected = step_url(practice, number + 1) if number < 5 else done_url(practice)
        assert response["Location"] == expected
    assert notes_of(practice) == written
    practice.refresh_from_db()
    assert practice.finished_at is not None
    assert client.get(done_url(practice)).status_code == 200


def test_a_step_shows_its_copy_an_accessible_progress_and_a_labelled_textarea(client, maya):
    practice = begin(client)
    PracticeNote.objects.create(practice=practice, step=2, text="Tight <neck>")
    text = client.get(step_url(practice, 2)).content.decode()
    step = STEPS[1]
    assert str(step.title) in text and str(step.guidance).split(":")[0] in text
    assert '<progress max="5" value="2"' in text
    assert 'aria-labelledby="practice-progress-label"' in text
    assert f'<label for="practice-note">{step.prompt}</label>' in text
    assert f'maxlength="{NOTE_MAX_LENGTH}"' in text
    assert "Tight &lt;neck&gt;</textarea>" in text  # prefilled, and escaped
    assert 'value="back"' in text and 'value="next"' in text and "Skip the rest" in text
    first = client.get(step_url(practice, 1)).content.decode()
    assert 'value="back"' not in first  # nothing to go back to
    last = client.get(step_url(practice, 5)).content.decode()
    assert ">Finish</button>" in last and "Skip the rest" not in last


def test_editing_a_note_replaces_it_and_empty_text_removes_it(client, maya):
    practice = begin(client)
    client.post(step_url(practice, 2), {"step": 2, "note": "first"})
    client.post(step_url(practice, 2), {"step": 2, "note": "second thoughts"})
    assert notes_of(practice) == {2: "second thoughts"}
    client.post(step_url(practice, 2), {"step": 2, "note": "   "})
    assert notes_of(practice) == {}


def test_back_saves_the_note_and_returns_to_the_previous_step(client, maya):
    practice = begin(client)
    response = client.post(step_url(practice, 3), {"step": 3, "note": "settled", "direction": "back"})
    assert response["Location"] == step_url(practice, 2)
    assert notes_of(practice) == {3: "settled"}


def test_skip_the_rest_keeps_what_was_written_and_finishes(client, maya):
    practice = begin(client)
    response = client.post(step_url(practice, 2), {"step": 2, "note": "tired", "direction": "skip"})
    assert response["Location"] == done_url(practice)
    assert notes_of(practice) == {2: "tired"}
    practice.refresh_from_db()
    assert practice.finished_at is not None


def test_a_note_that_is_too_long_is_refused_with_a_clear_error_and_nothing_saved(client, maya):
    practice = begin(client)
    PracticeNote.objects.create(practice=practice, step=1, text="kept")
    response = client.post(step_url(practice, 1), {"step": 1, "note": "x" * (NOTE_MAX_LENGTH + 1)})
    assert response.status_code == 200
    text = response.content.decode()
    assert f"Please keep a note under {NOTE_MAX_LENGTH} characters." in text
    assert 'role="alert"' in text and 'aria-invalid="true"' in text
    assert notes_of(practice) == {1: "kept"}
    practice.refresh_from_db()
    assert practice.finished_at is None


def test_a_note_posted_for_another_step_is_refused_and_nothing_saved(client, maya):
    practice = begin(client)
    response = client.post(step_url(practice, 3), {"step": 2, "note": "meant for step two"})
    assert response.status_code == 200
    assert "different step" in response.content.decode()
    assert notes_of(practice) == {}


@pytest.mark.parametrize("number", [0, 6, 99])
def test_a_step_out_of_range_is_not_found(client, maya, number):
    practice = begin(client)
    assert client.get(step_url(practice, number)).status_code == 404
    assert client.post(step_url(practice, number), {"step": number, "note": "x"}).status_code == 404
    assert notes_of(practice) == {}


def test_another_person_cannot_see_edit_or_finish_a_practice(client, circle, maya):
    practice = begin(client)
    client.post(step_url(practice, 1), {"step": 1, "note": "Only mine, Maya's secret"})
    client.force_login(circle.outsider)
    assert client.get(step_url(practice, 1)).status_code == 404
    assert client.post(step_url(practice, 1), {"step": 1, "note": "overwritten"}).status_code == 404
    assert client.post(step_url(practice, 2), {"step": 2, "direction": "skip"}).status_code == 404
    assert client.get(done_url(practice)).status_code == 404
    assert notes_of(practice) == {1: "Only mine, Maya's secret"}
    practice.refresh_from_db()
    assert practice.finished_at is None
    # Not even a facilitator of the call's community sees it.
    client.force_login(circle.facilitator)
    assert client.get(step_url(practice, 1)).status_code == 404


def test_state_changes_need_post(client, maya):
    practice = begin(client)
    assert client.post(done_url(practice)).status_code == 405
    assert client.put(step_url(practice, 1)).status_code == 405


def test_a_call_the_member_may_attend_is_linked_and_the_done_page_leads_back_to_its_room(client, circle, maya):
    call = circle.call(starts_in=timedelta(minutes=15), title="Thursday circle")
    intro = client.get(reverse("practice"), {"call": call.pk}).content.decode()
    assert "Thursday circle" in intro
    assert f'name="call" value="{call.pk}"' in intro
    practice = begin(client, call=call.pk)
    assert practice.call == call
    client.post(step_url(practice, 1), {"step": 1, "direction": "skip"})
    done = client.get(done_url(practice)).content.decode()
    assert f'href="{reverse("call_room", kwargs={"call_id": call.pk})}"' in done
    assert f'href="{reverse("my_journey")}"' in done


def test_a_practice_on_its_own_has_no_room_link(client, maya):
    practice = begin(client)
    done = client.get(done_url(practice)).content.decode()
    assert "/room/" not in done
    assert f'href="{reverse("my_journey")}"' in done


def assert_call_ignored(client, user, raw, title):
    client.force_login(user)
    intro = client.get(reverse("practice"), {"call": raw})
    assert intro.status_code == 200
    assert title not in intro.content.decode()
    assert 'name="call"' not in intro.content.decode()
    for url, data in ((reverse("practice"), {"call": raw}), (f"{reverse('practice')}?call={raw}", {})):
        client.post(url, data)
        practice = Practice.objects.filter(user=user).latest("pk")
        assert practice.call is None
        assert "/room/" not in client.get(done_url(practice)).content.decode()


@pytest.mark.parametrize("who", ["outsider", "pending", "banned"])
def test_a_call_of_a_community_the_person_is_not_active_in_is_ignored(client, circle, who):
    call = circle.call(title="Not for everyone")
    assert_call_ignored(client, getattr(circle, who), call.pk, call.title)


def test_a_call_of_another_community_is_ignored(client, circle):
    other = Community.objects.create(name="Elsewhere", slug="elsewhere", description="Another circle.")
    elsewhere = make_person("elsewhere@example.com")
    Membership.objects.create(community=other, user=elsewhere, state=Membership.State.ACTIVE)
    call = circle.call(title="Somewhere else entirely")
    call.community = other
    call.save(update_fields=["community"])
    assert_call_ignored(client, circle.member, call.pk, call.title)


@pytest.mark.parametrize("raw", ["999999", "1; drop", "", "-3"])
def test_an_unknown_call_is_ignored(client, circle, raw):
    circle.call(title="Tuesday circle")
    assert_call_ignored(client, circle.member, raw, "Tuesday circle")


def test_a_cancelled_call_is_ignored(client, circle, maya):
    call = circle.call(title="Called off", status="cancelled")
    practice = begin(client, call=call.pk)
    assert practice.call is None


def test_my_calls_and_the_header_offer_the_practice(client, circle, maya):
    from groups.services.rsvps import rsvp_set

    call = circle.call(starts_in=timedelta(minutes=5))
    rsvp_set(call_id=call.pk, user=maya, going=True)
    my_calls = client.get(reverse("my_calls")).content.decode()
    assert f"{reverse('practice')}?call={call.pk}" in my_calls
    assert "Take 2 minutes to attune before your call" in my_calls
    assert f'href="{reverse("my_journey")}"' in my_calls  # the header


def test_the_lobby_offers_the_practice_for_this_call(client, circle, maya):
    from groups.services.rsvps import rsvp_set

    call = circle.call(starts_in=timedelta(minutes=5))
    rsvp_set(call_id=call.pk, user=maya, going=True)
    room = client.get(reverse("call_room", kwargs={"call_id": call.pk}))
    assert room.status_code == 200
    assert f"{reverse('practice')}?call={call.pk}" in room.content.decode()
