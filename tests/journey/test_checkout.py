"""The one-tap check-out after a call: who may answer, what is stored, and how changes work."""

import pytest
from django.urls import reverse

from journey.demo import Attendee
from journey.models import CheckOut

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(circle):
    return circle.past_call(weeks_ago=0.01, attendees=[Attendee(circle.member)])


def test_one_tap_saves_the_answer(client, circle, call):
    client.force_login(circle.member)
    url = reverse("checkout", args=[call.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Did you feel heard today?" in page.content.decode()
    response = client.post(url, {"felt_heard": "4"})
    assert response.status_code == 302 and response["Location"].endswith("?answered=1")
    checkout = CheckOut.objects.get(call=call, user=circle.member)
    assert (checkout.felt_heard, checkout.helped, checkout.note) == (4, [], "")
    follow = client.get(response["Location"]).content.decode()
    assert "What helped?" in follow


def test_what_helped_and_a_note_are_optional_extras(client, circle, call):
    client.force_login(circle.member)
    url = reverse("checkout", args=[call.pk])
    client.post(url, {"felt_heard": "4"})
    response = client.post(
        url, {"details": "1", "felt_heard": "4", "helped": ["structure", "listened"], "note": " lighter now "}
    )
    assert response.status_code == 302 and response["Location"] == reverse("my_journey")
    checkout = CheckOut.objects.get(call=call, user=circle.member)
    assert checkout.helped == ["listened", "structure"]
    assert checkout.note == "lighter now"
    # Tapping another number later changes the answer and keeps the rest.
    client.post(url, {"felt_heard": "5"})
    checkout.refresh_from_db()
    assert (checkout.felt_heard, checkout.helped, checkout.note) == (5, ["listened", "structure"], "lighter now")
    assert CheckOut.objects.filter(call=call).count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"felt_heard": "0"},
        {"felt_heard": "6"},
        {"felt_heard": "banana"},
        {},
        {"details": "1", "felt_heard": "3", "helped": ["money"]},
        {"details": "1", "felt_heard": "3", "note": "x" * 2001},
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(client, circle, call, data):
    client.force_login(circle.member)
    response = client.post(reverse("checkout", args=[call.pk]), data)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not CheckOut.objects.filter(call=call).exists()


@pytest.mark.parametrize("who", ["outsider", "co_facilitator", "pending"])
def test_only_people_who_were_in_the_call_may_check_out(client, circle, call, who):
    client.force_login(getattr(circle, who))
    url = reverse("checkout", args=[call.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"felt_heard": "5"}).status_code == 403
    assert not CheckOut.objects.exists()


def test_a_member_who_rsvpd_but_did_not_come_cannot_check_out(client, circle):
    call = circle.past_call(weeks_ago=0.01, attendees=[Attendee(circle.member, came=False)])
    client.force_login(circle.member)
    assert client.post(reverse("checkout", args=[call.pk]), {"felt_heard": "5"}).status_code == 403


def test_anonymous_people_are_sent_to_log_in(client, call):
    response = client.get(reverse("checkout", args=[call.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_erasing_an_account_keeps_the_score_but_not_the_person(circle, call):
    from accounts import privacy
    from journey.services import checkout_submit

    checkout_submit(call=call, user=circle.member, felt_heard=2, helped=["other"], note="private words")
    privacy.erase(user=circle.member)
    checkout = CheckOut.objects.get(call=call)
    assert (checkout.user_id, checkout.note, checkout.felt_heard) == (None, "", 2)
