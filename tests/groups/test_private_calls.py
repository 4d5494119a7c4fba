"""Call pages and calendar files of unlisted and invitation-only communities are for their members.

Call ids count up, so anyone could walk them: a private community's name and its facilitators' names
must not be readable by someone outside it. Public communities stay open to everyone.
"""

from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.models import Community
from groups.recurrence import Recurrence
from groups.services.scheduling import CallDetails, series_create

pytestmark = pytest.mark.django_db

KINDS = {
    "public": {},
    "unlisted": {"visibility": Community.Visibility.UNLISTED},
    "invite-only": {"join_policy": Community.JoinPolicy.INVITE},
}
# Who may read a private community's calls; everyone not banned reads a public one's.
READS = {"anonymous": False, "outsider": False, "pending": False, "member": True, "facilitator": True, "staff": True}
SECRETS = ("Hands at rest", "Fran")  # the community's name and the facilitator's


def _series(circle):
    first = timezone.localdate() + timedelta(days=3)
    return series_create(
        community=circle.community,
        actor=circle.facilitator,
        details=CallDetails(
            title="Weekly circle",
            format=circle.call_format,
            facilitator=circle.facilitator,
            co_facilitator=None,
            duration_minutes=75,
            capacity=8,
        ),
        recurrence=Recurrence(
            time_zone="Europe/Berlin",
            start_date=first,
            start_time=time(18, 0),
            weekdays=(first.weekday(),),
            ends="after_count",
            count=2,
        ),
    )


def _paths(circle):
    call = circle.call(title="One-off circle")
    return {
        "call": reverse("call", args=[call.pk]),
        "call_ics": reverse("call_ics", args=[call.pk]),
        "series_ics": reverse("series_ics", args=[_series(circle).pk]),
    }


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("persona", list(READS))
def test_call_pages_and_calendar_files_of_private_communities_are_for_members(client, circle, kind, persona):
    Community.objects.filter(pk=circle.community.pk).update(**KINDS[kind])
    paths = _paths(circle)
    if persona != "anonymous":
        client.force_login(getattr(circle, persona))
    may_read = kind == "public" or READS[persona]
    for name, path in paths.items():
        response = client.get(path)
        body = response.content.decode()
        if may_read:
            assert response.status_code == 200, (name, response.status_code)
            assert "Hands at rest" in body or name == "series_ics", name
            continue
        if persona == "anonymous":
            assert response.status_code == 302, name
            assert response["Location"] == f"/accounts/login/?next={path}", name
        else:
            # The same answer as for a call that does not exist.
            assert response.status_code == 404, name
        for secret in SECRETS:
            assert secret not in body, (name, secret)


def test_a_member_who_was_sent_to_log_in_comes_back_to_the_call(client, circle):
    Community.objects.filter(pk=circle.community.pk).update(visibility=Community.Visibility.UNLISTED)
    path = _paths(circle)["call"]
    response = client.get(path)
    assert response.status_code == 302
    response = client.post(
        response["Location"], {"login": "member@example.com", "password": "attune-test-pw"}, follow=True
    )
    assert response.redirect_chain[-1][0] == path
    assert "Fran" in response.content.decode()


def test_an_unknown_call_is_a_plain_404_for_everyone(client, circle):
    Community.objects.filter(pk=circle.community.pk).update(join_policy=Community.JoinPolicy.INVITE)
    path = reverse("call", args=[circle.call().pk + 10_000])
    assert client.get(path).status_code == 404
    client.force_login(circle.outsider)
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("kind", ["unlisted", "invite-only"])
def test_a_private_community_page_lists_its_calls_to_members_only(client, circle, kind):
    Community.objects.filter(pk=circle.community.pk).update(**KINDS[kind])
    call = circle.call(title="One-off circle")
    page = reverse("community", args=[circle.community.slug])
    for persona in ("anonymous", "outsider", "pending"):
        client.logout()
        if persona != "anonymous":
            client.force_login(getattr(circle, persona))
        body = client.get(page).content.decode()
        assert "One-off circle" not in body and reverse("call", args=[call.pk]) not in body, persona
        assert "calls are for its members." in body, persona
    client.force_login(circle.member)
    assert reverse("call", args=[call.pk]) in client.get(page).content.decode()
