import re

import pytest
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.core import mail

from accounts.models import SiteBan, User

SIGNUP = {
    "email": "new@example.com",
    "display_name": "Robin",
    "time_zone": "America/New_York",
    "password1": "a-long-calm-passphrase",
    "password2": "a-long-calm-passphrase",
}


@pytest.mark.django_db
def test_sign_up_then_verify_then_log_in(client):
    response = client.post("/accounts/signup/", SIGNUP)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"

    user = User.objects.get(email="new@example.com")
    assert user.display_name == "Robin"
    assert user.time_zone == "America/New_York"
    assert EmailAddress.objects.get(user=user).verified is False

    # Unverified people cannot log in yet: they are sent back to verify.
    client.logout()
    response = client.post("/accounts/login/", {"login": "new@example.com", "password": SIGNUP["password1"]})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session

    assert len(mail.outbox) >= 1
    link = re.search(r"http://testserver(/accounts/confirm-email/[^/\s]+/)", mail.outbox[-1].body).group(1)
    response = client.post(link)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified is True

    client.logout()
    response = client.post("/accounts/login/", {"login": "NEW@example.com", "password": SIGNUP["password1"]})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_sign_up_rejects_an_unknown_time_zone_and_creates_nothing(client):
    response = client.post("/accounts/signup/", {**SIGNUP, "time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "Mars/Olympus is not one of the available choices" in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_sign_up_needs_a_display_name(client):
    response = client.post("/accounts/signup/", {**SIGNUP, "display_name": "   "})
    assert response.status_code == 200
    assert not User.objects.exists()


@pytest.mark.django_db
def test_sign_up_page_offers_every_time_zone_and_says_pseudonyms_are_fine(client):
    html = client.get("/accounts/signup/").content.decode()
    assert "data-detect-time-zone" in html
    assert '<option value="Europe/Berlin">' in html
    assert "pseudonym is fine" in html


@pytest.mark.django_db
def test_email_addresses_are_unique_regardless_of_case(client, person):
    person("taken@example.com")
    response = client.post("/accounts/signup/", {**SIGNUP, "email": "Taken@Example.com"})
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1
    assert response.status_code in {200, 302}


@pytest.fixture
def banned_address(db):
    SiteBan.objects.create(email="gone@example.com", reason="Threats")
    return "gone@example.com"


def _answer(response):
    return response.status_code, response.get("Location")


@pytest.mark.django_db
def test_signing_up_with_a_banned_address_is_answered_like_an_address_in_use(client, person, banned_address):
    person("taken@example.com")
    in_use = client.post("/accounts/signup/", {**SIGNUP, "email": "taken@example.com"})
    client.logout()
    mail.outbox.clear()

    banned = client.post("/accounts/signup/", {**SIGNUP, "email": "Gone@Example.com"}, follow=True)

    assert banned.redirect_chain[0] == (in_use["Location"], 302) == ("/accounts/confirm-email/", 302)
    page = banned.content.decode()
    assert "cannot be used" not in page and "banned" not in page.lower()
    assert not User.objects.filter(email__iexact=banned_address).exists()
    assert not EmailAddress.objects.filter(email__iexact=banned_address).exists()
    # One email, to the address itself: it may know, no one else may.
    assert [message.to for message in mail.outbox] == [[banned_address]]
    assert "cannot be used here" in mail.outbox[0].body
    assert "/accounts/confirm-email/" not in mail.outbox[0].body


@pytest.mark.django_db
def test_adding_a_banned_address_is_answered_like_an_address_in_use(client, person, banned_address):
    robin = person("robin@example.com")
    person("taken@example.com")
    client.force_login(robin)
    in_use = client.post("/accounts/email/", {"action_add": "", "email": "taken@example.com"})
    mail.outbox.clear()

    banned = client.post("/accounts/email/", {"action_add": "", "email": banned_address}, follow=True)

    assert _answer(in_use) == (302, "/accounts/email/") == (banned.redirect_chain[0][1], banned.redirect_chain[0][0])
    page = banned.content.decode()
    assert "cannot be used" not in page and "banned" not in page.lower()
    assert f"We sent a link to {banned_address}: open it to confirm the address." in page
    address = EmailAddress.objects.get(email=banned_address)
    assert (address.user, address.verified) == (robin, False)
    assert [message.to for message in mail.outbox] == [[banned_address]]
    assert "cannot be used here" in mail.outbox[0].body
    assert "/accounts/confirm-email/" not in mail.outbox[0].body
    # Even a confirmation link made for it would not make it usable.
    key = EmailConfirmationHMAC(address).key
    client.post(f"/accounts/confirm-email/{key}/")
    address.refresh_from_db()
    robin.refresh_from_db()
    assert address.verified is False and robin.email == "robin@example.com"
