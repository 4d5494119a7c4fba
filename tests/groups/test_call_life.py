"""A call's whole life on every page: scheduled, open, live, ended (by the clock or by the
facilitator) and cancelled, on the call page, "My calls" and the community page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.models import RSVP, Call
from journey.models import CheckOut
from tests.rooms import Room

pytestmark = pytest.mark.django_db


def sections(html: str) -> tuple[str, str]:
    """The page split at its "Recent" heading: (before, recent)."""
    before, _, recent = html.partition('id="recent-title"')
    return before, recent


def page(client, name, **kwargs):
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200
    return response.content.decode()


def test_a_call_the_facilitator_ended_early_is_recent_everywhere_and_offers_check_out(client, room: Room):
    room.enter(room.facilitator, room.maya)
    room.act(room.facilitator, "call.start")
    room.act(room.facilitator, "call.end")
    call = Call.objects.get(pk=room.call.pk)
    assert call.ended_at is not None and call.ends_at > timezone.now()  # ended before its scheduled end
    assert call.life(timezone.now()) == "ended"

    client.force_login(room.maya)
    mine = page(client, "my_calls")
    coming, recent = sections(mine)
    assert "Circle" not in coming
    assert "Circle" in recent and "Ended" in recent
    assert reverse("checkout", args=[call.pk]) in recent
    assert "You are going" not in mine

    coming, recent = sections(page(client, "community", slug=room.circle.community.slug))
    assert f'href="/calls/{call.pk}/"' not in coming
    assert f'href="/calls/{call.pk}/"' in recent

    detail = page(client, "call", call_id=call.pk)
    assert "This call has ended." in detail
    assert "Join the call" not in detail
    assert "I&#x27;m going" not in detail and "Seats left" not in detail
    assert reverse("checkout", args=[call.pk]) in detail
    assert not call.rsvp_open(timezone.now()) and not call.join_open(timezone.now())


def test_check_out_is_offered_only_to_people_who_were_in_the_call_and_until_it_closes(client, room: Room):
    room.enter(room.facilitator, room.maya)
    room.act(room.facilitator, "call.start")
    room.act(room.facilitator, "call.end")
    checkout = reverse("checkout", args=[room.call.pk])

    client.force_login(room.jonas)  # going, but never came in
    assert checkout not in page(client, "my_calls")

    client.force_login(room.maya)
    CheckOut.objects.create(call=room.call, user=room.maya, felt_heard=4)
    assert checkout not in page(client, "my_calls")  # already answered
    CheckOut.objects.all().delete()
    assert checkout in page(client, "my_calls")

    # 48 hours after the scheduled end, check-out has closed.
    moved = timezone.now() - timedelta(hours=49) - room.call.duration
    Call.objects.filter(pk=room.call.pk).update(starts_at=moved, ends_at=moved + room.call.duration)
    mine = page(client, "my_calls")
    assert "Circle" in sections(mine)[1]
    assert checkout not in mine


@pytest.mark.parametrize(
    ("starts_in", "life", "label"),
    [
        (timedelta(days=2), "scheduled", None),
        (timedelta(minutes=5), "open", "The room is open"),
        (timedelta(minutes=-5), "live", "Happening now"),
        (timedelta(hours=-3), "ended", "Ended"),
    ],
)
def test_each_moment_of_a_call_shows_on_every_page(client, circle, starts_in, life, label):
    call = circle.call(starts_in=starts_in, minutes=75)
    RSVP.objects.create(call=call, user=circle.member, status=RSVP.Status.GOING)
    assert call.life(timezone.now()) == life
    client.force_login(circle.member)
    for html in (page(client, "my_calls"), page(client, "community", slug=circle.community.slug)):
        if life == "ended":
            assert 'data-life="ended"' in sections(html)[1]
        elif label:
            assert label in sections(html)[0]
    detail = page(client, "call", call_id=call.pk)
    if life == "ended":
        assert "This call has ended." in detail and "Join the call" not in detail
    if life == "live":
        assert "This call is happening now." in detail


def test_a_cancelled_call_says_so_and_offers_nothing(client, circle):
    call = circle.call()
    Call.objects.filter(pk=call.pk).update(status=Call.Status.CANCELLED)
    client.force_login(circle.member)
    assert "Cancelled" in page(client, "community", slug=circle.community.slug)
    detail = page(client, "call", call_id=call.pk)
    assert "This call was cancelled." in detail and "Join the call" not in detail
    assert "I&#x27;m going" not in detail
