"""The room's layout in every state, for a member and for a facilitator, at a phone's, a tablet's and
a desk's size, in the light and the low-light theme. In each: the viewer's main actions, the ring with
its time, who speaks and who is next are on the first screen without scrolling; no text overflows
the ring or a seat, and the page never scrolls sideways; axe finds no serious or critical WCAG 2.2
A/AA violation. Each person's page stays open through the call and is resized and re-themed in place.
The screenshots in docs/img/room/ are written on the way (a turn as the facilitator who speaks, and
as a listener, is in phone-facilitator-speaking.png and phone-listener.png)."""

from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import expect

from accounts.models import User
from groups.services.formats import format_create
from tests.e2e.test_accessibility import AXE, AXE_OPTIONS, BLOCKING, describe
from tests.e2e.test_accommodations import (
    TIMEOUT,
    button,
    call_soon,
    enter,
    open_browser,  # noqa: F401 (a fixture)
    speaker_line,
)
from tests.e2e.test_room_client import OVERFLOWS, TIME_UP_HERE
from tests.personas import build_circle

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
DESK = {"width": 1280, "height": 800}
VIEWPORTS = (PHONE, TABLET, DESK)
THEMES = ("light", "low-light")
SHOTS = "docs/img/room"

# The viewer's main actions, by what they are for.
DONE, PASS = ("I'm done", "#btn-done"), ("Pass", "#btn-pass")
RESONATES, HAND = ("Resonates", "#btn-resonate"), ("the raised hand", "#btn-hand")
START = ("Start the call", '[data-control="call.start"]')
NEXT_TURN = ("Next", '[data-control="turn.finish"]')
NEXT_SEGMENT = ("Next segment", '[data-control="segment.next"]')
CLOSE_REFLECTIONS = ("Close reflections", '[data-control="reflections.end"]')
PAUSE, RESUME = ("Pause", '[data-control="pause"]'), ("Resume", '[data-control="resume"]')
END = ("End the call", '[data-control="call.end"]')
CHECK_OUT = ("Check out", "#checkout-link")
RING, TIME = ("the ring", "#timer"), ("the time in the ring", "#time-left")
SPEAKER, NEXT = ("who is speaking", "#speaker-line"), ("who is next", "#next-line")
WHO_SPEAKS = (RING, TIME, SPEAKER, NEXT)


@pytest.fixture(autouse=True)
def _patient_expect():
    expect.set_options(timeout=TIMEOUT)
    yield
    expect.set_options(timeout=None)


# Each [what, selector]: shown, with text, and wholly inside the first screen (the page's top
# `innerHeight` pixels and its width), whatever the scroll.
FIRST_SCREEN = """(wanted) => {
  const out = [];
  for (const [what, selector] of wanted) {
    const el = document.querySelector(selector);
    const box = el && el.getBoundingClientRect();
    if (!el || el.closest("[hidden]") || !box.width || !box.height || !el.textContent.trim() && what !== "the ring") {
      out.push(`${what} is not shown`);
      continue;
    }
    const top = box.top + window.scrollY, bottom = box.bottom + window.scrollY;
    if (top < 0 || bottom > window.innerHeight + 0.5) {
      const span = `${Math.round(top)}..${Math.round(bottom)} px`;
      out.push(`${what} spans ${span}, outside the first ${window.innerHeight} px`);
    }
    if (box.left < 0 || box.right > document.documentElement.clientWidth + 0.5) {
      out.push(`${what} spans ${Math.round(box.left)}..${Math.round(box.right)} px across`);
    }
  }
  return out;
}"""

# Text in the ring and in the seats: none larger than its box, none reaching out of its seat.
RING_AND_SEATS = """() => {
  const out = [];
  const shown = (el) =>
    !el.closest("[hidden], .visually-hidden") && el.getClientRects().length && el.textContent.trim();
  const spills = (el) => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
  const sizes = (el) => `${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}x${el.clientHeight}`;
  for (const el of document.querySelectorAll("#timer *")) {
    if (el.closest("svg") || !shown(el)) continue;
    if (spills(el)) out.push(`the ring's "${el.textContent}" is ${sizes(el)}`);
  }
  for (const seat of document.querySelectorAll("#circle .seat")) {
    const box = seat.getBoundingClientRect();
    const name = seat.querySelector(".seat-name")?.textContent;
    for (const el of seat.querySelectorAll("span")) {
      if (!shown(el) || el.parentElement.closest("span")) continue;
      const r = el.getBoundingClientRect();
      if (spills(el)) {
        out.push(`${name}'s seat: "${el.textContent}" is ${sizes(el)}`);
      } else if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1) {
        out.push(`${name}'s seat: "${el.textContent}" reaches out of the seat`);
      }
    }
  }
  return out;
}"""

SETTLE = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


@dataclass
class Viewer:
    """One person's open room page, and the theme it shows now."""

    role: str
    page: object
    theme: str = "light"

    def use_theme(self, theme):
        """The header's low-light button: it saves the choice on the account and re-themes the page."""
        if self.theme != theme:
            self.page.locator("form[data-theme-toggle] button").click()
            expect(self.page.locator("html")).to_have_attribute("data-theme", theme)
            self.theme = theme


@dataclass
class Matrix:
    found: dict = field(default_factory=lambda: defaultdict(list))
    checked: int = 0

    def check(self, state, viewer, *wanted, shot=None, viewports=VIEWPORTS, themes=THEMES):
        """Every viewport in both themes (the current theme first, so each page re-themes once)."""
        page = viewer.page
        themes = sorted(themes, key=lambda theme: theme != viewer.theme)
        for theme in themes:
            viewer.use_theme(theme)
            sizes = viewports if theme == themes[0] else tuple(reversed(viewports))
            for size in sizes:
                page.set_viewport_size(size)
                page.evaluate("() => window.scrollTo(0, 0)")
                page.evaluate(SETTLE)
                where = f"{state}, {viewer.role}, {size['width']}x{size['height']}, {theme}"
                problems = page.evaluate(FIRST_SCREEN, [list(pair) for pair in wanted])
                problems += page.evaluate(RING_AND_SEATS)
                problems += page.evaluate(OVERFLOWS)
                results = AXE.run(page, options=AXE_OPTIONS)
                problems += [describe(v, "axe") for v in results.response["violations"] if v["impact"] in BLOCKING]
                if problems:
                    self.found[state] += [f"[{where}] {problem}" for problem in problems]
                self.checked += 1
                if shot and size == PHONE and theme == "light":
                    page.screenshot(path=f"{SHOTS}/{shot}-phone.png")

    def report(self):
        lines = [f"{sum(map(len, self.found.values()))} layout problems in {len(self.found)} room states:"]
        for state, problems in self.found.items():
            lines.append(f"{state}:")
            lines += [f"  {problem}" for problem in problems]
        return "\n".join(lines)


def segment_line(page):
    return page.locator("#segment-line")


def desk_shot(viewer, name, theme="light"):
    viewer.use_theme(theme)
    viewer.page.set_viewport_size(DESK)
    viewer.page.evaluate("() => window.scrollTo(0, 0)")
    viewer.page.evaluate(SETTLE)
    viewer.page.screenshot(path=f"{SHOTS}/{name}.png")


def test_every_room_state_fits_the_first_screen_at_three_sizes_in_both_themes(open_browser):  # noqa: F811
    circle = build_circle()
    jonas_user = circle.add_member("jonas@example.com", display_name="Jonas")
    call_format = format_create(
        community=circle.community,
        actor=circle.facilitator,
        name="Arrive, open, share, close",
        segments=[
            {"kind": "grounding", "title": "Arriving", "seconds": 120},
            {"kind": "open", "title": "Open sharing", "seconds": 900, "turn_seconds": 240},
            {
                "kind": "round",
                "title": "Sharing",
                "turn_seconds": 240,
                "reflection_seconds": 240,
                "reflection_mode": "either",
            },
            {"kind": "closing", "title": "Closing", "turn_seconds": 60},
        ],
        grace_seconds=60,
    )
    call = call_soon(circle, [circle.member, jonas_user], call_format)
    User.objects.update(theme="light", reflections_default="resonance")
    User.objects.filter(pk=circle.facilitator.pk).update(reflections_default="reflections")

    fran = Viewer("facilitator", open_browser(circle.facilitator, viewport=PHONE))
    maya = Viewer("member", open_browser(circle.member, viewport=PHONE))
    jonas = Viewer("member", open_browser(jonas_user, viewport=PHONE))
    enter(fran.page, call)
    enter(maya.page, call, fran.page, "Maya")
    enter(jonas.page, call, fran.page, "Jonas")
    matrix = Matrix()

    # Before the start.
    expect(button(fran.page, "Start the call")).to_be_visible()
    matrix.check("lobby", fran, START, RING, shot="lobby-facilitator")
    matrix.check("lobby", maya, RING, shot="lobby-member")

    button(fran.page, "Start the call").click()
    expect(speaker_line(maya.page)).to_have_text("A shared pause. Notice your breath and your body.")
    matrix.check("grounding", fran, NEXT_SEGMENT, PAUSE, RING, TIME, SPEAKER, shot="grounding-facilitator")
    matrix.check("grounding", maya, RING, TIME, SPEAKER, shot="grounding-member")

    # Open sharing: nobody has the floor until someone raises a hand.
    button(fran.page, "Next segment").click()
    expect(segment_line(maya.page)).to_have_text("Open sharing")
    expect(speaker_line(maya.page)).to_have_text("Raise your hand when you would like to share.")
    state = "between turns (open sharing)"
    matrix.check(state, fran, NEXT_SEGMENT, PAUSE, RING, TIME, SPEAKER, shot="open-waiting-facilitator")
    matrix.check(state, maya, HAND, RING, TIME, SPEAKER, shot="open-waiting-member")

    # Jonas raises his hand and has the floor; Maya raises hers and is next.
    button(jonas.page, "Raise hand").click()
    expect(speaker_line(maya.page)).to_have_text("Jonas is sharing")
    button(maya.page, "Raise hand").click()
    expect(maya.page.locator("#next-line")).to_have_text("Next: Maya")
    state = "open sharing, hands raised"
    matrix.check(state, fran, NEXT_TURN, PAUSE, RESONATES, *WHO_SPEAKS, shot="open-hands-facilitator")
    matrix.check(state, maya, RESONATES, HAND, *WHO_SPEAKS, shot="open-hands-member")
    desk_shot(fran, "desk-facilitator-open")
    desk_shot(fran, "desk-facilitator-open-low-light", theme="low-light")

    # A round: Fran speaks, Maya is next, Jonas listens.
    button(fran.page, "Next segment").click()
    expect(speaker_line(maya.page)).to_have_text("Fran is sharing")
    expect(maya.page.locator("#next-line")).to_have_text("Next: Maya")
    expect(button(jonas.page, "Resonates")).to_be_visible()
    state = "a turn"
    matrix.check(state, fran, DONE, PASS, NEXT_TURN, PAUSE, *WHO_SPEAKS)
    matrix.check(state, maya, RESONATES, PASS, *WHO_SPEAKS, shot="turn-next-member")
    matrix.check(state, jonas, RESONATES, PASS, *WHO_SPEAKS)
    desk_shot(fran, "desk-facilitator-turn")
    # The facilitator's full controls stand open beside the circle, and close again on a phone.
    expect(fran.page.locator("#lobby-list")).to_be_visible()
    fran.page.set_viewport_size(PHONE)
    expect(fran.page.locator("#lobby-list")).to_be_hidden()

    # Time is up on these pages' clocks: the grace period, as everyone sees it once the time runs out.
    for viewer in (fran, maya):
        viewer.page.evaluate(TIME_UP_HERE)
        expect(viewer.page.locator("#time-note")).to_have_text("Time is up. Finishing gently.")
    state = "time-up grace"
    matrix.check(state, fran, DONE, PASS, NEXT_TURN, PAUSE, *WHO_SPEAKS, shot="time-up-facilitator")
    matrix.check(state, maya, RESONATES, PASS, *WHO_SPEAKS, shot="time-up-member")
    for viewer in (fran, maya):
        viewer.page.evaluate("() => { delete window.attunementRoom.connection.clock.now; }")
        expect(viewer.page.locator("#time-note")).to_be_hidden()

    # Reflections for Fran: Jonas raises his hand and reflects; Maya may raise hers.
    expect(fran.page.get_by_role("radio", name="Reflections welcome")).to_be_checked()
    button(fran.page, "I'm done").click()
    expect(speaker_line(maya.page)).to_have_text("Reflections for Fran")
    button(jonas.page, "Raise hand").click()
    expect(speaker_line(maya.page)).to_have_text("Jonas is reflecting")
    state = "reflections"
    matrix.check(state, fran, CLOSE_REFLECTIONS, PAUSE, *WHO_SPEAKS, shot="reflections-facilitator")
    matrix.check(state, maya, HAND, *WHO_SPEAKS, shot="reflections-member")
    desk_shot(fran, "desk-facilitator-reflections")

    # Maya's turn: Fran listens, Jonas is next.
    button(fran.page, "Close reflections").click()
    expect(speaker_line(maya.page)).to_have_text("Your turn. Take your time.")
    expect(fran.page.locator("#next-line")).to_have_text("Next: Jonas")
    state = "a turn"
    matrix.check(state, maya, DONE, PASS, *WHO_SPEAKS, shot="turn-speaker-member")
    matrix.check(state, fran, RESONATES, NEXT_TURN, PAUSE, *WHO_SPEAKS, shot="turn-listener-facilitator")

    # Paused in the middle of Maya's turn.
    button(fran.page, "Pause").click()
    expect(segment_line(maya.page)).to_have_text("Sharing · Paused")
    state = "paused"
    matrix.check(state, fran, RESUME, RING, TIME, SPEAKER, NEXT, shot="paused-facilitator")
    matrix.check(state, maya, RING, TIME, SPEAKER, NEXT, shot="paused-member")
    desk_shot(maya, "paused-member-low-light", theme="low-light")
    button(fran.page, "Resume").click()
    expect(segment_line(maya.page)).to_have_text("Sharing")

    # Maya and Jonas share without reflections, and the round is over.
    button(maya.page, "I'm done").click()
    expect(speaker_line(jonas.page)).to_have_text("Your turn. Take your time.")
    button(jonas.page, "I'm done").click()

    # A breath of a few seconds before the closing round: on a phone, in the theme each page has now.
    expect(segment_line(maya.page)).to_have_text("Next: Closing")
    state = "between segments, the breath"
    matrix.check(state, fran, NEXT_SEGMENT, PAUSE, RING, TIME, viewports=(PHONE,), themes=(fran.theme,))
    matrix.check(state, maya, RING, TIME, viewports=(PHONE,), themes=(maya.theme,))
    assert segment_line(maya.page).text_content() == "Next: Closing", "the breath passed before it was checked"

    # The closing round, a few words each.
    for viewer in (fran, maya, jonas):
        expect(speaker_line(viewer.page)).to_have_text("Your turn. Take your time.", timeout=30_000)
        button(viewer.page, "I'm done").click()

    # The last segment is over: the room waits between segments for the facilitator to close.
    expect(segment_line(maya.page)).to_have_text("That was the last part of the call.")
    state = "between segments"
    matrix.check(state, fran, END, PAUSE, RING, shot="between-facilitator")
    matrix.check(state, maya, RING, shot="between-member")

    button(fran.page, "End the call").click()
    button(fran.page, "End the call for everyone").click()
    expect(segment_line(maya.page)).to_have_text("The call has ended. Thank you for being here.")
    state = "ended"
    matrix.check(state, fran, CHECK_OUT)
    matrix.check(state, maya, CHECK_OUT, shot="ended-member")

    assert matrix.checked == 23 * len(VIEWPORTS) * len(THEMES) + 2
    assert not matrix.found, matrix.report()
    assert open_browser.errors == []
