from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone

from core import two_factor
from groups.models import Membership
from tests.conftest import enable_two_factor, make_person

ACTIVATE = "/accounts/2fa/totp/activate/"


def _new_owner(circle, email="newowner@example.com"):
    newcomer = make_person(email)
    Membership.objects.create(
        community=circle.community, user=newcomer, role="owner", state="active", accepted_agreements_version=1
    )
    return newcomer


def test_a_new_owner_has_a_week_with_a_banner_then_is_sent_to_set_it_up_and_back(client, circle):
    newcomer = _new_owner(circle)
    client.force_login(newcomer)
    page = client.get("/communities/")
    assert page.status_code == 200  # not trapped: every page works during the grace
    text = page.content.decode()
    assert "needs two-factor login" in text
    assert f'href="{ACTIVATE}?next=/communities/"' in text
    assert two_factor.missing(newcomer)  # the room still asks for it before facilitator powers

    with time_machine.travel(timezone.now() + two_factor.GRACE + timedelta(minutes=1)):
        two_factor.forget(newcomer.pk)
        response = client.get("/me/calls/?x=1")
        assert response.status_code == 302
        assert response["Location"] == ACTIVATE
        assert client.session["two_factor_return"] == "/me/calls/?x=1"
        assert client.get(ACTIVATE).status_code in {200, 302}  # the setup itself is allowed
        assert client.get("/accounts/logout/").status_code in {200, 302}

        enable_two_factor(newcomer)
        two_factor.forget(newcomer.pk)
        done = client.get(reverse("mfa_index"))  # where activation ends (or at the recovery codes)
        assert done.status_code == 200
        assert 'href="/me/calls/?x=1"' in done.content.decode()  # the way back to where they were
        page = client.get("/me/calls/?x=1")
        assert page.status_code == 200 and "needs two-factor login" not in page.content.decode()
        assert "two_factor_return" not in client.session


def test_the_banners_link_remembers_the_page_and_ignores_other_sites(client, circle):
    newcomer = _new_owner(circle)
    client.force_login(newcomer)
    client.get(f"{ACTIVATE}?next=https://evil.example/")
    assert "two_factor_return" not in client.session
    client.get(f"{ACTIVATE}?next=/communities/")
    assert client.session["two_factor_return"] == "/communities/"


def test_staff_without_two_factor_are_sent_to_set_it_up_at_once(client, circle):
    staff = make_person("staff3@example.com", is_staff=True)
    client.force_login(staff)
    response = client.get("/communities/")
    assert response.status_code == 302 and response["Location"] == ACTIVATE


def test_members_are_not_asked_and_owners_with_two_factor_pass(client, circle):
    client.force_login(circle.member)
    assert client.get("/communities/").status_code == 200
    client.force_login(circle.owner)  # has two-factor login
    assert client.get("/communities/").status_code == 200


def test_two_factor_is_offered_to_everyone(client, circle):
    client.force_login(circle.member)
    assert client.get("/accounts/2fa/").status_code == 200
