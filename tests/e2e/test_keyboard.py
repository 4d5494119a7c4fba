"""Keyboard only: a member with no pointer logs in, finds a call, RSVPs, joins the room, resonates,
passes, takes turns (by shortcut and by Tab and Enter), types a share and leaves, with nothing but
key presses. The facilitator, in a second browser, drives the call with the mouse. Along the way:
the skip link is the first Tab stop and moves focus to the main content, every focused control shows
a visible focus indicator with enough contrast, and the focus is never dropped to the page when the
control that had it disappears or is re-rendered (the member's "I'm done" and "Pass", the facilitator's
lobby, order and support lists)."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from groups.services.rsvps import rsvp_set
from sharing.models import Room
from tests.personas import build_circle

PASSWORD = "attune-test-pw"
TIMEOUT = 20_000
BETWEEN_SEGMENTS_TIMEOUT = 20_000


@pytest.fixture(autouse=True)
def _patient_expect():
    """The machine running these may be busy: give every expect() more time than its 5-second default."""
    expect.set_options(timeout=TIMEOUT)
    yield
    expect.set_options(timeout=None)


# What a keyboard user has focused: its tag, id, and accessible name as a person hears it (text that
# is aria-hidden, such as the shortcut letters on the room's buttons, left out).
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  let name = el.getAttribute("aria-label") || "";
  if (!name && el.labels && el.labels.length) name = el.labels[0].textContent;
  if (!name && ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName)) name = el.getAttribute("placeholder") || "";
  if (!name) {
    const copy = el.cloneNode(true);
    copy.querySelectorAll("[aria-hidden=true]").forEach((hidden) => hidden.remove());
    name = copy.textContent;
  }
  return { tag: el.tagName.toLowerCase(), id: el.id, name: name.replace(/\\s+/g, " ").trim() };
}"""

# The focused element's outline, and its contrast with the background around it (WCAG 2.4.7, 1.4.11).
FOCUS_RING = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const rgb = (color) => (color.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  let around = el.parentElement;
  let background = "rgb(255, 255, 255)";
  while (around) {
    const color = getComputedStyle(around).backgroundColor;
    const parts = rgb(color);
    if (parts.length >= 3 && (parts.length === 3 || parts[3] > 0)) { background = color; break; }
    around = around.parentElement;
  }
  const [a, b] = [luminance(rgb(style.outlineColor)), luminance(rgb(background))];
  const box = el.getBoundingClientRect();
  return {
    style: style.outlineStyle,
    width: parseFloat(style.outlineWidth) || 0,
    color: style.outlineColor,
    background,
    contrast: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
    visible: box.width > 0 && box.height > 0 && box.bottom > 0 && box.top < window.innerHeight,
  };
}"""


def focused(page):
    return page.evaluate(FOCUSED)


def move_focus(page, name, *, backwards=False, limit=80):
    """Press Tab (or Shift+Tab) until the control called `name` has focus, as a keyboard user would."""
    key = "Shift+Tab" if backwards else "Tab"
    stops = []
    for _ in range(limit):
        page.keyboard.press(key)
        now = focused(page)
        stops.append(now and f"{now['tag']}#{now['id']} {now['name']!r}")
        if now and now["name"] == name:
            return now
    raise AssertionError(f"{name!r} is not reachable with {key}; the stops were:\n" + "\n".join(map(str, stops)))


def focus_kept_in(page, scope):
    """After a control disappears (its job done, or the list re-rendered), the focus must not be dropped
    to the page: a screen reader would lose its place and the next Tab would start over."""
    where = page.evaluate(
        """(scope) => {
            const el = document.activeElement;
            const kept = el && el !== document.body && document.querySelector(scope).contains(el);
            return { kept, focused: el ? el.outerHTML.slice(0, 120) : null };
        }""",
        scope,
    )
    assert where["kept"], f"focus was dropped out of {scope}: {where['focused']}"


def check_focus_ring(page, what):
    ring = page.evaluate(FOCUS_RING)
    assert ring["visible"], f"{what}: the focused element is off screen: {ring}"
    assert ring["style"] != "none" and ring["width"] >= 2, f"{what}: no visible focus indicator: {ring}"
    assert ring["contrast"] >= 3, f"{what}: the focus indicator has too little contrast: {ring}"


def assert_round(page, name, status):
    """Where someone stands in the round, as the server's latest snapshot says."""
    page.wait_for_function(
        """([name, status]) => window.attunementRoom?.state?.participants
            .some((p) => p.name === name && p.round === status)""",
        arg=[name, status],
    )


def test_a_member_takes_part_in_a_call_with_the_keyboard_alone(browser, site):
    circle = build_circle()
    call = circle.call(starts_in=timedelta(minutes=2), minutes=60, title="Tuesday circle")

    fran_context = browser.new_context(base_url=site.url, viewport={"width": 1100, "height": 900})
    maya_context = browser.new_context(base_url=site.url, viewport={"width": 1100, "height": 900})
    errors = []
    try:
        # The facilitator opens the room first, with the mouse.
        fran = fran_context.new_page()
        fran.set_default_timeout(TIMEOUT)
        fran.goto("/accounts/login/")
        fran.get_by_label("Email").fill(circle.facilitator.email)
        fran.get_by_label("Password").fill(PASSWORD)
        fran.get_by_role("button", name="Log in").click()
        expect(fran.get_by_text("Welcome back, Fran.")).to_be_visible()
        fran.goto(f"/calls/{call.pk}/room/")
        expect(fran.locator("#connection")).to_be_hidden()

        maya = maya_context.new_page()
        maya.set_default_timeout(TIMEOUT)
        maya.on("pageerror", lambda error: errors.append(str(error)))
        keys = maya.keyboard

        # The skip link is the first Tab stop; it is visible when focused and moves focus to the main content.
        maya.goto("/")
        keys.press("Tab")
        skip = maya.get_by_role("link", name="Skip to main content")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()
        check_focus_ring(maya, "skip link")
        keys.press("Enter")
        assert maya.evaluate("() => document.activeElement.id") == "main"
        stop = move_focus(maya, "Log in")
        assert maya.evaluate("() => document.querySelector('#main').contains(document.activeElement)"), stop
        check_focus_ring(maya, "a link styled as a button")

        # Log in.
        keys.press("Enter")
        expect(maya.get_by_role("heading", name="Log in")).to_be_visible()
        move_focus(maya, "Email")
        check_focus_ring(maya, "email field")
        keys.type(circle.member.email)
        move_focus(maya, "Password")
        keys.type(PASSWORD)
        move_focus(maya, "Log in")
        check_focus_ring(maya, "Log in button")
        keys.press("Enter")
        expect(maya.get_by_text("Welcome back, Maya.")).to_be_visible()

        # Find the call through the directory and the community page, and RSVP.
        move_focus(maya, "Communities")
        check_focus_ring(maya, "header link")
        keys.press("Enter")
        expect(maya.get_by_role("heading", name="Communities", level=1)).to_be_visible()
        move_focus(maya, circle.community.name)
        keys.press("Enter")
        expect(maya.get_by_role("heading", name=circle.community.name, level=1)).to_be_visible()
        move_focus(maya, "Tuesday circle")
        keys.press("Enter")
        expect(maya.get_by_role("heading", name="Tuesday circle", level=1)).to_be_visible()
        move_focus(maya, "I'm going")
        check_focus_ring(maya, "I'm going")
        keys.press("Enter")
        panel = maya.get_by_role("region", name="Your place")
        expect(panel.get_by_text("You are going.")).to_be_visible()
        # The new status is focused, so the next Tab reaches "Join the call".
        join = panel.get_by_role("link", name="Join the call")
        expect(join).to_be_visible()
        move_focus(maya, "Join the call", limit=3)
        check_focus_ring(maya, "Join the call")
        keys.press("Enter")

        # In the room: admitted at once (she RSVP'd). The facilitator starts the check-in round.
        expect(maya).to_have_url(re.compile(rf"/calls/{call.pk}/room/$"))
        expect(maya.locator("#connection")).to_be_hidden()
        expect(fran.locator("#circle .seat", has_text="Maya")).to_be_visible()
        fran.get_by_role("button", name="Start the call").click()
        expect(fran.locator("#segment-line")).to_have_text("Arriving")
        fran.get_by_role("button", name="Next segment").click()
        expect(maya.locator("#segment-line")).to_have_text("Check-in")
        expect(maya.locator("#speaker-line")).to_have_text("Fran is sharing")

        # During Fran's turn Maya resonates (R) and passes ahead of her own turn (P).
        expect(maya.get_by_role("button", name="Resonates")).to_be_visible()
        keys.press("r")
        expect(fran.locator("#resonance")).to_have_text("1 resonated")
        keys.press("p")
        expect(maya.get_by_role("button", name="Pass")).to_be_hidden()
        assert_round(maya, "Maya", "passed")

        # At the end of the round she is offered a turn again; she finishes it with Tab and Enter.
        fran.get_by_role("button", name="I'm done").click()
        expect(maya.locator("#speaker-line")).to_have_text("Your turn. Take your time.")
        move_focus(maya, "I'm done")
        check_focus_ring(maya, "room button")
        keys.press("Enter")
        expect(maya.locator("#speaker-line")).not_to_have_text("Your turn. Take your time.")
        expect(maya.get_by_role("button", name="I'm done")).to_be_hidden()
        focus_kept_in(maya, "#room")
        expect(fran.locator("#circle .seat", has_text="Maya").locator(".seat-status")).to_have_text("has shared")

        # The sharing round: Maya passes ahead with Tab and Enter this time.
        fran.get_by_role("button", name="Next segment").click()
        expect(maya.locator("#segment-line")).to_have_text("Sharing", timeout=BETWEEN_SEGMENTS_TIMEOUT)
        expect(maya.locator("#speaker-line")).to_have_text("Fran is sharing")
        move_focus(maya, "Pass")
        keys.press("Enter")
        expect(maya.get_by_role("button", name="Pass")).to_be_hidden()
        focus_kept_in(maya, "#room")
        fran.get_by_role("radio", name="Just listen").check()
        fran.get_by_role("button", name="I'm done").click()

        # Offered again, she types her share (T), then goes back to "I'm done" with Shift+Tab.
        expect(maya.locator("#speaker-line")).to_have_text("Your turn. Take your time.")
        keys.press("t")
        share_box = maya.get_by_label("Type your share. Everyone sees it as you write; it is not saved.")
        expect(share_box).to_be_focused()
        check_focus_ring(maya, "typed share box")
        keys.type("Typing is easier for me today.")
        expect(fran.locator("#typed-share-text")).to_have_text("Typing is easier for me today.")
        move_focus(maya, "I'm done", backwards=True)
        keys.press("Enter")
        expect(fran.locator("#speaker-line")).to_have_text("Reflections for Maya")

        # She leaves the call.
        move_focus(maya, "Leave the call")
        check_focus_ring(maya, "Leave the call")
        keys.press("Enter")
        expect(maya).to_have_url(re.compile(rf"/calls/{call.pk}/$"))
        expect(fran.locator("#circle .seat", has_text="Maya").locator(".seat-status")).to_have_text(
            "away", timeout=30_000
        )
        fran.get_by_role("button", name="End the call").click()
        fran.get_by_role("button", name="End the call for everyone").click()
        expect(fran.locator("#segment-line")).to_have_text("The call has ended. Thank you for being here.")
    finally:
        fran_context.close()
        maya_context.close()
    assert errors == []


def test_focus_ring_is_visible_in_low_light(browser, site):
    """The low-light theme has its own focus colour; it must stand out from the dark background too."""
    context = browser.new_context(base_url=site.url, viewport={"width": 1100, "height": 900})
    context.add_cookies([{"name": "theme", "value": "low-light", "url": site.url}])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    try:
        page.goto("/accounts/login/")
        expect(page.locator("html")).to_have_attribute("data-theme", "low-light")
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
        check_focus_ring(page, "skip link (low light)")
        move_focus(page, "Low light")
        check_focus_ring(page, "Low light toggle (low light)")
        move_focus(page, "Email")
        check_focus_ring(page, "email field (low light)")
        move_focus(page, "Log in")
        check_focus_ring(page, "Log in button (low light)")
    finally:
        context.close()


def test_the_facilitator_panel_keeps_keyboard_focus_while_the_room_changes(browser, site):
    """A facilitator who uses the keyboard lets people in and arranges the order. Every snapshot
    re-renders the panel's lists; the focus must stay on the control the facilitator was on."""
    circle = build_circle()
    jonas = circle.add_member("jonas@example.com", display_name="Jonas")
    call = circle.call(starts_in=timedelta(minutes=2), minutes=60)
    for member in (circle.member, jonas):
        rsvp_set(call_id=call.pk, user=member, going=True)
    Room.objects.create(call=call, auto_admit=False, acting_facilitator=circle.facilitator)

    contexts = []
    pages = {}
    try:
        for user in (circle.facilitator, circle.member, jonas):
            context = browser.new_context(base_url=site.url, viewport={"width": 1100, "height": 900})
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(TIMEOUT)
            page.goto("/accounts/login/")
            page.get_by_label("Email").fill(user.email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_text(f"Welcome back, {user.display_name}.")).to_be_visible()
            pages[user.display_name] = page
        fran, maya, jonas_page = pages["Fran"], pages["Maya"], pages["Jonas"]
        fran.goto(f"/calls/{call.pk}/room/")
        expect(fran.locator("#connection")).to_be_hidden()
        maya.goto(f"/calls/{call.pk}/room/")
        expect(maya.get_by_role("heading", name="Welcome. You are in the lobby.")).to_be_visible()

        # Fran is on "Let Maya in" when Jonas arrives: the lobby list is re-rendered under her focus.
        move_focus(fran, "Let Maya in")
        jonas_page.goto(f"/calls/{call.pk}/room/")
        expect(fran.get_by_role("button", name="Let Jonas in")).to_be_visible()
        expect(fran.get_by_role("button", name="Let Maya in")).to_be_focused()
        fran.keyboard.press("Enter")
        expect(maya.get_by_role("heading", name="Welcome. You are in the lobby.")).to_be_hidden()
        focus_kept_in(fran, "#facilitator-panel")
        move_focus(fran, "Let Jonas in")
        fran.keyboard.press("Enter")
        expect(jonas_page.get_by_role("heading", name="Welcome. You are in the lobby.")).to_be_hidden()
        focus_kept_in(fran, "#facilitator-panel")

        # Arranging the order with the "later" button: the focus follows Maya.
        people = fran.locator("#order-list > li > span")
        expect(people).to_have_text([re.compile(r"^Fran "), re.compile(r"^Maya "), re.compile(r"^Jonas ")])
        move_focus(fran, "Move Maya later")
        fran.keyboard.press("Enter")
        expect(people).to_have_text([re.compile(r"^Fran "), re.compile(r"^Jonas "), re.compile(r"^Maya ")])
        focus_kept_in(fran, "#order-list")
        assert "Maya" in focused(fran)["name"], focused(fran)

        # Maya asks for support. Fran starts a private reply; Jonas's request re-renders the threads
        # while she writes. Her words and her place must survive it.
        maya.get_by_role("button", name="I need support").click()
        move_focus(fran, "Write privately to Maya")
        fran.keyboard.type("We are here with you, ")
        jonas_page.get_by_role("button", name="I need support").click()
        expect(fran.get_by_role("textbox", name="Write privately to Jonas")).to_be_visible()
        reply = fran.get_by_role("textbox", name="Write privately to Maya")
        expect(reply).to_be_focused()
        fran.keyboard.type("take your time.")
        expect(reply).to_have_value("We are here with you, take your time.")
        move_focus(fran, "Send privately")
        fran.keyboard.press("Enter")
        expect(maya.locator("#support-messages")).to_contain_text("Fran: We are here with you, take your time.")
    finally:
        for context in contexts:
            context.close()
