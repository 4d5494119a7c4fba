"""The product's voice on the pages around the product: the profile's checkboxes beside their own
labels, the verification email, the greeting of a brand-new member and the home page's next step."""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.core import mail

from groups.models import RSVP
from tests.accounts.test_signup import SIGNUP
from tests.conftest import make_person

pytestmark = pytest.mark.django_db


class Sequence(HTMLParser):
    """The start tags of a page in order, as (tag, attributes)."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_each_profile_checkbox_sits_right_before_its_own_label(client, circle):
    client.force_login(circle.member)
    parser = Sequence()
    parser.feed(client.get("/accounts/profile/").content.decode())
    boxes = [i for i, (tag, attrs) in enumerate(parser.tags) if tag == "input" and attrs.get("type") == "checkbox"]
    assert len(boxes) >= 4
    for i in boxes:
        box = parser.tags[i][1]
        tag, attrs = parser.tags[i + 1]
        assert (tag, attrs.get("for")) == ("label", box["id"]), f"{box['name']} is followed by {tag} {attrs}"


def test_signing_up_sends_a_verification_email_in_our_voice_and_greets_a_new_member(client):
    client.post("/accounts/signup/", SIGNUP)
    message = mail.outbox[-1]
    assert "Hello from" not in message.body and "Thank you for using" not in message.body
    assert "Welcome to Attunement." in message.body
    assert message.subject == "[Attunement] Welcome: please confirm your email address"
    link = re.search(r"http://testserver(/accounts/confirm-email/[^/\s]+/)", message.body).group(1)

    client.post(link)  # confirming logs the new member in
    first = client.get("/").content.decode()
    assert "Welcome, Robin." in first and "Welcome back" not in first
    assert "Find a community" in first  # the next step for someone in no community yet
    assert "Welcome back, Robin." in client.get("/").content.decode()


def test_the_home_page_offers_a_signed_in_member_their_next_call(client, circle):
    call = circle.call(starts_in=timedelta(days=1), title="Tuesday circle")
    RSVP.objects.create(call=call, user=circle.member, status=RSVP.Status.GOING)
    client.force_login(circle.member)
    page = client.get("/").content.decode()
    assert "Welcome back, Maya." in page or "Welcome back," in page
    assert "Your next call:" in page and f'href="/calls/{call.pk}/"' in page
    assert f"/practice/?call={call.pk}" in page

    lone = make_person("lone@example.com")
    client.force_login(lone)
    assert "Find a community" in client.get("/").content.decode()


def test_log_in_sign_up_and_reauthenticate_pages_speak_plainly(client, circle):
    login = client.get("/accounts/login/").content.decode()
    assert "<h1>Log in</h1>" in login and ">Log in</button>" in login
    assert "Remember Me" not in login and "Sign In" not in login
    assert "Keep me logged in on this device" in login
    signup = client.get("/accounts/signup/").content.decode()
    assert "<h1>Sign up</h1>" in signup and "Sign Up" not in signup
    assert "pseudonym is fine" in signup and "data-detect-time-zone" in signup
    wrong = client.post("/accounts/login/", {"login": circle.member.email, "password": "nope"})
    assert wrong.status_code == 200 and "are not correct" in wrong.content.decode()
    right = client.post("/accounts/login/", {"login": circle.member.email, "password": "attune-test-pw"})
    assert right.status_code == 302
    again = client.get("/accounts/reauthenticate/").content.decode()
    assert "Please confirm it is you" in again and "Confirm Access" not in again
