"""The busiest pages run a fixed number of SQL queries, however much data there is.

Each test measures a page with a small data set, grows the data twenty-fold, and measures again:
the two counts must be equal (no query per row: no N+1) and stay under a stated ceiling.
"""

from datetime import timedelta
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from groups.models import RSVP, Call, Community, Membership
from groups.services.communities import community_create
from groups.services.rsvps import rsvp_set

SMALL, LARGE = 10, 200

# The most queries each page may run, as measured when this test was written (10 and 200 rows alike):
# the directory 3 signed in (1 anonymous), a community page 8 (recent calls, and which of them the
# viewer may still check out of, are one query each), my calls 5, a call page 6 for a member
# going, 7 for one on the waitlist (their position) and 8 for the facilitator (the attendee list and
# the reminders sent).
# A ceiling moves only when a page really needs another query, and never to absorb one per row.
CEILING = {
    "directory": 3,
    "community": 8,
    "my_calls": 5,
    "call": 8,
}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def measure(client, url):
    """(number of queries, the response) for one GET, after a first GET warms per-process caches."""
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return captured, response


def _sql(captured) -> str:
    return "\n".join(query["sql"] for query in captured.captured_queries)


def assert_flat(page, small, large):
    assert len(small) == len(large), (
        f"{page}: {len(small)} queries with {SMALL} rows but {len(large)} with {LARGE}.\n"
        f"--- small ---\n{_sql(small)}\n--- large ---\n{_sql(large)}"
    )
    assert len(large) <= CEILING[page], f"{page}: {len(large)} queries\n{_sql(large)}"


class Calls:
    """A community whose calls the member is going to, with other members going and waiting.

    Every call has 4 seats: the member and three others are going, three more wait. Every fifth call
    is already over (it shows under "Recent"), every seventh is cancelled, and every other call has a
    co-facilitator.
    """

    def __init__(self, circle):
        self.circle = circle
        self.going = [circle.add_member(f"going{i}@example.com") for i in range(3)]
        self.waiting = [circle.add_member(f"waiting{i}@example.com") for i in range(3)]
        self.calls: list[Call] = []
        self.extra = count()

    def grow_to(self, total):
        circle = self.circle
        while len(self.calls) < total:
            index = len(self.calls)
            call = circle.call(
                title=f"Circle {index}",
                starts_in=timedelta(days=1, hours=index),
                capacity=4,
                co_facilitator=circle.co_facilitator if index % 2 else None,
            )
            for person in [circle.member, *self.going, *self.waiting]:
                rsvp_set(call_id=call.pk, user=person, going=True)
            if index % 5 == 4:
                starts = timezone.now() - timedelta(days=1, hours=index)
                Call.objects.filter(pk=call.pk).update(starts_at=starts, ends_at=starts + call.duration)
            elif index % 7 == 6:
                Call.objects.filter(pk=call.pk).update(status=Call.Status.CANCELLED)
            self.calls.append(call)
        return self

    def add_waiting(self, call, people):
        for _ in range(people):
            person = self.circle.add_member(f"extra{next(self.extra)}@example.com")
            rsvp_set(call_id=call.pk, user=person, going=True)


@pytest.fixture
def calls(circle):
    return Calls(circle).grow_to(SMALL)


def test_the_data_is_what_the_tests_say(calls, circle):
    statuses = RSVP.objects.filter(call=calls.calls[1]).values_list("status", flat=True)
    assert sorted(statuses) == ["going"] * 4 + ["waitlisted"] * 3
    assert RSVP.objects.filter(user=circle.member, status=RSVP.Status.GOING).count() == SMALL


def test_community_page_queries_do_not_grow_with_calls(client, calls, circle):
    client.force_login(circle.member)
    url = reverse("community", args=[circle.community.slug])
    small, response = measure(client, url)
    page = response.content.decode()
    # 10 calls: 2 are over and show under "Recent"; of the 8 still ahead 1 is cancelled, 7 say "You are going".
    assert page.count("You are going") == 7
    assert page.count('data-life="ended"') == 2
    calls.grow_to(LARGE)
    large, response = measure(client, url)
    assert response.content.decode().count('class="card call-card') == 12 + 5  # 12 ahead, 5 recent
    assert_flat("community", small, large)


def test_my_calls_queries_do_not_grow_with_calls(client, calls, circle):
    client.force_login(circle.member)
    url = reverse("my_calls")
    small, response = measure(client, url)
    assert response.content.decode().count('class="card call-card') == SMALL
    calls.grow_to(LARGE)
    large, response = measure(client, url)
    assert response.content.decode().count('class="card call-card') == 50 + 20  # upcoming + recent
    assert_flat("my_calls", small, large)


@pytest.mark.parametrize("viewer", ["member", "facilitator", "waiting"])
def test_call_page_queries_do_not_grow_with_calls_or_attendees(client, calls, circle, viewer):
    """The member going, a member on the waitlist, and the facilitator, who sees everyone's names."""
    user = calls.waiting[2] if viewer == "waiting" else getattr(circle, viewer)
    client.force_login(user)
    call = calls.calls[1]  # it has a co-facilitator
    url = reverse("call", args=[call.pk])
    small, response = measure(client, url)
    calls.grow_to(LARGE)
    calls.add_waiting(call, LARGE - SMALL)
    large, response = measure(client, url)
    html = response.content.decode()
    if viewer == "facilitator":
        assert html.count("<li>Extra") == LARGE - SMALL  # every name on the waitlist
    elif viewer == "waiting":
        assert "You are number 3 on the waitlist" in html
    else:
        assert "You are going." in html
    assert_flat("call", small, large)


class Communities:
    """Communities in the directory: listed or not, with members, a next call and the viewer's state.

    The member belongs to every third community, has asked to join every fourth and is banned from
    every tenth (so never sees it); every sixth is unlisted (only its members see it).
    """

    def __init__(self, circle):
        self.circle = circle
        self.people = [circle.add_member(f"people{i}@example.com") for i in range(3)]
        self.made: list[tuple[bool, str | None]] = []  # (unlisted, the member's state)

    def grow_to(self, total):
        circle = self.circle
        while len(self.made) < total:
            index = len(self.made)
            unlisted = index % 6 == 5
            community = community_create(
                owner=circle.owner,
                name=f"Circle {index:03}",
                slug=f"circle-{index:03}",
                description="A circle.",
                visibility=Community.Visibility.UNLISTED if unlisted else Community.Visibility.LISTED,
            )
            for person in self.people:
                Membership.objects.create(community=community, user=person, state=Membership.State.ACTIVE)
            state = None
            if index % 10 == 9:
                state = Membership.State.BANNED
            elif index % 3 == 2:
                state = Membership.State.ACTIVE
            elif index % 4 == 3:
                state = Membership.State.PENDING
            if state:
                Membership.objects.create(community=community, user=circle.member, state=state)
            starts = timezone.now() + timedelta(days=2 + index)
            Call.objects.create(
                community=community,
                format=circle.call_format,
                facilitator=circle.owner,
                title="Next",
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                time_zone="Europe/Berlin",
            )
            self.made.append((unlisted, state))
        return self

    def cards(self, viewer) -> int:
        """How many communities the viewer should see, the circle itself included."""
        if viewer == "anonymous":
            return 1 + sum(not unlisted for unlisted, _state in self.made)
        return 1 + sum(
            state != Membership.State.BANNED and (not unlisted or state == Membership.State.ACTIVE)
            for unlisted, state in self.made
        )

    def memberships(self) -> int:
        return 1 + sum(state == Membership.State.ACTIVE for _unlisted, state in self.made)


@pytest.mark.parametrize("viewer", ["member", "anonymous"])
def test_directory_queries_do_not_grow_with_communities(client, circle, viewer):
    if viewer == "member":
        client.force_login(circle.member)
    url = reverse("directory")
    communities = Communities(circle).grow_to(SMALL)
    small, response = measure(client, url)
    assert response.content.decode().count('<li class="card">') == communities.cards(viewer)
    communities.grow_to(LARGE)
    large, response = measure(client, url)
    html = response.content.decode()
    assert html.count('<li class="card">') == communities.cards(viewer)
    if viewer == "member":
        assert html.count("You are a member") == communities.memberships()
        assert "You asked to join" in html
    assert html.count("Next call:") == communities.cards(viewer) - 1  # the circle has no call yet
    assert_flat("directory", small, large)
