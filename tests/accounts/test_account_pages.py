"""Every account page a person meets speaks in the product's voice: it extends the site's base,
has one heading, labels each control, and none of allauth's default wording is left; the emails
those pages send are ours too."""

import re
import time
from html.parser import HTMLParser

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail

from tests.conftest import TEST_TOTP_SECRET, enable_two_factor, make_person, totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "attune-test-pw"
DEFAULT_WORDING = [  # as allauth writes them, in title case
    "Sign In",
    "Sign Out",
    "Sign Up",
    "Remember Me",
    "Password Reset",
    "Reset My Password",
    "Change Password",
    "Bad Token",
    "Confirm Email Address",
    "Verify Your Email Address",
    "Confirm Access",
    "Two-Factor Authentication",
    "Authenticator App",
    "Activate",
    "Deactivate",
    "Recovery Codes",
    "Are you sure",
    "Please contact us",
    "Hello from",
    "Thank you for using",
]


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.h1 = 0
        self.labels: set[str] = set()
        self.controls: list[dict] = []
        self.skip_link = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h1":
            self.h1 += 1
        elif tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])
        elif tag in {"select", "textarea"} or (
            tag == "input" and attrs.get("type") not in {"hidden", "submit", "button"}
        ):
            self.controls.append(attrs)
        elif tag == "a" and "skip-link" in (attrs.get("class") or ""):
            self.skip_link = True


def assert_ours(response, heading):
    assert response.status_code == 200, response
    html = response.content.decode()
    found = [words for words in DEFAULT_WORDING if words in html]
    assert not found, f"allauth's wording on {response.request['PATH_INFO']}: {found}"
    page = Page()
    page.feed(html)
    assert page.skip_link, "the page does not extend the site's base"
    assert page.h1 == 1 and f"<h1>{heading}</h1>" in html, re.findall(r"<h1.*?</h1>", html, re.DOTALL)
    unlabelled = [c for c in page.controls if c.get("id") not in page.labels and not c.get("aria-label")]
    assert not unlabelled, unlabelled
    return html


def assert_email_ours(message):
    text = message.subject + message.body
    assert not [words for words in DEFAULT_WORDING if words in text], text
    assert "Attunement: small circles" in message.body


def test_a_forgotten_password_is_reset_in_our_voice(client):
    make_person("maya@example.com", display_name="Maya", password=PASSWORD)
    assert_ours(client.get("/accounts/password/reset/"), "Forgot your password?")

    done = client.post("/accounts/password/reset/", {"email": "maya@example.com"}, follow=True)
    assert_ours(done, "Check your email")
    message = mail.outbox[-1]
    assert message.subject == "[Attunement] A link to choose a new password"
    assert_email_ours(message)
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", message.body).group(1)

    form = client.get(link, follow=True)
    assert_ours(form, "Choose a new password")
    saved = client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link,
        {"password1": "a-new-calm-passphrase", "password2": "a-new-calm-passphrase"},
        follow=True,
    )
    assert_ours(saved, "Your new password is saved")
    assert_ours(client.get(link, follow=True), "This link no longer works")

    client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    unknown = mail.outbox[-1]
    assert unknown.to == ["nobody@example.com"] and "No account uses this address" in unknown.body
    assert_email_ours(unknown)


def test_confirming_an_email_address_and_logging_out_speak_plainly(client):
    client.post(
        "/accounts/signup/",
        {
            "email": "new@example.com",
            "display_name": "Robin",
            "time_zone": "UTC",
            "password1": "a-long-calm-passphrase",
            "password2": "a-long-calm-passphrase",
        },
    )
    assert_ours(client.get("/accounts/confirm-email/"), "Check your email")
    link = re.search(r"http://testserver(/accounts/confirm-email/[^/\s]+/)", mail.outbox[-1].body).group(1)
    html = assert_ours(client.get(link), "Confirm your email address")
    assert "new@example.com" in html
    assert_ours(client.get("/accounts/confirm-email/not-a-key/"), "This link no longer works")
    client.post(link)
    assert "Thank you: new@example.com is confirmed." in client.get("/").content.decode()
    assert_ours(client.get("/accounts/logout/"), "Log out")
    client.post("/accounts/logout/")
    assert "You are logged out. Take care." in client.get("/").content.decode()

    make_person("maya@example.com", display_name="Maya")
    client.post(  # the address is taken: an email to it says so, and the page says nothing
        "/accounts/signup/",
        {
            "email": "maya@example.com",
            "display_name": "Robin",
            "time_zone": "UTC",
            "password1": "another-calm-passphrase",
            "password2": "another-calm-passphrase",
        },
    )
    taken = mail.outbox[-1]
    assert taken.to == ["maya@example.com"] and "already uses this address" in taken.body
    assert_email_ours(taken)


def test_setting_up_two_factor_login_and_its_recovery_codes_speak_plainly(client):
    make_person("fran@example.com", display_name="Fran", password=PASSWORD)
    client.post("/accounts/login/", {"login": "fran@example.com", "password": PASSWORD})
    assert_ours(client.get("/accounts/2fa/"), "Two-factor login")

    again = client.get("/accounts/2fa/totp/activate/", follow=True)
    assert_ours(again, "Please confirm it is you")
    setup = client.post(again.redirect_chain[-1][0], {"password": PASSWORD}, follow=True)
    html = assert_ours(setup, "Set up two-factor login")
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', html).group(1)
    assert 'alt="QR code for your authenticator app.' in html
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    codes = client.post("/accounts/2fa/totp/activate/", {"code": code}, follow=True)
    html = assert_ours(codes, "Your recovery codes")
    assert html.count("<li><code>") == 10  # its message, sent after commit, is read by the browser test

    assert_ours(client.get("/accounts/2fa/"), "Two-factor login")
    assert_ours(client.get("/accounts/2fa/recovery-codes/generate/"), "Make new recovery codes")
    assert_ours(client.get("/accounts/2fa/totp/deactivate/"), "Turn off two-factor login?")


def test_logging_in_with_two_factor_asks_for_the_code_in_our_voice(client):
    fran = enable_two_factor(make_person("fran@example.com", display_name="Fran", password=PASSWORD))
    step = client.post("/accounts/login/", {"login": "fran@example.com", "password": PASSWORD}, follow=True)
    assert_ours(step, "One more step to log in")
    assert Authenticator.objects.filter(user=fran).exists()
    client.post("/accounts/2fa/authenticate/", {"code": totp_code(TEST_TOTP_SECRET)})
    assert "_auth_user_id" in client.session
    assert_ours(client.get("/accounts/2fa/reauthenticate/"), "Please confirm it is you")


def test_the_password_and_email_settings_speak_plainly(client):
    make_person("maya@example.com", display_name="Maya", password=PASSWORD)
    client.post("/accounts/login/", {"login": "maya@example.com", "password": PASSWORD})
    assert_ours(client.get("/accounts/password/change/"), "Change your password")
    html = assert_ours(client.get("/accounts/email/"), "Your email address")
    assert "We write to <strong>maya@example.com</strong>" in html
    pending = client.post("/accounts/email/", {"action_add": "", "email": "maya@new.example"}, follow=True)
    html = assert_ours(pending, "Your email address")
    assert "We sent a link to <strong>maya@new.example</strong>" in html
    changed = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "a-new-calm-passphrase", "password2": "a-new-calm-passphrase"},
        follow=True,
    )
    assert "Your new password is saved." in changed.content.decode()
