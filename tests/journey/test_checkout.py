"""The one-tap check-out after a call: who may answer, what is stored, how changes work, and the
close 48 hours after the call."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from journey.demo import Attendee
from journey.models import CheckOut
from journey.services import checkout_submit, checkouts_tally
from sharing.models import Participant

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

    checkout_submit(call=call, user=circle.member, felt_heard=2, helped=["other"], note="private words")
    privacy.erase(user=circle.member)
    checkout = CheckOut.objects.get(call=call)
    assert (checkout.user_id, checkout.note, checkout.felt_heard) == (None, "", 2)


def test_an_answer_after_48_hours_is_refused_with_a_clear_message_and_changes_nothing(client, circle, call):
    client.force_login(circle.member)
    url = reverse("checkout", args=[call.pk])
    closes = call.ends_at + timedelta(hours=48)
    with time_machine.travel(closes - timedelta(minutes=1), tick=False):
        assert client.post(url, {"felt_heard": "4"}).status_code == 302
    saved = CheckOut.objects.get(call=call)
    with time_machine.travel(closes, tick=False):
        for data in ({"felt_heard": "1"}, {"details": "1", "felt_heard": "1", "helped": ["other"], "note": "late"}):
            response = client.post(url, data)
            assert response.status_code == 400
            text = response.content.decode()
            assert 'role="alert"' in text and "Check-out for this call closed on" in text
            assert "scale-button" not in text, "no form to answer with"
        page = client.get(url)
        assert page.status_code == 200
        text = page.content.decode()
        assert "closed on" in text and "Your answer: 4 of 5" in text and "scale-button" not in text
    assert list(CheckOut.objects.values_list("pk", "felt_heard", "helped", "note", "answered_at")) == [
        (saved.pk, 4, [], "", saved.answered_at)
    ]


def test_nobody_may_answer_once_the_call_is_tallied_even_if_its_time_moves(circle, call):
    checkouts_tally(call_ids=[call.pk], now=call.ends_at + timedelta(hours=48))
    call.ends_at += timedelta(days=7)  # a changed end time does not reopen what was published
    call.save(update_fields=["ends_at"])
    with pytest.raises(ValidationError):
        checkout_submit(call=call, user=circle.member, felt_heard=3)
    assert not CheckOut.objects.exists()


def test_a_facilitator_may_answer_for_their_journey_but_it_never_counts(client, circle, call):
    client.force_login(circle.facilitator)
    url = reverse("checkout", args=[call.pk])
    assert "never counted in the group" in client.get(url).content.decode()
    assert client.post(url, {"felt_heard": "5"}).status_code == 302
    assert CheckOut.objects.get(user=circle.facilitator).as_member is False
    client.force_login(circle.member)
    assert "never counted in the group" not in client.get(url).content.decode()
    client.post(url, {"felt_heard": "2"})
    assert CheckOut.objects.get(user=circle.member).as_member is True


@pytest.mark.parametrize(
    ("who", "role", "counts"),
    [
        ("member", Participant.Role.MEMBER, True),
        ("member", Participant.Role.CO_FACILITATOR, False),  # co-facilitating this call
        ("co_facilitator", Participant.Role.MEMBER, False),  # facilitates the community
        ("staff", Participant.Role.MEMBER, False),  # may open every community's insights
    ],
)
def test_only_members_answers_count(circle, who, role, counts):
    person = getattr(circle, who)
    call = circle.past_call(weeks_ago=0.01)
    Participant.objects.create(
        room_id=call.pk, user=person, role=role, state=Participant.State.ADMITTED, admitted_at=call.starts_at
    )
    assert checkout_submit(call=call, user=person, felt_heard=3).as_member is counts
