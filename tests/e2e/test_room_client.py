"""The room on a phone and on a desk: the time-up line, guarded destructive actions, the end of a
call, one tab per person and the camera. Each test is one finding of issue 16, seen in a browser."""

import pytest
from playwright.sync_api import expect

from tests.e2e.test_accommodations import (
    TIMEOUT,
    button,
    call_soon,
    enter,
    open_browser,  # noqa: F401 (a fixture)
    seat,
    short_format,
    speaker_line,
)
from tests.personas import build_circle

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 800}


@pytest.fixture(autouse=True)
def _patient_expect():
    expect.set_options(timeout=TIMEOUT)
    yield
    expect.set_options(timeout=None)


# This page's clock, an hour ahead: the turn's deadline has passed for it, as it will for everyone.
# (The server keeps its own time; a nudge from this page changes nothing there.)
TIME_UP_HERE = "() => { const clock = window.attunementRoom.connection.clock; clock.now = () => Date.now() + 3600000; }"

OVERFLOWS = """() => {
  const out = [];
  for (const el of document.querySelectorAll("#stage .timer p, #time-note, #speaker-line, #segment-line")) {
    if (el.hidden || !el.textContent) continue;
    if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1) {
      out.push(`${el.id}: ${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}x${el.clientHeight}`);
    }
  }
  const ring = document.querySelector("#timer").getBoundingClientRect();
  const note = document.querySelector("#time-note");
  const speaker = document.querySelector("#speaker-line").getBoundingClientRect();
  // A hidden note takes no room and overlaps nothing.
  if (!note.hidden) {
    const box = note.getBoundingClientRect();
    if (box.top < ring.bottom - 1) out.push(`time-note overlaps the ring: ${box.top} < ${ring.bottom}`);
    if (box.bottom > speaker.top + 1) out.push(`time-note overlaps the speaker line: ${box.bottom} > ${speaker.top}`);
  }
  const page = document.documentElement;
  if (page.scrollWidth > page.clientWidth) out.push("the page scrolls sideways");
  return out;
}"""


def test_time_up_has_its_own_line_and_never_overflows_the_ring(open_browser):  # noqa: F811
    circle = build_circle()
    call = call_soon(circle, [circle.member], short_format(circle, turn_seconds=60))
    fran = open_browser(circle.facilitator)
    maya = open_browser(circle.member, viewport=PHONE)
    enter(fran, call)
    enter(maya, call, fran, "Maya")
    button(fran, "Start the call").click()
    expect(speaker_line(maya)).to_have_text("Fran is sharing")
    expect(maya.locator("#time-note")).to_be_hidden()

    maya.evaluate(TIME_UP_HERE)
    expect(maya.locator("#time-note")).to_have_text("Time is up. Finishing gently.")
    expect(maya.locator("#time-left")).to_have_text("0:00")
    # 390 x 844 and 1280 x 800, each also at 200% zoom (half the CSS pixels), and 1280 x 1024 at 400%.
    zoomed = ({"width": 195, "height": 422}, {"width": 640, "height": 400}, {"width": 320, "height": 256})
    for size in (PHONE, DESK, *zoomed):
        maya.set_viewport_size(size)
        maya.wait_for_timeout(300)
        assert maya.evaluate(OVERFLOWS) == [], size
    maya.set_viewport_size(PHONE)
    maya.locator("#stage").screenshot(path="docs/img/room/time-up-phone.png")
    assert open_browser.errors == []


def open_disclosure(page, selector):
    """On a phone, sound and the facilitator's full controls wait behind closed disclosures."""
    if not page.locator(selector).evaluate("(details) => details.open"):
        page.locator(f"{selector} > summary").click()


def turn_on_sound(page):
    open_disclosure(page, "#audio-panel")
    button(page, "Turn on sound and microphone").click()


def focused_id(page):
    return page.evaluate("() => document.activeElement && document.activeElement.id")


def test_end_the_call_and_remove_ask_first_in_a_dialog(open_browser):  # noqa: F811
    circle = build_circle()
    call = call_soon(circle, [circle.member])
    fran = open_browser(circle.facilitator, viewport=PHONE)
    maya = open_browser(circle.member)
    enter(fran, call)
    enter(maya, call, fran, "Maya")
    dialog = fran.locator("#confirm-dialog")

    # Nobody is offered a control they may not use: no "Remove" for the facilitator herself.
    open_disclosure(fran, "#facilitator-more")
    expect(button(fran, "Remove Maya")).to_be_visible()
    expect(fran.get_by_role("button", name="Remove Fran")).to_have_count(0)

    # "End the call": the focus moves into the dialog, Escape cancels, the focus comes back.
    end = button(fran, "End the call")
    end.focus()
    fran.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(fran.get_by_role("dialog", name="End the call for everyone?")).to_be_visible()
    assert focused_id(fran) == "confirm-cancel"
    fran.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(end).to_be_focused()
    expect(fran.locator("#segment-line")).to_have_text("The call has not started yet.")

    # "Remove": cancelled with its button, nothing happens; confirmed, Maya leaves.
    button(fran, "Remove Maya").click()
    expect(fran.get_by_role("dialog", name="Remove Maya from this call?")).to_be_visible()
    fran.locator("#confirm-cancel").click()
    expect(dialog).to_be_hidden()
    expect(button(fran, "Remove Maya")).to_be_focused()
    fran.wait_for_timeout(500)
    expect(maya.locator("#connection")).to_be_hidden()
    button(fran, "Remove Maya").click()
    dialog.get_by_role("button", name="Remove Maya").click()
    expect(maya.locator("#connection")).to_have_text("You cannot be in this call right now.")
    expect(button(fran, "Remove Maya")).to_have_count(0)

    # Confirmed, the call ends.
    end.click()
    dialog.get_by_role("button", name="End the call for everyone").click()
    expect(fran.locator("#segment-line")).to_have_text("The call has ended. Thank you for being here.")
    assert open_browser.errors == []


# Every track this page's getUserMedia hands out, kept in window.__tracks to look at later.
RECORD_TRACKS = """
window.__tracks = [];
const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (constraints) => {
  const stream = await original(constraints);
  window.__tracks.push(...stream.getTracks());
  return stream;
};
"""
COUNT_SOCKETS = """() => {
  window.__sockets = 0;
  const Original = window.WebSocket;
  window.WebSocket = class extends Original {
    constructor(...args) { super(...args); window.__sockets += 1; }
  };
}"""
TRACK_STATES = "() => window.__tracks.map((track) => `${track.kind}:${track.readyState}`)"


def test_the_end_of_the_call_stops_every_track_and_leads_to_the_check_out(open_browser):  # noqa: F811
    circle = build_circle()
    call = call_soon(circle, [circle.member])
    fran = open_browser(circle.facilitator)
    maya = open_browser(circle.member, viewport=PHONE, init_script=RECORD_TRACKS)
    enter(fran, call)
    enter(maya, call, fran, "Maya")
    turn_on_sound(maya)
    expect(maya.locator("#btn-mute")).to_be_visible()
    maya.wait_for_function("() => window.__tracks.length > 0")
    assert maya.evaluate(TRACK_STATES) == ["audio:live"]
    button(fran, "Start the call").click()
    expect(speaker_line(maya)).to_have_text("A shared pause. Notice your breath and your body.")

    button(fran, "End the call").click()
    button(fran, "End the call for everyone").click()
    expect(maya.locator("#segment-line")).to_have_text("The call has ended. Thank you for being here.")
    maya.wait_for_function("() => window.__tracks.every((track) => track.readyState === 'ended')")
    assert maya.evaluate(TRACK_STATES) == ["audio:ended"]
    expect(maya.locator("#audio-panel")).to_be_hidden()
    expect(maya.locator("#timer")).to_be_hidden()
    expect(maya.get_by_role("link", name="Check out")).to_be_visible()

    # Opened again, the ended room asks for nothing and shows the way to the check-out.
    maya.reload()
    expect(maya.locator("#connection")).to_have_text("This call has ended.")
    expect(maya.locator("#audio-panel")).to_be_hidden()
    expect(maya.locator("#stage")).to_be_hidden()
    expect(maya.get_by_role("link", name="Check out")).to_be_visible()
    maya.locator("#room").screenshot(path="docs/img/room/ended-phone.png")
    assert maya.evaluate("() => window.__tracks.length") == 0
    assert open_browser.errors == []


def test_a_second_tab_takes_over_and_the_first_lets_go_and_offers_to_come_back(open_browser):  # noqa: F811
    circle = build_circle()
    call = call_soon(circle, [circle.member])
    fran = open_browser(circle.facilitator)
    first = open_browser(circle.member, viewport=PHONE, init_script=RECORD_TRACKS)
    enter(fran, call)
    enter(first, call, fran, "Maya")
    # Count this page's sockets: a replaced tab must not connect again on its own.
    first.evaluate(COUNT_SOCKETS)
    turn_on_sound(first)
    first.wait_for_function("() => window.__tracks.length > 0")

    second = first.context.new_page()  # the same person, logged in, in a second tab
    second.goto(f"/calls/{call.pk}/room/")
    expect(second.locator("#connection")).to_be_hidden()
    expect(seat(second, "Maya")).to_be_visible()

    expect(first.get_by_role("heading", name="This call is open in another tab")).to_be_visible()
    expect(first.locator("#connection")).to_have_text("This call is open in another tab.")
    first.wait_for_function("() => window.__tracks.every((track) => track.readyState === 'ended')")
    assert first.evaluate(TRACK_STATES) == ["audio:ended"]
    expect(first.locator("#stage")).to_be_hidden()
    expect(first.locator("#audio-panel")).to_be_hidden()
    first.wait_for_timeout(3000)  # longer than the first reconnection delay
    assert first.evaluate("() => window.__sockets") == 0
    expect(seat(fran, "Maya").locator(".seat-status")).not_to_have_text("away")
    first.locator("#room").screenshot(path="docs/img/room/other-tab-phone.png")

    # Back to the first tab: it takes the call back, and the second tab says so in turn.
    button(first, "Use the call in this tab").click()
    expect(first.locator("#connection")).to_be_hidden()
    expect(first.locator("#stage")).to_be_visible()
    expect(button(first, "Turn on sound and microphone")).to_be_visible()
    expect(second.get_by_role("heading", name="This call is open in another tab")).to_be_visible()
    assert first.evaluate("() => window.__sockets") == 1
    assert open_browser.errors == []


# The video frames this page has decoded from one person, from its peer connection's statistics.
FRAMES_DECODED = """async (id) => {
  const peer = window.attunementMedia.peers.get(id);
  if (!peer) return 0;
  let frames = 0;
  (await peer.pc.getStats()).forEach((report) => {
    if (report.type === "inbound-rtp" && report.kind === "video") frames += report.framesDecoded || 0;
  });
  return frames;
}"""


def participant_id(page, name):
    return int(seat(page, name).get_attribute("data-participant"))


def test_video_shows_in_the_seats_small_and_can_be_hidden(open_browser):  # noqa: F811
    circle = build_circle()
    call = call_soon(circle, [circle.member])
    fran = open_browser(circle.facilitator)
    maya = open_browser(circle.member, viewport=PHONE, init_script=RECORD_TRACKS)
    enter(fran, call)
    enter(maya, call, fran, "Maya")
    turn_on_sound(fran)
    turn_on_sound(maya)
    expect(maya.locator("#btn-mute")).to_be_visible()
    button(maya, "Camera").click()
    expect(button(maya, "Camera")).to_have_attribute("aria-pressed", "true")

    # Maya sees herself; Fran's browser decodes Maya's frames and shows them in Maya's seat.
    expect(seat(maya, "Maya").locator("video.seat-video")).to_be_visible()
    expect(seat(fran, "Maya").locator("video.seat-video")).to_be_visible()
    maya_id = participant_id(fran, "Maya")
    fran.wait_for_function(f"() => ({FRAMES_DECODED})({maya_id}).then((n) => n > 0)", timeout=TIMEOUT)
    first = fran.evaluate(FRAMES_DECODED, maya_id)
    fran.wait_for_timeout(1500)
    assert fran.evaluate(FRAMES_DECODED, maya_id) > first
    size = seat(fran, "Maya").locator("video").evaluate("(v) => [v.videoWidth, v.videoHeight]")
    assert size[0] <= 320 and size[1] <= 240, size
    settings = maya.evaluate("() => window.__tracks.filter((t) => t.kind === 'video').map((t) => t.getSettings())")
    assert settings and all(s["frameRate"] <= 15 and s["width"] <= 320 for s in settings), settings
    seat(maya, "Maya").screenshot(path="docs/img/room/video-seat.png")

    # Fran hides video (for light-sensitive eyes): no tile at all.
    button(fran, "Hide video").click()
    expect(button(fran, "Hide video")).to_have_attribute("aria-pressed", "true")
    expect(fran.locator("#circle video")).to_have_count(0)

    # Maya turns the camera off: her video track stops.
    button(maya, "Camera").click()
    maya.wait_for_function(
        "() => window.__tracks.filter((t) => t.kind === 'video').every((t) => t.readyState === 'ended')"
    )
    expect(maya.locator("#circle video")).to_have_count(0)
    assert open_browser.errors == []


# The top and bottom of an element on the page (not the viewport), whatever the scroll.
ON_PAGE = (
    "(el) => { const r = el.getBoundingClientRect(); return [r.top + window.scrollY, r.bottom + window.scrollY]; }"
)


def assert_on_first_screen(page, *locators):
    height = page.viewport_size["height"]
    for locator in locators:
        expect(locator).to_be_visible()
        top, bottom = locator.evaluate(ON_PAGE)
        assert top >= 0 and bottom <= height, f"{locator} spans {top}..{bottom}, below the first {height} px"


def main_screen(page):
    return [page.locator("#timer"), page.locator("#speaker-line"), page.locator("#next-line")]


def test_on_a_phone_the_first_screen_holds_the_ring_the_turn_and_my_actions(open_browser):  # noqa: F811
    circle = build_circle()
    jonas = circle.add_member("jonas@example.com", display_name="Jonas")
    call = call_soon(circle, [circle.member, jonas], short_format(circle, turn_seconds=120))
    fran = open_browser(circle.facilitator, viewport=PHONE)
    maya = open_browser(circle.member, viewport=PHONE)
    jonas_page = open_browser(jonas, viewport=PHONE)
    enter(fran, call)
    enter(maya, call, fran, "Maya")
    enter(jonas_page, call, fran, "Jonas")

    # Sound, check-in and the facilitator's full controls wait behind closed, labelled disclosures.
    for page in (fran, maya):
        sound = page.locator("#audio-panel > summary")
        expect(sound).to_contain_text("Sound")
        expect(page.locator("#btn-audio-start")).to_be_hidden()
        sound.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#btn-audio-start")).to_be_visible()
        page.keyboard.press("Enter")
        expect(page.locator("#btn-audio-start")).to_be_hidden()
        expect(page.locator("#checkin-word")).to_be_hidden()
    expect(fran.locator("#facilitator-more > summary")).to_have_text("Facilitator controls")
    expect(fran.locator("#lobby-list")).to_be_hidden()
    assert_on_first_screen(fran, button(fran, "Start the call"))

    button(fran, "Start the call").click()
    expect(speaker_line(maya)).to_have_text("Fran is sharing")
    expect(maya.locator("#next-line")).to_have_text("Next: Maya")
    # Fran speaks and facilitates; Maya listens and is next.
    assert_on_first_screen(fran, *main_screen(fran), button(fran, "I'm done"), button(fran, "Pass"))
    assert_on_first_screen(fran, button(fran, "Next"), button(fran, "Pause"))
    assert_on_first_screen(maya, *main_screen(maya), button(maya, "Resonates"))
    fran.screenshot(path="docs/img/room/phone-facilitator-speaking.png")
    maya.screenshot(path="docs/img/room/phone-listener.png")

    button(fran, "I'm done").click()
    expect(speaker_line(maya)).to_have_text("Your turn. Take your time.")
    assert_on_first_screen(maya, *main_screen(maya), button(maya, "I'm done"), button(maya, "Pass"))
    assert_on_first_screen(fran, *main_screen(fran), button(fran, "Next"), button(fran, "Pause"), button(fran, "Skip"))
    assert_on_first_screen(jonas_page, *main_screen(jonas_page), button(jonas_page, "Resonates"))
    maya.screenshot(path="docs/img/room/phone-speaker.png")
    fran.screenshot(path="docs/img/room/phone-facilitator.png")

    # On a desk, the facilitator's full controls stand open beside the circle.
    desk = open_browser(circle.facilitator, viewport=DESK)
    desk.goto(f"/calls/{call.pk}/room/")
    expect(desk.locator("#lobby-list")).to_be_visible()
    circle_box, panel_box = desk.locator("#stage").bounding_box(), desk.locator("#facilitator-panel").bounding_box()
    assert panel_box["x"] >= circle_box["x"] + circle_box["width"], (circle_box, panel_box)
    desk.screenshot(path="docs/img/room/desk-facilitator.png")
    assert open_browser.errors == []


SEATS = """() => {
  const ring = document.querySelector("#circle").getBoundingClientRect();
  const cx = ring.left + ring.width / 2, cy = ring.top + ring.height / 2;
  return [...document.querySelectorAll("#circle .seat")].map((seat) => {
    const box = seat.getBoundingClientRect();
    const spills = [...seat.querySelectorAll("span")].filter((el) => {
      if (el.closest(".seat-role, .seat-mark, .seat-accommodations, .seat-support, .visually-hidden")) return false;
      const r = el.getBoundingClientRect();
      const out = r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1;
      return r.width && out;
    }).map((el) => el.className);
    const style = getComputedStyle(seat);
    return {
      name: seat.querySelector(".seat-name").textContent,
      status: seat.querySelector(".seat-status").textContent,
      width: Math.round(box.width), height: Math.round(box.height),
      radius: Math.round(Math.hypot(box.left + box.width / 2 - cx, box.top + box.height / 2 - cy)),
      border: `${style.borderTopStyle} ${style.borderTopWidth}`,
      spills,
    };
  });
}"""
LONG_NAME = "Jonas Alexander Maximilian Sommerfeld-Okonkwo"


def test_the_circle_is_drawn_as_a_circle_of_equal_seats(open_browser):  # noqa: F811
    circle = build_circle()
    jonas = circle.add_member("jonas@example.com", display_name=LONG_NAME)
    call = call_soon(circle, [circle.member, jonas], short_format(circle, turn_seconds=120))
    fran = open_browser(circle.facilitator, viewport=DESK)
    maya = open_browser(circle.member, viewport=PHONE)
    enter(fran, call)
    jonas_page = open_browser(jonas, viewport=PHONE)
    enter(maya, call, fran, "Maya")
    enter(jonas_page, call, fran, LONG_NAME)
    button(fran, "Start the call").click()
    expect(speaker_line(maya)).to_have_text("Fran is sharing")
    for page in (maya, fran):
        expect(page.locator("#circle")).to_have_class("circle is-ring")
        seats = page.evaluate(SEATS)
        assert len({(s["width"], s["height"]) for s in seats}) == 1, seats  # equal seats
        assert seats[0]["width"] == seats[0]["height"], seats  # round
        radii = [s["radius"] for s in seats]
        assert max(radii) - min(radii) <= 2 and min(radii) > seats[0]["width"] / 2, seats  # around one centre
        assert [s["spills"] for s in seats] == [[], [], []], seats  # nothing spills out of a seat
        by_name = {s["name"]: s for s in seats}
        # The long name is cut short on screen but whole in the page, for assistive technology.
        assert LONG_NAME in by_name
        assert page.locator(".seat-name", has_text=LONG_NAME).evaluate("(el) => el.scrollWidth > el.clientWidth")
        # State by shape and text, not colour alone.
        assert by_name["Fran"]["status"] == "speaking" and by_name["Fran"]["border"] == "solid 4px", by_name
        assert by_name["Maya"]["status"] == "next" and by_name["Maya"]["border"].startswith("dashed"), by_name
        assert by_name[LONG_NAME]["status"] == "waiting" and by_name[LONG_NAME]["border"].startswith("solid 2"), by_name
    maya.locator("#people").screenshot(path="docs/img/room/circle-phone.png")
    assert open_browser.errors == []


# A pong names a version newer than the page holds. The page records what it sends from here on.
NEWER_PONG = """(ahead) => {
  const connection = window.attunementRoom.connection;
  window.sentSince = [];
  const send = connection.send.bind(connection);
  connection.send = (message) => { window.sentSince.push(message.type); return send(message); };
  const now = Date.now();
  connection.receive(JSON.stringify({ type: "pong", t: now, server_now: now, version: connection.version + ahead }));
  return connection.version;
}"""


def test_a_pong_naming_a_newer_version_makes_the_page_ask_for_the_room(open_browser):  # noqa: F811
    """A snapshot lost on its way: the pong says the room has moved on, and half a second later the
    page, still behind, asks for the room with `sync`. A pong naming the version the page holds asks
    for nothing."""
    circle = build_circle()
    call = call_soon(circle, [circle.member])
    maya = open_browser(circle.member, viewport=PHONE)
    enter(maya, call)
    maya.wait_for_function("() => window.attunementRoom.connection.version !== null", polling=100)
    # Far ahead, so that no snapshot arriving meanwhile (someone's presence) can catch the page up.
    maya.evaluate(NEWER_PONG, 1000)
    maya.wait_for_function("() => window.sentSince.includes('sync')", timeout=3000, polling=100)

    held = maya.evaluate(NEWER_PONG, 0)  # the same version it holds: nothing to ask for
    maya.wait_for_timeout(1000)
    assert "sync" not in maya.evaluate("() => window.sentSince")
    assert maya.evaluate("() => window.attunementRoom.connection.version") == held
    assert open_browser.errors == []
