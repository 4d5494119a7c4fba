"""Who gets what, for every URL of the whole site, in one table.

The resolver is walked recursively and every named route must have at least one row here, or be a
route of the Django admin, which one explicit rule covers: every admin page is a redirect to the
admin's login for everyone but staff. A route added anywhere without a row fails
test_every_route_has_a_row.

The groups routes are covered in detail by tests/groups/test_permission_matrix.py; this table takes
one representative row per groups route from that file's MATRIX (the first that is not a GET on a
POST-only action), so both tables agree, and adds its own rows for the rest of the site: the site
pages, accounts, allauth's accounts and two-factor pages, moderation and the admin's own login.

Each row names a route, a method and the exact answer for each persona: a status code, LOGIN (a
302 to the login page whose ?next= is the requested path), a redirect (the exact Location, or a
prefix for the rows taken from the groups matrix), or a page (status, template, and text that must
or must not be on it, for pages where showing the wrong people's names would be the failure).

Each row is one test, and each persona one subtest of it, reported on its own. The personas share
the row's objects but not its changes: each one's request runs in a savepoint that is rolled back
(and the cache, a local one, is cleared) before the next, so a POST by one cannot affect another.
Rows whose request closes the database connection (/healthz checks it) run as one test per persona.
"""

from __future__ import annotations

import contextlib
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from journey import services as journey_services
from moderation.models import Report
from sharing import services as room_services
from sharing.routing import websocket_urlpatterns
from tests.groups import test_permission_matrix as groups_matrix
from tests.groups.test_permission_matrix import (
    LOGIN,
    NO_ARGS,
    SLUG,
    Page,
    everyone,
    facilitators,
    owners,
    post_only,
    signed_in,
    world,  # noqa: F401 (a fixture: the groups matrix's objects, which site_world extends)
)

PERSONAS = ("anonymous", "outsider", "member", "facilitator", "owner", "banned", "staff")
PASSWORD = "attune-test-pw"  # tests/conftest.py make_person


# Answers


@dataclass(frozen=True)
class Redirect:
    """A 302 to exactly this Location (or, with prefix, one that starts with it).

    The target is formatted with w (the world) and qpath (the requested path, URL-quoted)."""

    target: str
    prefix: bool = False

    def __repr__(self):
        return f"Redirect({self.target!r}{', prefix' if self.prefix else ''})"


@dataclass(frozen=True)
class Shows:
    """A page with this status (and template), with these texts on it and those absent."""

    status: int = 200
    template: str | None = None
    present: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()


@dataclass(frozen=True)
class RedirectMatching:
    """A 302 whose whole Location matches this regular expression (for a new object's address)."""

    pattern: str


def go(target):
    return Redirect(target)


REAUTH = Redirect("/accounts/reauthenticate/?next={qpath}")  # allauth asks for the password again


def _project(expect: dict) -> dict:
    """The groups matrix's answers for this table's personas; its redirects are prefixes."""
    return {
        persona: Redirect(answer, prefix=True) if isinstance(answer, str) else answer
        for persona, answer in expect.items()
        if persona in PERSONAS
    }


def mine(expect: dict) -> dict:
    """This table's personas from the shared builders (which also answer for `pending`)."""
    return {persona: expect[persona] for persona in PERSONAS}


def staff_only(ok):
    return mine(facilitators(ok, facilitator=403, owner=403))


def option(name):
    return f">{name}</option>"


def link(name):
    return f">{name}</a>"


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    args: Any  # world -> reverse() args
    expect: dict
    data: Any = None  # world -> POST data
    query: Any = None  # world -> query string parameters
    headers: dict = field(default_factory=dict, compare=False)
    settings: dict = field(default_factory=dict, compare=False)  # overridden for this row
    variant: str = ""
    alone: bool = False  # one test per persona: the request closes the database connection
    note: str = field(default="", compare=False)

    @property
    def label(self) -> str:
        return f"{self.name}.{self.variant or self.method.lower()}"


def _from_groups(row) -> Row:
    return Row(row.name, row.method, row.args, _project(row.expect), data=row.data, variant=row.variant)


def _representative(rows):
    """The first row of a route that is not a GET on a POST-only action (that row, if none is)."""
    for row in rows:
        if set(row.expect.values()) - {405, LOGIN}:
            return row
    return rows[0]


GROUPS_ROWS = [
    _from_groups(_representative([row for row in groups_matrix.MATRIX if row.name == name]))
    for name in dict.fromkeys(row.name for row in groups_matrix.MATRIX)
]

BAD_KEY = ("bad-key",)

METRICS_TOKEN = "metrics-token-for-the-url-matrix-0123456789"
SCRAPER = {"METRICS_TOKEN": METRICS_TOKEN}

SITE_ROWS = [
    Row("home", "GET", NO_ARGS, mine(everyone(200))),
    Row("healthz", "GET", NO_ARGS, mine(everyone(200)), alone=True),
    # /metrics is off until an operator sets METRICS_TOKEN; then only the bearer of that token
    # reads it, whoever is signed in.
    Row("metrics", "GET", NO_ARGS, mine(everyone(404))),
    Row("metrics", "GET", NO_ARGS, mine(everyone(401)), settings=SCRAPER, variant="no_token"),
    Row(
        "metrics",
        "GET",
        NO_ARGS,
        mine(everyone(401)),
        settings=SCRAPER,
        headers={"Authorization": "Bearer not-the-token"},
        variant="wrong_token",
    ),
    Row(
        "metrics",
        "GET",
        NO_ARGS,
        mine(everyone(200)),
        settings=SCRAPER,
        headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
        variant="right_token",
    ),
    Row("privacy", "GET", NO_ARGS, mine(everyone(200))),
    Row("javascript-catalog", "GET", NO_ARGS, mine(everyone(200))),
]

ACCOUNT_ROWS = [
    Row("profile", "GET", NO_ARGS, mine(signed_in(200, banned=200))),
    Row("set_theme", "GET", NO_ARGS, mine(everyone(405))),
    Row(
        "set_theme",
        "POST",
        NO_ARGS,
        mine(everyone(go("/privacy/"))),
        data=lambda w: {"theme": "low-light", "next": "/privacy/"},
    ),
    Row(
        "set_theme",
        "POST",
        NO_ARGS,
        # Never an open redirect: a foreign `next` goes home.
        mine(everyone(go("/"))),
        data=lambda w: {"theme": "low-light", "next": "https://evil.example/"},
        variant="foreign_next",
    ),
    Row("my_data", "GET", NO_ARGS, mine(signed_in(200, banned=200))),
    Row("export_data", "GET", NO_ARGS, mine(signed_in(200, banned=200))),
    Row("delete_account", "GET", NO_ARGS, mine(post_only())),
    Row(
        "delete_account",
        "POST",
        NO_ARGS,
        # A wrong password changes nothing and says so on the data page.
        mine(signed_in(go("/accounts/data/"), banned=go("/accounts/data/"))),
        data=lambda w: {"password": "not-the-password"},
    ),
]

# allauth's pages. Signed-in people are sent home from the login and sign-up pages. Login by code,
# password reset by code, phone numbers, passkeys and WebAuthn are off, so allauth registers none of
# their routes (account_request_login_code, account_verify_phone, mfa_list_webauthn...): their
# addresses are plain 404s for everyone (test_allauth_features_that_are_off_have_no_routes). The
# two confirmation routes that remain (a login code, the two-factor stage) have nothing pending for
# these personas and redirect. Recovery codes: the personas' TOTP devices were activated directly,
# without recovery codes, so those pages are 404 (allauth's answer when there are none).
ALLAUTH_ROWS = [
    Row("account_login", "GET", NO_ARGS, mine(everyone(go("/"), anonymous=200))),
    Row("account_logout", "GET", NO_ARGS, mine(everyone(200, anonymous=go("/")))),
    Row("account_logout", "POST", NO_ARGS, mine(everyone(go("/"))), data=lambda w: {}),
    Row("account_inactive", "GET", NO_ARGS, mine(everyone(200))),
    Row("account_signup", "GET", NO_ARGS, mine(everyone(go("/"), anonymous=200))),
    Row("account_reauthenticate", "GET", NO_ARGS, mine(signed_in(200, banned=200))),
    Row("account_request_reauthentication_code", "GET", NO_ARGS, mine(signed_in(200, banned=200))),
    Row(
        "account_confirm_reauthentication_code",
        "GET",
        NO_ARGS,
        mine(signed_in(go("/accounts/reauthenticate/code/"), banned=go("/accounts/reauthenticate/code/"))),
    ),
    Row("account_email", "GET", NO_ARGS, mine(signed_in(200, banned=200))),
    Row("account_email_verification_sent", "GET", NO_ARGS, mine(everyone(200))),
    Row("account_change_password", "GET", NO_ARGS, mine(signed_in(200, banned=200))),
    Row(
        "account_set_password",
        "GET",
        NO_ARGS,
        # Everyone here has a password: setting one is changing it.
        mine(signed_in(go("/accounts/password/change/"), banned=go("/accounts/password/change/"))),
    ),
    Row("account_reset_password", "GET", NO_ARGS, mine(everyone(200))),
    Row("account_confirm_login_code", "GET", NO_ARGS, mine(everyone(go("/"), anonymous=go("/accounts/login/")))),
    Row(
        "account_confirm_email",
        "GET",
        lambda w: BAD_KEY,
        # A key that was never issued confirms nothing, for anyone.
        mine(everyone(Shows(200, "account/email_confirm.html", present=("This link no longer works",)))),
    ),
    Row("account_confirm_email", "POST", lambda w: BAD_KEY, mine(everyone(404)), data=lambda w: {}, variant="post"),
    Row("account_reset_password_from_key_done", "GET", NO_ARGS, mine(everyone(200))),
    Row(
        "account_reset_password_from_key",
        "GET",
        lambda w: ("1", "bad-key"),
        mine(everyone(Shows(200, "account/password_reset_from_key.html", present=("This link no longer works",)))),
    ),
    Row("account_reset_password_done", "GET", NO_ARGS, mine(everyone(200))),
    Row("mfa_index", "GET", NO_ARGS, mine(signed_in(200, banned=200))),
    Row("mfa_authenticate", "GET", NO_ARGS, mine(everyone(go("/"), anonymous=go("/accounts/login/")))),
    Row(
        "mfa_reauthenticate",
        "GET",
        NO_ARGS,
        # Only people with a device can reauthenticate with it; the others are sent to the password.
        mine(signed_in(go("/accounts/reauthenticate/"), banned=go("/accounts/reauthenticate/"), owner=200, staff=200)),
    ),
    Row("mfa_activate_totp", "GET", NO_ARGS, mine(signed_in(REAUTH, banned=REAUTH))),
    Row("mfa_deactivate_totp", "GET", NO_ARGS, mine(signed_in(404, banned=404, owner=REAUTH, staff=REAUTH))),
    Row("mfa_view_recovery_codes", "GET", NO_ARGS, mine(signed_in(404, banned=404))),
    Row("mfa_generate_recovery_codes", "GET", NO_ARGS, mine(signed_in(REAUTH, banned=REAUTH))),
    Row("mfa_download_recovery_codes", "GET", NO_ARGS, mine(signed_in(404, banned=404))),
]

REPORT_FORM = "moderation/report_form.html"
NOBODY_FROM_THE_CALL = Shows(200, REPORT_FORM, absent=(option("Maya"), option("Fran")))

MODERATION_ROWS = [
    Row("report", "GET", NO_ARGS, mine(signed_in(Page(REPORT_FORM), banned=Page(REPORT_FORM)))),
    Row(
        "report",
        "GET",
        NO_ARGS,
        # Reporting from a call lists the people who were in it, so only the people who were in
        # it may see that list. Fran and Maya were in the room; the others were not, and must not
        # learn who was (moderation/selectors.py people_to_report).
        {
            "anonymous": LOGIN,
            "outsider": NOBODY_FROM_THE_CALL,
            "member": Shows(200, REPORT_FORM, present=(option("Fran"),)),
            "facilitator": Shows(200, REPORT_FORM, present=(option("Maya"),)),
            "owner": NOBODY_FROM_THE_CALL,
            "banned": NOBODY_FROM_THE_CALL,
            "staff": NOBODY_FROM_THE_CALL,
        },
        query=lambda w: {"call": w.open_call.pk},
        variant="from_a_call",
    ),
    Row(
        "moderation_queue",
        "GET",
        NO_ARGS,
        # Moderators see their communities' reports, except reports about themselves.
        mine(
            facilitators(
                Shows(present=(link("Cody"), link("Fran"))),
                facilitator=Shows(present=(link("Cody"),), absent=(link("Fran"),)),
            )
        ),
    ),
    Row("report_detail", "GET", lambda w: (w.report.pk,), mine(facilitators(200))),
    Row(
        "report_detail",
        "GET",
        lambda w: (w.report_about_facilitator.pk,),
        mine(facilitators(200, facilitator=403)),
        variant="about_the_facilitator",
    ),
    Row("report_detail", "GET", lambda w: (10**6,), mine(signed_in(404, banned=404)), variant="unknown"),
    Row("audit_log", "GET", NO_ARGS, staff_only(200)),
    Row("community_moderation", "GET", SLUG, mine(facilitators(200))),
    Row("community_audit", "GET", SLUG, mine(owners(200))),
    Row("member_ban", "GET", lambda w: (w.slug, w.member_membership.pk), mine(facilitators(200))),
    Row(
        "member_ban",
        "POST",
        lambda w: (w.slug, w.member_membership.pk),
        mine(facilitators(go("/c/hands-at-rest/members/"))),
        data=lambda w: {"reason": "Unkind words", "days": ""},
    ),
    Row(
        "member_ban",
        "POST",
        lambda w: (w.slug, w.co_facilitator_membership.pk),
        # Only owners ban facilitators.
        mine(owners(go("/c/hands-at-rest/members/"))),
        data=lambda w: {"reason": "Unkind words", "days": "7"},
        variant="a_facilitator",
    ),
    Row("crisis", "GET", NO_ARGS, mine(everyone(200))),
    # A person's page: for the people who share a community with them, themselves and staff.
    Row("person", "GET", lambda w: (w.circle.member.pk,), mine(signed_in(200, outsider=403))),
    Row(
        "person",
        "GET",
        lambda w: (w.circle.outsider.pk,),
        mine(signed_in(403, outsider=200, staff=200)),
        variant="in_no_community",
    ),
    Row("person", "GET", lambda w: (10**6,), mine(signed_in(404, banned=404)), variant="unknown"),
]

# The admin's own login and logout; every other admin route follows admin_rule (below).
STAFF_CREDENTIALS = {"username": "staff@example.com", "password": PASSWORD}
# The admin's login form must not be a way around two-factor login: people sign in through allauth
# (which asks staff for their code), and the admin only lets staff through (attunement_site/urls.py
# and test_signing_in_through_the_admin_asks_staff_for_their_second_factor).
ADMIN_LOGIN = {
    "anonymous": LOGIN,
    "outsider": 403,
    "member": 403,
    "facilitator": 403,
    "owner": 403,
    "banned": 403,
    "staff": go("/admin/"),
}
ADMIN_ROWS = [
    Row("admin:login", "GET", NO_ARGS, ADMIN_LOGIN),
    Row(
        "admin:login",
        "POST",
        NO_ARGS,
        # Staff, already signed in (with their code), may sign in again; Django then goes home.
        {**ADMIN_LOGIN, "staff": go("/")},
        data=lambda w: STAFF_CREDENTIALS,
        variant="staff_password",
    ),
    Row("admin:logout", "GET", NO_ARGS, mine(everyone(go("/admin/"), staff=405))),
    Row("admin:logout", "POST", NO_ARGS, mine(everyone(go("/admin/"), staff=200)), data=lambda w: {}),
]

EXTRA_GROUPS_ROWS = [
    Row(
        "series_edit",
        "GET",
        lambda w: (w.series.pk,),
        # ?from= names a call of the series; anything else, a value that is not a number too, is
        # not found (never a 500).
        mine(facilitators(404)),
        query=lambda w: {"from": "not-a-number"},
        variant="from_not_a_number",
    ),
]

# Before and after the call. The practice and My journey are anyone's who is signed in, banned
# or not, but a practice and its notes are only their writer's: everyone else gets "not found",
# never "forbidden". Maya (member) wrote the practice in the world. The check-out is for the people
# admitted to the call (Fran and Maya); the insights are for the community's facilitators.
NOTE_TEXT = "My shoulders drop when I breathe out"
JOURNEY = "/me/journey/#practice-title"
NEW_PRACTICE = RedirectMatching(r"/practice/[0-9]+/step/1/")
MAYAS = mine(signed_in(404, banned=404, member=200))
CHECKOUT_PAGE = "journey/checkout.html"
CHECKOUT_CLOSED = Shows(403, "journey/checkout_closed.html")
CHECKOUT_ROW = {
    "anonymous": LOGIN,
    "outsider": CHECKOUT_CLOSED,
    "member": Page(CHECKOUT_PAGE),
    "facilitator": Page(CHECKOUT_PAGE),
    "owner": CHECKOUT_CLOSED,
    "banned": CHECKOUT_CLOSED,
    "staff": CHECKOUT_CLOSED,
}


def _closed_to_others(answer):
    """The check-out's answer for the two who were admitted to the call; closed to the others."""
    return {**CHECKOUT_ROW, "member": answer, "facilitator": answer}


JOURNEY_ROWS = [
    Row(
        "practice",
        "GET",
        NO_ARGS,
        mine(signed_in(Page("journey/practice_start.html"), banned=Page("journey/practice_start.html"))),
    ),
    Row(
        "practice",
        "POST",
        NO_ARGS,
        # Each person starts a practice of their own and goes to its first step.
        mine(signed_in(NEW_PRACTICE, banned=NEW_PRACTICE)),
        data=lambda w: {},
    ),
    Row("practice_step", "GET", lambda w: (w.practice.pk, 1), MAYAS),
    Row(
        "practice_step",
        "POST",
        lambda w: (w.practice.pk, 1),
        mine(signed_in(404, banned=404, member=go("/practice/{w.practice.pk}/step/2/"))),
        data=lambda w: {"note": "A new note", "step": "1", "direction": "next"},
    ),
    Row("practice_step", "GET", lambda w: (w.practice.pk, 6), mine(signed_in(404, banned=404)), variant="no_such_step"),
    Row("practice_done", "GET", lambda w: (w.practice.pk,), MAYAS),
    Row("practice_done", "POST", lambda w: (w.practice.pk,), mine(signed_in(405, banned=405)), data=lambda w: {}),
    Row(
        "my_journey",
        "GET",
        NO_ARGS,
        # Everyone sees their own journey, and only Maya's has her note on it.
        mine(
            signed_in(
                Shows(template="journey/my_journey.html", absent=(NOTE_TEXT,)),
                banned=Shows(template="journey/my_journey.html", absent=(NOTE_TEXT,)),
                member=Shows(template="journey/my_journey.html", present=(NOTE_TEXT,)),
            )
        ),
    ),
    Row("my_journey", "POST", NO_ARGS, mine(signed_in(405, banned=405)), data=lambda w: {}),
    Row("journey_note_delete", "GET", lambda w: (w.note.pk,), mine(post_only())),
    Row(
        "journey_note_delete",
        "POST",
        lambda w: (w.note.pk,),
        mine(signed_in(404, banned=404, member=go(JOURNEY))),
        data=lambda w: {},
    ),
    Row("journey_practice_delete", "GET", lambda w: (w.practice.pk,), mine(post_only())),
    Row(
        "journey_practice_delete",
        "POST",
        lambda w: (w.practice.pk,),
        mine(signed_in(404, banned=404, member=go(JOURNEY))),
        data=lambda w: {},
    ),
    Row("checkout", "GET", lambda w: (w.open_call.pk,), CHECKOUT_ROW),
    Row(
        "checkout",
        "POST",
        lambda w: (w.open_call.pk,),
        # The one tap: the answer is kept and the page says thank you.
        _closed_to_others(go("/calls/{w.open_call.pk}/check-out/?answered=1")),
        data=lambda w: {"felt_heard": "4"},
    ),
    Row(
        "checkout",
        "POST",
        lambda w: (w.open_call.pk,),
        _closed_to_others(Shows(400, CHECKOUT_PAGE, present=("Please choose a number from 1 to 5.",))),
        data=lambda w: {"felt_heard": "not-a-number"},
        variant="bad_answer",
    ),
    Row("checkout", "GET", lambda w: (10**6,), mine(signed_in(404, banned=404)), variant="unknown"),
    Row("insights", "GET", SLUG, mine(facilitators(Page("journey/insights.html")))),
    Row(
        "insights",
        "GET",
        SLUG,
        # A period that is not a number is the default period, not an error.
        mine(facilitators(Page("journey/insights.html"))),
        query=lambda w: {"months": "not-a-number"},
        variant="bad_period",
    ),
    Row("insights_csv", "GET", SLUG, mine(facilitators(200))),
]

MATRIX: list[Row] = [
    *SITE_ROWS,
    *ACCOUNT_ROWS,
    *ALLAUTH_ROWS,
    *GROUPS_ROWS,
    *EXTRA_GROUPS_ROWS,
    *MODERATION_ROWS,
    *JOURNEY_ROWS,
    *ADMIN_ROWS,
]

ROWS = [pytest.param(row, id=row.label) for row in MATRIX if not row.alone]
ALONE = [pytest.param(row, persona, id=f"{row.label}-{persona}") for row in MATRIX if row.alone for persona in PERSONAS]


# The Django admin: one rule for every admin route except its login and logout.

ADMIN_NAMESPACE = "admin"
ADMIN_PREFIX = "admin/"
ADMIN_WITH_ROWS = {"admin:login", "admin:logout"}


def admin_rule(persona, path):
    """Every admin page is a 302 to the admin's login (with ?next=) for everyone but staff."""
    if persona == "staff":
        return None  # the page itself: checked per sample
    return Redirect("/admin/login/?next={path}")


ADMIN_SAMPLES = [
    # (route name or None for the unnamed catch-all, world -> path, what staff get)
    ("admin:index", lambda w: reverse("admin:index"), 200),
    ("admin:groups_community_changelist", lambda w: reverse("admin:groups_community_changelist"), 200),
    (
        "admin:groups_community_change",
        lambda w: reverse("admin:groups_community_change", args=(w.circle.community.pk,)),
        200,
    ),
    ("admin:accounts_user_change", lambda w: reverse("admin:accounts_user_change", args=(w.circle.member.pk,)), 200),
    ("admin:moderation_report_changelist", lambda w: reverse("admin:moderation_report_changelist"), 200),
    ("admin:password_change", lambda w: reverse("admin:password_change"), 200),
    (None, lambda w: "/admin/no-such-page/", 404),
]


# The objects every row needs.


@pytest.fixture
def site_world(world):  # noqa: F811 (the groups matrix's fixture, extended)
    """The groups matrix's world, plus reports, a room in which Fran and Maya took part, and Maya's
    practice with a note."""
    circle = world.circle
    room_services.room_enter(call_id=world.open_call.pk, user=circle.facilitator)
    room_services.room_enter(call_id=world.open_call.pk, user=circle.member)
    report = Report.objects.create(
        reporter=circle.member,
        subject=circle.co_facilitator,
        community=circle.community,
        reason=Report.Reason.HARASSMENT,
        note="Interrupted twice.",
    )
    about_facilitator = Report.objects.create(
        reporter=circle.member,
        subject=circle.facilitator,
        community=circle.community,
        reason=Report.Reason.OTHER,
        note="Ran over time.",
    )
    practice = journey_services.practice_start(user=circle.member)
    note = journey_services.practice_note(practice=practice, step=1, text=NOTE_TEXT)
    return SimpleNamespace(
        **vars(world), report=report, report_about_facilitator=about_facilitator, practice=practice, note=note
    )


def _client(w, persona) -> Client:
    client = Client(raise_request_exception=False)  # a 500 is an answer to compare, not a crash
    if persona != "anonymous":
        client.force_login(getattr(w.circle, persona))
    return client


def _request(client, method, path, query=None, data=None, headers=None):
    if query:
        path = f"{path}?{urlencode(query)}"
    if method == "GET":
        return client.get(path, headers=headers)
    return client.post(path, data or {}, headers=headers)


def check(response, expected, *, requested: str, w):
    location = response.headers.get("Location", "")
    answer = f"{response.status_code} {location}".strip()
    if expected is LOGIN:
        parts = urlsplit(location)
        assert (response.status_code, parts.path) == (302, "/accounts/login/"), answer
        assert parse_qs(parts.query).get("next") == [requested], answer
    elif isinstance(expected, Redirect):
        target = expected.target.format(w=w, qpath=quote(requested, safe=""), path=requested)
        assert response.status_code == 302, f"expected a redirect to {target}, got {answer}"
        if expected.prefix:
            assert location.startswith(target), answer
            assert not location.startswith("/accounts/login/"), answer
        else:
            assert location == target, answer
    elif isinstance(expected, RedirectMatching):
        assert response.status_code == 302, f"expected a redirect matching {expected.pattern}, got {answer}"
        assert re.fullmatch(expected.pattern, location), answer
    elif isinstance(expected, Page):
        assert response.status_code == 200, answer
        assert expected.template in [t.name for t in response.templates]
    elif isinstance(expected, Shows):
        assert response.status_code == expected.status, answer
        if expected.template:
            assert expected.template in [t.name for t in response.templates]
        body = response.content.decode()
        for text in expected.present:
            assert text in body, f"{text!r} is missing"
        for text in expected.absent:
            assert text not in body, f"{text!r} must not be shown to this persona"
    else:
        assert response.status_code == expected, answer


# The table covers the whole site.


def walk(resolver, prefix="", namespace=""):
    """Every URL pattern under a resolver: (full name or None, full pattern)."""
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from walk(entry, pattern, inner)
        else:
            assert isinstance(entry, URLPattern)
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield name, pattern


def _routes():
    found = list(walk(get_resolver()))
    named = {name: pattern for name, pattern in found if name}
    unnamed = [pattern for name, pattern in found if not name]
    return named, unnamed


def _is_admin(name):
    return name.split(":")[0] == ADMIN_NAMESPACE


def test_every_route_has_a_row():
    named, unnamed = _routes()
    assert "home" in named and "account_login" in named and "admin:index" in named, "the walk found the site"
    # The only unnamed patterns are the admin's (its catch-all and object redirects): the admin rule covers them.
    assert [pattern for pattern in unnamed if not pattern.startswith(ADMIN_PREFIX)] == []
    admin = {name for name in named if _is_admin(name)}
    assert all(named[name].startswith(ADMIN_PREFIX) for name in admin)
    routes = set(named) - admin
    covered = {row.name for row in MATRIX} - ADMIN_WITH_ROWS
    missing = {name: named[name] for name in sorted(routes - covered)}
    assert not missing, f"routes without a row: {missing}"
    assert covered - routes == set(), f"rows for routes that do not exist: {sorted(covered - routes)}"
    assert admin >= ADMIN_WITH_ROWS
    sampled = {name for name, _path, _staff in ADMIN_SAMPLES if name}
    assert sampled <= admin, "the admin samples are real admin routes"


def test_every_groups_route_comes_from_the_groups_matrix():
    groups_routes = {pattern.name for pattern in groups_matrix.groups_urls.urlpatterns} | groups_matrix.EXTRA_ROUTES
    assert {row.name for row in GROUPS_ROWS} == groups_routes


def test_every_row_answers_for_every_persona():
    for row in MATRIX:
        assert set(row.expect) == set(PERSONAS), row.label
    labels = [row.label for row in MATRIX]
    assert len(labels) == len(set(labels)), "two rows share a label"


DISABLED_ALLAUTH = {
    # route name: the path it would have
    "account_request_login_code": "/accounts/login/code/",
    "account_confirm_password_reset_code": "/accounts/password/reset/confirm/",
    "account_verify_phone": "/accounts/phone/verify/",
    "account_signup_by_passkey": "/accounts/signup/passkey/",
    "mfa_list_webauthn": "/accounts/2fa/webauthn/",
    "mfa_signup_webauthn": "/accounts/2fa/webauthn/signup/",
}


@pytest.mark.parametrize("persona", ["anonymous", "member", "staff"])
def test_allauth_features_that_are_off_have_no_routes(site_world, persona):
    """Login by code, password reset by code, phones, passkeys and WebAuthn are off: allauth
    registers none of their routes, so their addresses are 404 for everyone."""
    named, _unnamed = _routes()
    assert set(DISABLED_ALLAUTH).isdisjoint(named)
    client = _client(site_world, persona)
    for path in DISABLED_ALLAUTH.values():
        assert client.get(path).status_code == 404, path


def test_socket_routes_are_known():
    """The room socket is not in the URLconf; its access rules are tested in tests/sharing/.
    A new socket route needs tests of who may connect, like tests/sharing/test_consumer.py's."""
    assert [str(pattern.pattern) for pattern in websocket_urlpatterns] == ["ws/calls/<int:call_id>/"]


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """A cache of this process's own: each persona starts from an empty one, and clearing it seven
    times a row never flushes a Redis database that other test runs may be sharing."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


class _Undo(Exception):
    pass


@contextmanager
def undone():
    """Run a persona's request in a savepoint that is rolled back afterwards, with a fresh cache."""
    cache.clear()
    with contextlib.suppress(_Undo), transaction.atomic():
        yield
        raise _Undo


def ask(w, row, persona):
    client = _client(w, persona)
    path = reverse(row.name, args=row.args(w))
    assert resolve(path).view_name == row.name
    query = row.query(w) if row.query else None
    with override_settings(**row.settings):
        response = _request(client, row.method, path, query, row.data(w) if row.data else None, row.headers)
    requested = f"{path}?{urlencode(query)}" if query else path
    check(response, row.expect[persona], requested=requested, w=w)


@pytest.mark.parametrize("row", ROWS)
def test_url_matrix(site_world, row, subtests):
    for persona in PERSONAS:
        with subtests.test(persona=persona), undone():
            ask(site_world, row, persona)


@pytest.mark.parametrize(("row", "persona"), ALONE)
def test_url_matrix_alone(site_world, row, persona):
    ask(site_world, row, persona)


@pytest.mark.parametrize(
    ("name", "path", "staff_answer"), ADMIN_SAMPLES, ids=[n or "catch-all" for n, *_ in ADMIN_SAMPLES]
)
def test_admin_rule(site_world, name, path, staff_answer, subtests):
    target = path(site_world)
    if name:
        assert resolve(target).view_name == name
    for persona in PERSONAS:
        with subtests.test(persona=persona), undone():
            response = _client(site_world, persona).get(target)
            check(response, admin_rule(persona, target) or staff_answer, requested=target, w=site_world)


def test_signing_in_through_the_admin_asks_staff_for_their_second_factor(site_world):
    """The admin login is not a way around two-factor login: after posting the staff password
    there, nobody is signed in (allauth's login asks for the code)."""
    client = Client()
    client.post(reverse("admin:login"), STAFF_CREDENTIALS)
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("admin:index")).status_code == 302
