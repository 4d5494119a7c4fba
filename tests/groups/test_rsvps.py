import functools
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from groups import selectors
from groups.models import RSVP, Notification
from groups.services import rsvps
from groups.services.communities import agreements_publish
from groups.services.rsvps import AgreementsNeeded, rsvp_set


def statuses(call):
    return dict(RSVP.objects.filter(call=call).values_list("user__email", "status"))


def test_going_takes_a_seat_until_full_then_the_waitlist_in_order(circle):
    call = circle.call(capacity=2)
    people = [circle.member, *(circle.add_member(f"m{n}@example.com") for n in range(3))]
    results = [rsvp_set(call_id=call.pk, user=person, going=True) for person in people]
    assert [rsvp.status for rsvp in results] == ["going", "going", "waitlisted", "waitlisted"]
    assert selectors.waitlist_position(results[2]) == 1
    assert selectors.waitlist_position(results[3]) == 2
    assert selectors.waitlist_position(results[0]) is None


def test_saying_going_twice_changes_nothing(circle):
    call = circle.call()
    first = rsvp_set(call_id=call.pk, user=circle.member, going=True)
    again = rsvp_set(call_id=call.pk, user=circle.member, going=True)
    assert (again.pk, again.status, again.responded_at) == (first.pk, "going", first.responded_at)


def test_a_freed_seat_goes_to_the_first_person_waiting_who_is_told(circle):
    call = circle.call(capacity=2)
    seated = circle.add_member("seated@example.com")
    waiting = circle.add_member("waiting@example.com")
    later = circle.add_member("later@example.com")
    rsvp_set(call_id=call.pk, user=seated, going=True)
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    rsvp_set(call_id=call.pk, user=waiting, going=True)
    rsvp_set(call_id=call.pk, user=later, going=True)
    rsvp_set(call_id=call.pk, user=circle.member, going=False)
    assert statuses(call) == {
        "seated@example.com": "going",
        "member@example.com": "not_going",
        "waiting@example.com": "going",
        "later@example.com": "waitlisted",
    }
    promotions = Notification.objects.filter(call=call, kind="waitlist_promoted")
    assert list(promotions.values_list("recipient__email", flat=True)) == ["waiting@example.com"]
    assert selectors.waitlist_position(RSVP.objects.get(call=call, user=later)) == 1


def test_leaving_the_waitlist_promotes_nobody(circle):
    call = circle.call(capacity=2)
    waiting = circle.add_member("waiting@example.com")
    rsvp_set(call_id=call.pk, user=circle.add_member("seated@example.com"), going=True)
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    rsvp_set(call_id=call.pk, user=waiting, going=True)
    rsvp_set(call_id=call.pk, user=waiting, going=False)
    assert statuses(call)["member@example.com"] == "going"
    assert not Notification.objects.filter(kind="waitlist_promoted").exists()


def test_rsvp_closes_when_the_call_starts(circle):
    call = circle.call(starts_in=timedelta(minutes=-1))
    with pytest.raises(ValidationError, match="closed when the call started"):
        rsvp_set(call_id=call.pk, user=circle.member, going=True)
    assert not RSVP.objects.exists()


def test_cancelled_calls_take_no_rsvps(circle):
    call = circle.call(status="cancelled")
    with pytest.raises(ValidationError, match="cancelled"):
        rsvp_set(call_id=call.pk, user=circle.member, going=True)


@pytest.mark.parametrize("persona", ["outsider", "pending", "banned"])
def test_only_active_members_rsvp(circle, persona):
    call = circle.call()
    with pytest.raises(PermissionDenied):
        rsvp_set(call_id=call.pk, user=getattr(circle, persona), going=True)
    assert not RSVP.objects.exists()


def test_members_accept_the_agreements_before_their_first_call_and_again_after_a_change(circle):
    call = circle.call()
    newcomer = circle.add_member("new@example.com")
    rsvp_set(call_id=call.pk, user=newcomer, going=True)
    agreements_publish(community=circle.community, actor=circle.facilitator, text="Be kind.\nPassing is fine.")
    with pytest.raises(AgreementsNeeded):
        rsvp_set(call_id=circle.call().pk, user=circle.member, going=True)


def test_facilitators_of_the_call_have_their_place_already(circle):
    call = circle.call()
    with pytest.raises(ValidationError, match="facilitating"):
        rsvp_set(call_id=call.pk, user=circle.facilitator, going=True)


def test_rsvp_page_updates_in_place_for_scripts_and_redirects_otherwise(client, circle):
    call = circle.call(capacity=2)
    client.force_login(circle.member)
    response = client.post(f"/calls/{call.pk}/rsvp/", {"going": "yes"}, headers={"X-Fragment": "rsvp"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-fragment="rsvp"' in html
    assert "You are going." in html
    assert "<html" not in html
    response = client.post(f"/calls/{call.pk}/rsvp/", {"going": "no"})
    assert response.status_code == 302
    assert statuses(call) == {"member@example.com": "not_going"}


def test_rsvp_before_accepting_agreements_leads_to_them_and_back(client, circle):
    call = circle.call()
    newcomer = circle.add_member("new@example.com")
    agreements_publish(community=circle.community, actor=circle.facilitator, text="Listen.\nPass if you like.")
    client.force_login(newcomer)
    response = client.post(f"/calls/{call.pk}/rsvp/", {"going": "yes"})
    assert response.status_code == 302
    assert response["Location"] == f"/c/{circle.community.slug}/agreements/?next=%2Fcalls%2F{call.pk}%2F"
    response = client.post(
        f"/c/{circle.community.slug}/agreements/",
        {"version": circle.community.agreements_version, "accept": "on", "next": f"/calls/{call.pk}/"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/calls/{call.pk}/"
    client.post(f"/calls/{call.pk}/rsvp/", {"going": "yes"})
    assert statuses(call) == {"new@example.com": "going"}


def _run_concurrently(jobs):
    barrier = threading.Barrier(len(jobs))

    def run(job):
        barrier.wait()
        try:
            return job()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_rsvps_for_the_last_seat_never_overbook(circle):
    for attempt in range(5):
        call = circle.call(capacity=3, title=f"Attempt {attempt}")
        for n in range(2):
            rsvp_set(call_id=call.pk, user=circle.add_member(f"seated{attempt}-{n}@example.com"), going=True)
        racers = [circle.add_member(f"racer{attempt}-{n}@example.com") for n in range(8)]
        jobs = [functools.partial(rsvp_set, call_id=call.pk, user=racer, going=True) for racer in racers]
        results = _run_concurrently(jobs)
        assert sorted(rsvp.status for rsvp in results) == ["going"] + ["waitlisted"] * 7
        assert RSVP.objects.filter(call=call, status="going").count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_each_freed_seat_promotes_exactly_one_person_under_concurrency(circle):
    call = circle.call(capacity=4)
    seated = [circle.add_member(f"seated{n}@example.com") for n in range(4)]
    waiting = [circle.add_member(f"waiting{n}@example.com") for n in range(6)]
    newcomers = [circle.add_member(f"newcomer{n}@example.com") for n in range(3)]
    for person in seated + waiting:
        rsvp_set(call_id=call.pk, user=person, going=True)
    leavers = seated[:3]
    jobs = [lambda person=person: rsvp_set(call_id=call.pk, user=person, going=False) for person in leavers]
    jobs += [lambda person=person: rsvp_set(call_id=call.pk, user=person, going=True) for person in newcomers]
    _run_concurrently(jobs)
    going = set(RSVP.objects.filter(call=call, status="going").values_list("user__email", flat=True))
    assert len(going) == 4
    # The three freed seats went to the first three people waiting, not to the newcomers.
    assert going == {
        "seated3@example.com",
        "waiting0@example.com",
        "waiting1@example.com",
        "waiting2@example.com",
    }
    promotions = Notification.objects.filter(call=call, kind="waitlist_promoted")
    assert promotions.count() == 3
    assert RSVP.objects.filter(call=call, promoted_at__isnull=False).count() == 3
    assert timezone.now() > RSVP.objects.filter(call=call, promoted_at__isnull=False).first().promoted_at - timedelta(
        minutes=1
    )


class _SlowClock:
    """timezone for the RSVP service whose now() is read, then the thread pauses a little, as a
    request can be descheduled right after reading the clock."""

    def __init__(self):
        self.random = random.Random(14)
        self.lock = threading.Lock()

    def now(self):
        moment = timezone.now()
        with self.lock:
            pause = self.random.uniform(0, 0.03)
        time.sleep(pause)
        return moment


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_waitlist_positions_follow_the_order_in_which_requests_got_the_lock(circle, monkeypatch):
    monkeypatch.setattr(rsvps, "timezone", _SlowClock())
    for attempt in range(3):
        call = circle.call(capacity=2, title=f"Attempt {attempt}")
        for n in range(2):
            rsvp_set(call_id=call.pk, user=circle.add_member(f"seated{attempt}-{n}@example.com"), going=True)
        racers = [circle.add_member(f"racer{attempt}-{n}@example.com") for n in range(8)]
        _run_concurrently([functools.partial(rsvp_set, call_id=call.pk, user=racer, going=True) for racer in racers])
        # Each RSVP row is inserted while its request holds the call's lock, so row ids are lock order.
        lock_order = list(
            RSVP.objects.filter(call=call, status="waitlisted").order_by("pk").values_list("pk", flat=True)
        )
        positions = list(
            RSVP.objects.filter(call=call, status="waitlisted").order_by("waitlisted_at").values_list("pk", flat=True)
        )
        assert len(lock_order) == 8
        assert positions == lock_order, f"attempt {attempt}: waitlist {positions} but lock order {lock_order}"
