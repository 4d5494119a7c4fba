"""Automated WCAG 2.x A/AA checks with axe-core (bundled in axe-playwright-python), in the light and the
low-light theme: every public and member page, the facilitator's scheduling and moderation pages, and
the live room in the lobby, during a turn and during reflections. A serious or critical violation
fails the test, with the rule, the elements and axe's summary of what to fix."""

import re
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from accounts.models import User
from groups.services.rsvps import rsvp_set
from journey.demo import Attendee
from moderation.services import report_create
from sharing.models import Room
from tests.personas import build_circle

PASSWORD = "attune-test-pw"
THEMES = ["light", "low-light"]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
BLOCKING = {"serious", "critical"}
TIMEOUT = 20_000
AXE = Axe()


@pytest.fixture(autouse=True)
def _patient_expect():
    """The machine running these may be busy: give every expect() more time than its 5-second default."""
    expect.set_options(timeout=TIMEOUT)
    yield
    expect.set_options(timeout=None)


def new_page(browser, site, theme):
    context = browser.new_context(base_url=site.url, viewport={"width": 1100, "height": 900})
    # People who are not logged in choose the theme with the header's button; it is kept in a cookie.
    context.add_cookies([{"name": "theme", "value": theme, "url": site.url}])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    return context, page


def log_in(page, email, name):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(f"Welcome back, {name}.")).to_be_visible()


def describe(violation, where):
    lines = [f"[{where}] {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>"]
    for node in violation["nodes"]:
        target = " ".join(str(part) for part in node["target"])
        summary = " / ".join(line.strip() for line in (node.get("failureSummary") or "").splitlines() if line.strip())
        lines.append(f"    - {target} ({node.get('impact')}): {summary}")
        lines.append(f"      {node.get('html', '')[:200]}")
    return "\n".join(lines)


def scan(page, where, theme):
    """Run axe on what the page shows now; return a description of each serious or critical violation."""
    expect(page.locator("html")).to_have_attribute("data-theme", theme)
    results = AXE.run(page, options=AXE_OPTIONS)
    return [describe(v, where) for v in results.response["violations"] if v["impact"] in BLOCKING]


def visit_and_scan(page, path, where, theme, heading=None):
    page.goto(path)
    if heading:
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    return scan(page, where, theme)


def report(found):
    return f"{len(found)} serious or critical axe violations:\n" + "\n".join(found)


@pytest.mark.parametrize("theme", THEMES)
def test_pages_have_no_serious_or_critical_violations(browser, site, theme):
    circle = build_circle()
    slug = circle.community.slug
    call = circle.call(starts_in=timedelta(days=2))
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    report_create(
        reporter=circle.member,
        subject=circle.co_facilitator,
        reason="other",
        note="Spoke over people twice.",
        community=circle.community,
    )
    jonas = circle.add_member("jonas@example.com", display_name="Jonas")
    aiko = circle.add_member("aiko@example.com", display_name="Aiko")
    # Insights show whole past months, and a call's answers once its check-out has closed.
    for weeks_ago in (7, 6, 5):
        circle.past_call(
            weeks_ago=weeks_ago,
            attendees=[Attendee(person, felt_heard=4, helped=("listened",)) for person in (circle.member, jonas, aiko)],
            segments=[(60, 60), (300, 420)],
        )
    past = circle.past_call(weeks_ago=0.01, attendees=[Attendee(circle.member)])  # check-out still open
    User.objects.update(theme=theme)

    found = []
    contexts = []
    try:
        context, page = new_page(browser, site, theme)
        contexts.append(context)
        found += visit_and_scan(page, "/", "home", theme)
        found += visit_and_scan(page, "/accounts/signup/", "sign-up", theme, "Sign Up")
        # The sign-up form with every error showing (the browser's own checks are left out).
        page.evaluate("() => document.querySelectorAll('form').forEach((form) => { form.noValidate = true; })")
        page.get_by_role("button", name="Sign Up").click()
        expect(page.locator(".errorlist").first).to_be_visible()
        found += scan(page, "sign-up, with errors", theme)
        found += visit_and_scan(page, "/accounts/password/reset/", "password reset", theme, "Forgot your password?")
        found += visit_and_scan(page, "/accounts/login/", "log-in", theme, "Log in")
        page.get_by_label("Email").fill(circle.member.email)
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_text("are not correct")).to_be_visible()
        found += scan(page, "log-in, with an error", theme)

        log_in(page, circle.member.email, "Maya")
        found += scan(page, "home, logged in", theme)
        found += visit_and_scan(page, "/communities/", "community directory", theme, "Communities")
        found += visit_and_scan(page, f"/c/{slug}/", "community page", theme, circle.community.name)
        found += visit_and_scan(page, f"/calls/{call.pk}/", "call page", theme, call.title)
        found += visit_and_scan(page, "/me/calls/", "my calls", theme, "My calls")
        found += visit_and_scan(page, "/accounts/profile/", "profile", theme, "Your profile")
        found += visit_and_scan(page, "/accounts/email/", "email settings", theme, "Your email address")
        found += visit_and_scan(page, "/accounts/password/change/", "password", theme, "Change your password")
        found += visit_and_scan(page, "/accounts/2fa/", "two-factor settings", theme, "Two-factor login")
        setup = "/accounts/2fa/totp/activate/"
        found += visit_and_scan(page, setup, "confirm it is you", theme, "Please confirm it is you")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", name="Set up two-factor login", level=1)).to_be_visible()
        found += scan(page, "two-factor setup", theme)
        found += visit_and_scan(page, "/practice/", "practice, start", theme, "A moment to attune")
        page.get_by_role("button", name="Begin").click()
        expect(page.get_by_text("Step 1 of 5")).to_be_visible()
        found += scan(page, "practice, a step", theme)
        found += visit_and_scan(page, f"/calls/{past.pk}/check-out/", "check-out", theme, "Check out")
        page.get_by_role("button", name="4 ").click()
        expect(page.get_by_text("Thank you. Your answer is saved.")).to_be_visible()
        found += scan(page, "check-out, what helped", theme)
        found += visit_and_scan(page, "/me/journey/", "my journey", theme, "My journey")

        context, page = new_page(browser, site, theme)
        contexts.append(context)
        log_in(page, circle.facilitator.email, "Fran")
        found += visit_and_scan(page, f"/c/{slug}/", "community page, facilitator", theme, circle.community.name)
        found += visit_and_scan(page, f"/calls/{call.pk}/", "call page, facilitator", theme, call.title)
        found += visit_and_scan(page, f"/c/{slug}/series/new/", "schedule a series", theme, "Schedule a series")
        found += visit_and_scan(page, f"/c/{slug}/calls/new/", "schedule a single call", theme, "Schedule a call")
        page.get_by_role("button", name="Schedule the call").click()
        expect(page.locator(".errorlist").first).to_be_visible()
        found += scan(page, "schedule a single call, with errors", theme)
        found += visit_and_scan(page, f"/c/{slug}/insights/", "insights", theme, "Insights")
        found += visit_and_scan(page, f"/c/{slug}/formats/", "call formats", theme, "Call formats")
        found += visit_and_scan(page, f"/c/{slug}/formats/new/", "new format", theme, "New format")
        found += visit_and_scan(page, "/moderation/", "moderation queue", theme, "Moderation")
        expect(page.get_by_role("link", name="Cody")).to_be_visible()  # the open report is listed
        found += visit_and_scan(page, f"/c/{slug}/moderation/", "community moderation queue", theme)
    finally:
        for context in contexts:
            context.close()
    assert not found, report(found)


# The room


def enter_room(page, call_id):
    page.goto(f"/calls/{call_id}/room/")
    expect(page.locator("#connection")).to_be_hidden()


def segment_line(page):
    return page.locator("#segment-line")


@pytest.mark.parametrize("theme", THEMES)
def test_room_has_no_serious_or_critical_violations(browser, site, theme):
    circle = build_circle()
    call = circle.call(starts_in=timedelta(minutes=2), minutes=60)
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    # People who RSVP'd wait in the lobby until the facilitator lets them in.
    Room.objects.create(call=call, auto_admit=False, acting_facilitator=circle.facilitator)
    User.objects.update(theme=theme)

    found = []
    errors = []
    fran_context, fran = new_page(browser, site, theme)
    maya_context, maya = new_page(browser, site, theme)
    for page in (fran, maya):
        page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        log_in(fran, circle.facilitator.email, "Fran")
        log_in(maya, circle.member.email, "Maya")
        enter_room(fran, call.pk)
        enter_room(maya, call.pk)

        # The lobby, as the person waiting and as the facilitator sees it.
        expect(maya.get_by_role("heading", name="Welcome. You are in the lobby.")).to_be_visible()
        attune = maya.get_by_role("link", name=re.compile(r"^Take 2 minutes to attune"))
        expect(attune).to_have_count(1)  # offered once, not by the lobby and the check-in both
        let_in = fran.get_by_role("button", name="Let Maya in")
        expect(let_in).to_be_visible()
        found += scan(maya, "room: lobby, waiting", theme)
        found += scan(fran, "room: lobby, facilitator", theme)

        let_in.click()
        expect(maya.get_by_role("heading", name="Welcome. You are in the lobby.")).to_be_hidden()
        maya.get_by_role("button", name="Turn on sound and microphone").click()
        expect(maya.get_by_role("button", name="Microphone")).to_be_visible()
        expect(attune).to_have_count(1)
        found += scan(maya, "room: admitted, before the start", theme)

        fran.get_by_role("button", name="Start the call").click()
        expect(segment_line(fran)).to_have_text("Arriving")
        fran.get_by_role("button", name="Next segment").click()
        expect(segment_line(fran)).to_have_text("Check-in")
        fran.get_by_role("button", name="Next segment").click()
        expect(segment_line(fran)).to_have_text("Sharing")
        expect(segment_line(maya)).to_have_text("Sharing")

        # A turn: the facilitator speaks first, Maya listens.
        expect(fran.locator("#speaker-line")).to_have_text("Your turn. Take your time.")
        expect(maya.get_by_role("button", name="Resonates")).to_be_visible()
        found += scan(fran, "room: turn, speaking (facilitator)", theme)
        found += scan(maya, "room: turn, listening", theme)

        # "I'm done" with reflections welcome: the reflections follow.
        expect(fran.get_by_role("radio", name="Reflections welcome")).to_be_checked()
        fran.get_by_role("button", name="I'm done").click()
        expect(maya.locator("#speaker-line")).to_have_text("Reflections for Fran")
        expect(maya.get_by_role("button", name="Raise hand")).to_be_visible()
        found += scan(maya, "room: reflections, listener", theme)
        maya.get_by_label("A brief reflection for the person who shared (280 characters)").fill("Thank you, Fran.")
        maya.get_by_role("button", name="Send reflection").click()
        expect(fran.get_by_role("button", name="Show to everyone")).to_be_visible()
        found += scan(fran, "room: reflections, sharer with a reflection", theme)
        fran.get_by_role("button", name="Show to everyone").click()
        expect(maya.locator("#shown-reflections")).to_contain_text("Thank you, Fran.")
        found += scan(maya, "room: reflections, shown to the group", theme)

        # Maya's own turn, typed.
        fran.get_by_role("button", name="Close reflections").click()
        expect(maya.locator("#speaker-line")).to_have_text("Your turn. Take your time.")
        maya.get_by_role("button", name="Type instead").click()
        share_box = maya.get_by_label("Type your share. Everyone sees it as you write; it is not saved.")
        expect(share_box).to_be_focused()
        share_box.press_sequentially("A quieter week.")
        expect(fran.locator("#typed-share-text")).to_have_text("A quieter week.")
        found += scan(maya, "room: turn, speaking and typing", theme)
        found += scan(fran, "room: turn, facilitator reading a typed share", theme)

        # Asking for support opens the private panel with the crisis resources.
        maya.get_by_role("button", name="I need support").click()
        expect(maya.locator("#support-panel")).to_be_visible()
        expect(fran.locator("#support-requests")).to_be_visible()
        found += scan(maya, "room: support panel", theme)
        found += scan(fran, "room: facilitator with a support request", theme)

        fran.get_by_role("button", name="End the call").click()
        fran.get_by_role("button", name="End the call for everyone").click()
        expect(segment_line(maya)).to_have_text("The call has ended. Thank you for being here.")
    finally:
        fran_context.close()
        maya_context.close()
    assert not found, report(found)
    assert errors == []
