"""Each accommodation from the profile, end to end in the live room: extra time, prefers typing, audio
cues, read aloud, large controls, low light and the default for reflections. Then the room's layout
for people who cannot aim precisely, who zoom in, or who are unsettled by motion: target sizes,
reflow at 400% zoom and prefers-reduced-motion."""

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from groups.models import Call
from groups.services.formats import format_create
from groups.services.rsvps import rsvp_set
from tests.personas import build_circle

PASSWORD = "attune-test-pw"
TIMEOUT = 20_000
ROOM_VIEWPORT = {"width": 1100, "height": 900}
REFLECTION_LABEL = "A brief reflection for the person who shared (280 characters)"
SHARE_LABEL = "Type your share. Everyone sees it as you write; it is not saved."


@pytest.fixture(autouse=True)
def _patient_expect():
    """The machine running these may be busy: give every expect() more time than its 5-second default."""
    expect.set_options(timeout=TIMEOUT)
    yield
    expect.set_options(timeout=None)


# Every "attunement:cue" event, with what the room showed at that moment, for this page.
RECORD_CUES = """
window.__cues = [];
document.addEventListener("attunement:cue", (event) => {
  const room = window.attunementRoom;
  const state = room && room.state;
  const turn = state && state.turn;
  window.__cues.push({
    cue: event.detail.cue,
    sounded: event.detail.sounded,
    me: state ? state.you.participant : null,
    phase: state ? state.phase : null,
    speaker: turn ? turn.speaker : null,
    next: state ? state.next : null,
    left_ms: turn && turn.ends_at ? Date.parse(turn.ends_at) - room.connection.clock.now() : null,
  });
});
"""

# The device's speech, replaced by a recorder: window.__spoken lists what would have been said.
RECORD_SPEECH = """
window.__spoken = [];
(() => {
  const record = (utterance) => { window.__spoken.push(String(utterance && utterance.text)); };
  if (typeof window.SpeechSynthesisUtterance !== "function") {
    window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
  }
  try { window.speechSynthesis.speak = record; } catch (error) { /* replaced below */ }
  if (!window.speechSynthesis || window.speechSynthesis.speak !== record) {
    Object.defineProperty(window, "speechSynthesis", {
      configurable: true,
      value: { speak: record, cancel() {}, pause() {}, resume() {}, getVoices: () => [] },
    });
  }
})();
"""


@pytest.fixture
def open_browser(browser, site):
    """Open a browser for a person and log them in. All of them close when the test ends."""
    contexts = []
    errors = []

    def open_(user, *, viewport=ROOM_VIEWPORT, init_script=None, **options):
        context = browser.new_context(base_url=site.url, viewport=viewport, **options)
        contexts.append(context)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        page.on("pageerror", lambda error: errors.append(f"{user.display_name}: {error}"))
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_text(f"Welcome back, {user.display_name}.")).to_be_visible()
        return page

    open_.errors = errors
    yield open_
    for context in contexts:
        context.close()


def call_soon(circle, members, call_format=None):
    """A call that starts in two minutes; the members RSVP in this order (the order of the rounds)."""
    call = circle.call(starts_in=timedelta(minutes=2), minutes=60)
    if call_format is not None:
        Call.objects.filter(pk=call.pk).update(format=call_format)
    for member in members:
        rsvp_set(call_id=call.pk, user=member, going=True)
    return call


def short_format(circle, *, turn_seconds=45, grace_seconds=5, reflection_seconds=0, reflection_mode="either"):
    segment = {"kind": "round", "title": "Quick round", "turn_seconds": turn_seconds}
    if reflection_seconds:
        segment.update(reflection_seconds=reflection_seconds, reflection_mode=reflection_mode)
    return format_create(
        community=circle.community,
        actor=circle.facilitator,
        name="Quick round",
        segments=[segment],
        grace_seconds=grace_seconds,
    )


def enter(page, call, fran=None, name=None):
    page.goto(f"/calls/{call.pk}/room/")
    expect(page.locator("#connection")).to_be_hidden()
    if fran is not None:
        expect(seat(fran, name)).to_be_visible()


def seat(page, name):
    return page.locator("#circle .seat").filter(
        has=page.locator(".seat-name", has_text=re.compile(f"^{re.escape(name)}$"))
    )


def button(page, name):
    return page.get_by_role("button", name=name, exact=True)


def speaker_line(page):
    return page.locator("#speaker-line")


def start_and_reach(fran, segment):
    """The facilitator starts the call and moves on with "Next segment" until `segment` begins."""
    button(fran, "Start the call").click()
    for _ in range(4):
        line = fran.locator("#segment-line")
        expect(line).not_to_have_text("The call has not started yet.")
        if line.text_content() == segment:
            return
        current = line.text_content()
        button(fran, "Next segment").click()
        expect(line).not_to_have_text(current)
    expect(fran.locator("#segment-line")).to_have_text(segment)


def turn_of(page):
    return page.evaluate("() => window.attunementRoom.state.turn")


def turn_length_ms(turn):
    def parse(stamp):
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))

    return round((parse(turn["ends_at"]) - parse(turn["started_at"])).total_seconds() * 1000)


# Extra time


def test_extra_time_doubles_the_servers_deadline_for_that_persons_turns(open_browser):
    circle = build_circle()
    circle.member.extra_time = "2"
    circle.member.save(update_fields=["extra_time"])
    call = call_soon(circle, [circle.member])
    fran = open_browser(circle.facilitator)
    maya = open_browser(circle.member)
    enter(fran, call)
    enter(maya, call, fran, "Maya")

    start_and_reach(fran, "Check-in")  # turns of one minute
    expect(speaker_line(fran)).to_have_text("Your turn. Take your time.")
    expect(speaker_line(maya)).to_have_text("Fran is sharing")
    assert turn_length_ms(turn_of(maya)) == 60_000  # Fran has no extra time
    button(fran, "I'm done").click()

    expect(speaker_line(maya)).to_have_text("Your turn. Take your time.")
    expect(speaker_line(fran)).to_have_text("Maya is sharing")
    assert turn_length_ms(turn_of(maya)) == 120_000
    assert turn_length_ms(turn_of(fran)) == 120_000  # the same deadline for everyone
    expect(maya.locator("#announcer")).to_have_text("Your turn, 2 minutes")
    # The facilitator sees the accommodation, discreetly; other members do not.
    expect(seat(fran, "Maya").locator(".seat-accommodations")).to_have_text("2\N{MULTIPLICATION SIGN} time")
    expect(maya.locator(".seat-accommodations")).to_have_count(0)
    assert open_browser.errors == []


# Prefers typing


def test_prefers_typing_opens_the_share_box_and_lets_them_reflect_in_writing(open_browser):
    circle = build_circle()
    circle.member.prefers_typing = True
    circle.member.save(update_fields=["prefers_typing"])
    # Reflections in this format are spoken; someone who prefers typing still reflects in writing.
    call_format = short_format(circle, turn_seconds=120, reflection_seconds=60, reflection_mode="spoken")
    call = call_soon(circle, [circle.member], call_format)
    fran = open_browser(circle.facilitator)
    maya = open_browser(circle.member)
    enter(fran, call)
    enter(maya, call, fran, "Maya")
    expect(seat(fran, "Maya").locator(".seat-accommodations")).to_have_text("types")

    button(fran, "Start the call").click()
    expect(speaker_line(fran)).to_have_text("Your turn. Take your time.")
    expect(fran.get_by_role("radio", name="Reflections welcome")).to_be_checked()
    button(fran, "I'm done").click()
    expect(speaker_line(maya)).to_have_text("Reflections for Fran")
    reflection = maya.get_by_label(REFLECTION_LABEL)
    expect(reflection).to_be_visible()
    reflection.fill("Thank you for saying it out loud.")
    button(maya, "Send reflection").click()
    expect(fran.locator("#received-reflections")).to_contain_text("Thank you for saying it out loud.")
    button(fran, "Close reflections").click()

    # Her turn opens with the typed share box showing and focused.
    expect(speaker_line(maya)).to_have_text("Your turn. Take your time.")
    share_box = maya.get_by_label(SHARE_LABEL)
    expect(share_box).to_be_visible()
    expect(share_box).to_be_focused()
    expect(button(maya, "Type instead")).to_have_attribute("aria-pressed", "true")
    maya.keyboard.type("Writing is easier today.")
    expect(fran.locator("#typed-share-text")).to_have_text("Writing is easier today.")
    assert open_browser.errors == []


# Audio cues


def cues(page):
    return page.evaluate("() => window.__cues")


def wait_for_cue(page, name, timeout=TIMEOUT):
    try:
        page.wait_for_function("(name) => window.__cues.some((c) => c.cue === name)", arg=name, timeout=timeout)
    except Exception as error:
        raise AssertionError(f"the {name!r} cue never fired; the cues were: {cues(page)}") from error
    return next(c for c in cues(page) if c["cue"] == name)


def test_audio_cues_fire_at_the_right_moments(open_browser):
    circle = build_circle()
    jonas = circle.add_member("jonas@example.com", display_name="Jonas", audio_cues=False)
    # One round of 45-second turns with a 5-second grace period: every timed cue within a minute.
    call = call_soon(circle, [circle.member, jonas], short_format(circle, turn_seconds=45, grace_seconds=5))
    fran = open_browser(circle.facilitator)
    maya = open_browser(circle.member, init_script=RECORD_CUES)
    jonas_page = open_browser(jonas, init_script=RECORD_CUES)
    enter(fran, call)
    enter(maya, call, fran, "Maya")
    enter(jonas_page, call, fran, "Jonas")
    assert cues(maya) == [] and cues(jonas_page) == []

    # The round: Fran, Maya, Jonas. Maya is next as soon as Fran begins.
    button(fran, "Start the call").click()
    expect(speaker_line(maya)).to_have_text("Fran is sharing")
    soon = wait_for_cue(maya, "turn-soon")
    assert soon["sounded"] is True
    assert soon["next"] == soon["me"] and soon["speaker"] != soon["me"], soon
    assert [c["cue"] for c in cues(maya)] == ["turn-soon"]
    assert cues(jonas_page) == []

    # Maya's turn: "turn-now" for her; Jonas is next now, and his cue is silent (he turned them off).
    button(fran, "I'm done").click()
    now = wait_for_cue(maya, "turn-now")
    assert now["sounded"] is True and now["speaker"] == now["me"], now
    jonas_soon = wait_for_cue(jonas_page, "turn-soon")
    assert jonas_soon["sounded"] is False and jonas_soon["next"] == jonas_soon["me"], jonas_soon

    # Jonas resonates with Maya's share: she hears it.
    button(jonas_page, "Resonates").click()
    resonated = wait_for_cue(maya, "resonated")
    assert resonated["sounded"] is True and resonated["speaker"] == resonated["me"], resonated

    # 30 seconds before her time is up, and when it is.
    thirty = wait_for_cue(maya, "thirty-seconds", timeout=40_000)
    assert thirty["sounded"] is True and thirty["speaker"] == thirty["me"], thirty
    assert 25_000 < thirty["left_ms"] <= 30_000, thirty
    up = wait_for_cue(maya, "time-up", timeout=45_000)
    assert up["sounded"] is True and up["speaker"] == up["me"], up
    assert -2_000 < up["left_ms"] <= 0, up
    expect(maya.locator("#time-note")).to_have_text("Time is up. Finishing gently.")
    expect(maya.locator("#time-left")).to_have_text("0:00")
    assert [c["cue"] for c in cues(maya)] == ["turn-soon", "turn-now", "resonated", "thirty-seconds", "time-up"]

    # After the grace period the room moves on to Jonas: his "turn-now" is silent too.
    jonas_now = wait_for_cue(jonas_page, "turn-now", timeout=TIMEOUT)
    assert jonas_now["speaker"] == jonas_now["me"], jonas_now
    assert [c["sounded"] for c in cues(jonas_page)] == [False] * len(cues(jonas_page))
    button(fran, "End the call").click()
    button(fran, "End the call for everyone").click()
    expect(maya.locator("#segment-line")).to_have_text("The call has ended. Thank you for being here.")
    assert open_browser.errors == []


# Read aloud


def spoken(page):
    return page.evaluate("() => window.__spoken")


def test_read_aloud_speaks_typed_shares_and_reflections_only_for_those_who_asked(open_browser):
    circle = build_circle()
    circle.member.read_aloud = True
    circle.member.save(update_fields=["read_aloud"])
    aiko = circle.add_member("aiko@example.com", display_name="Aiko", read_aloud=True)
    jonas = circle.add_member("jonas@example.com", display_name="Jonas", read_aloud=False)
    call = call_soon(circle, [circle.member, aiko, jonas])
    fran = open_browser(circle.facilitator, init_script=RECORD_SPEECH)
    maya = open_browser(circle.member, init_script=RECORD_SPEECH)
    aiko_page = open_browser(aiko, init_script=RECORD_SPEECH)
    jonas_page = open_browser(jonas, init_script=RECORD_SPEECH)
    enter(fran, call)
    for page, name in [(maya, "Maya"), (aiko_page, "Aiko"), (jonas_page, "Jonas")]:
        enter(page, call, fran, name)

    start_and_reach(fran, "Sharing")
    expect(speaker_line(fran)).to_have_text("Your turn. Take your time.")
    fran.get_by_role("radio", name="Just listen").check()
    button(fran, "I'm done").click()

    # Maya types her share: Aiko (read aloud on) hears it; Jonas and Fran (off) do not; Maya, who wrote
    # it, does not hear her own words.
    expect(speaker_line(maya)).to_have_text("Your turn. Take your time.")
    button(maya, "Type instead").click()
    share = "This week was lighter than the last."
    expect(maya.get_by_label(SHARE_LABEL)).to_be_focused()
    maya.keyboard.type(share)
    expect(aiko_page.locator("#typed-share-text")).to_have_text(share)
    aiko_page.wait_for_function("(text) => window.__spoken.join('') === text", arg=share)
    button(maya, "I'm done").click()

    # Jonas sends a typed reflection: Maya, the sharer (read aloud on), hears it.
    expect(speaker_line(jonas_page)).to_have_text("Reflections for Maya")
    reflection = "I heard how much lighter it feels."
    jonas_page.get_by_label(REFLECTION_LABEL).fill(reflection)
    button(jonas_page, "Send reflection").click()
    maya.wait_for_function("(text) => window.__spoken.includes(text)", arg=reflection)

    # Maya shows it to everyone: Aiko hears it; Jonas and Fran do not; Maya is not read it a second time.
    maya.locator("#received-reflections").get_by_role("button", name="Show to everyone").click()
    expect(aiko_page.locator("#shown-reflections")).to_contain_text(reflection)
    expect(jonas_page.locator("#shown-reflections")).to_contain_text(reflection)
    aiko_page.wait_for_function("(text) => window.__spoken.includes(text)", arg=reflection)
    button(fran, "Close reflections").click()
    expect(speaker_line(aiko_page)).to_have_text("Your turn. Take your time.")

    assert spoken(aiko_page)[-1] == reflection
    assert "".join(spoken(aiko_page)[:-1]) == share
    assert spoken(maya) == [reflection], "the sharer hears each reflection once, and never her own share"
    assert spoken(jonas_page) == []
    assert spoken(fran) == []
    assert open_browser.errors == []


# Large controls


def test_large_controls_show_just_the_speaker_the_time_and_large_buttons(open_browser):
    circle = build_circle()
    circle.member.large_controls = True
    circle.member.save(update_fields=["large_controls"])
    call = call_soon(circle, [circle.member])
    fran = open_browser(circle.facilitator)
    maya = open_browser(circle.member)
    enter(fran, call)
    enter(maya, call, fran, "Maya")
    expect(maya.locator("body")).to_have_class(re.compile(r"\blarge-controls\b"))
    expect(fran.locator("body")).not_to_have_class(re.compile(r"\blarge-controls\b"))

    start_and_reach(fran, "Check-in")
    expect(speaker_line(maya)).to_have_text("Fran is sharing")
    expect(maya.locator("#circle")).to_be_hidden()
    expect(fran.locator("#circle")).to_be_visible()
    expect(maya.locator("#time-left")).to_have_text(re.compile(r"^\d+:\d\d$"))
    for name in ["Resonates", "Pass"]:
        expect(button(maya, name)).to_be_visible()
        box = button(maya, name).bounding_box()
        assert box["height"] >= 88, f"{name}: {box}"

    button(fran, "I'm done").click()
    expect(speaker_line(maya)).to_have_text("Your turn. Take your time.")
    for name in ["I'm done", "Pass", "Type instead"]:
        box = button(maya, name).bounding_box()
        assert box["height"] >= 88, f"{name}: {box}"

    # The simple layout still says when the call is paused and when it has ended.
    button(fran, "Pause").click()
    expect(maya.get_by_text(re.compile(r"\bPaused\b"))).to_be_visible()
    button(fran, "Resume").click()
    button(fran, "End the call").click()
    button(fran, "End the call for everyone").click()
    expect(fran.locator("#segment-line")).to_have_text("The call has ended. Thank you for being here.")
    expect(maya.get_by_text("The call has ended. Thank you for being here.")).to_be_visible()
    assert open_browser.errors == []


# Low light


def test_low_light_chosen_once_in_the_profile_follows_the_account_to_another_device(open_browser):
    circle = build_circle()
    laptop = open_browser(circle.member)
    phone = open_browser(circle.member, viewport={"width": 390, "height": 800}, color_scheme="light")
    expect(phone.locator("html")).to_have_attribute("data-theme", "system")

    laptop.goto("/accounts/profile/")
    laptop.get_by_role("radio", name="Low light").check()
    laptop.get_by_role("button", name="Save").click()
    expect(laptop.get_by_text("Your profile is saved.")).to_be_visible()
    expect(laptop.locator("html")).to_have_attribute("data-theme", "low-light")

    # Another device, logged in separately, on a system set to light: the account's choice wins.
    phone.goto("/")
    expect(phone.locator("html")).to_have_attribute("data-theme", "low-light")
    expect(phone.get_by_role("button", name="Low light")).to_have_attribute("aria-pressed", "true")
    background = phone.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(18, 20, 23)", background
    assert open_browser.errors == []


# After I share, by default


def test_reflections_default_just_listen_starts_their_turn_in_just_listen(open_browser):
    circle = build_circle()
    circle.member.reflections_default = "listen"
    circle.member.save(update_fields=["reflections_default"])
    jonas = circle.add_member("jonas@example.com", display_name="Jonas")
    call = call_soon(circle, [circle.member, jonas])
    fran = open_browser(circle.facilitator)
    maya = open_browser(circle.member)
    jonas_page = open_browser(jonas)
    enter(fran, call)
    enter(maya, call, fran, "Maya")
    enter(jonas_page, call, fran, "Jonas")

    start_and_reach(fran, "Sharing")
    expect(fran.get_by_role("radio", name="Reflections welcome")).to_be_checked()  # Fran's own default
    fran.get_by_role("radio", name="Just listen").check()
    button(fran, "I'm done").click()

    expect(speaker_line(maya)).to_have_text("Your turn. Take your time.")
    expect(maya.get_by_role("radio", name="Just listen")).to_be_checked()
    assert turn_of(jonas_page)["share_mode"] == "listen"
    expect(speaker_line(jonas_page)).to_have_text("Maya is sharing")
    expect(button(jonas_page, "Resonates")).to_be_hidden()
    # Done without reflections: the round goes straight on to Jonas.
    button(maya, "I'm done").click()
    expect(speaker_line(jonas_page)).to_have_text("Your turn. Take your time.")
    expect(button(maya, "Raise hand")).to_be_hidden()
    assert open_browser.errors == []


# Target sizes, reflow and motion

# The visible targets on the page: buttons, form fields and links, except links inside a sentence
# (WCAG 2.5.8 exempts those). A checkbox or radio button inside its label is measured with the label,
# since the whole label takes the click.
PRIMARY = [
    ".room-button",
    "#audio-panel .buttons button",
    ".facilitator-panel .buttons button",
    "#btn-support",
    "#reflection-form button",
]
TARGETS = """([scope, primary]) => {
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== "hidden";
  };
  const inSentence = (link) => {
    const block = link.closest("p, li, td, dd, label, span, h1, h2, h3, h4") || link.parentElement;
    return block.textContent.replace(/\\s+/g, " ").trim() !== link.textContent.replace(/\\s+/g, " ").trim();
  };
  const describe = (el) => {
    const name = (el.getAttribute("aria-label") || el.textContent || el.getAttribute("name") || el.id || "")
      .replace(/\\s+/g, " ").trim().slice(0, 40);
    return `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${el.type ? "[" + el.type + "]" : ""} "${name}"`;
  };
  const root = document.querySelector(scope);
  const found = [];
  for (const el of root.querySelectorAll("button, a[href], input:not([type=hidden]), select, textarea")) {
    if (!visible(el) || el.closest(".visually-hidden")) continue;
    if (el.tagName === "A" && inSentence(el)) continue;
    let box = el.getBoundingClientRect();
    const label = el.closest("label");
    if (label && ["checkbox", "radio"].includes(el.type)) box = label.getBoundingClientRect();
    found.push({ what: describe(el), width: box.width, height: box.height, primary: el.matches(primary) });
  }
  return found;
}"""


def small_targets(page, scope="body"):
    problems = []
    for target in page.evaluate(TARGETS, [scope, ", ".join(PRIMARY)]):
        least = 44 if target["primary"] else 24
        if target["width"] < least or target["height"] < least:
            problems.append(
                f"{target['what']}: {target['width']:.0f}x{target['height']:.0f} CSS px, needs {least}x{least}"
            )
    return problems


def test_room_targets_are_large_enough(open_browser):
    circle = build_circle()
    call = call_soon(circle, [circle.member])
    fran = open_browser(circle.facilitator)
    maya = open_browser(circle.member)
    enter(fran, call)
    enter(maya, call, fran, "Maya")
    button(maya, "Turn on sound and microphone").click()
    expect(button(maya, "Microphone")).to_be_visible()

    problems = []
    problems += [f"lobby, facilitator: {p}" for p in small_targets(fran)]
    start_and_reach(fran, "Sharing")
    expect(button(maya, "Resonates")).to_be_visible()
    problems += [f"turn, speaker (facilitator): {p}" for p in small_targets(fran)]
    problems += [f"turn, listener: {p}" for p in small_targets(maya)]
    button(fran, "I'm done").click()
    expect(maya.get_by_label(REFLECTION_LABEL)).to_be_visible()
    problems += [f"reflections, listener: {p}" for p in small_targets(maya)]
    maya.get_by_label(REFLECTION_LABEL).fill("Thank you.")
    button(maya, "Send reflection").click()
    expect(fran.get_by_role("button", name="Show to everyone")).to_be_visible()
    problems += [f"reflections, sharer: {p}" for p in small_targets(fran)]
    button(fran, "Close reflections").click()
    expect(speaker_line(maya)).to_have_text("Your turn. Take your time.")
    button(maya, "I need support").click()
    expect(maya.locator("#support-panel")).to_be_visible()
    problems += [f"turn, speaker with the support panel: {p}" for p in small_targets(maya)]
    assert not problems, "Targets too small to hit reliably:\n" + "\n".join(problems)


OVERFLOW = """() => {
  const classes = (el) => (typeof el.className === "string" ? el.className.trim().split(/\\s+/).filter(Boolean) : []);
  const name = (el) => [el.tagName.toLowerCase() + (el.id ? "#" + el.id : ""), ...classes(el)].join(".");
  // The innermost elements whose content is wider than they are, or that reach past the window.
  const spills = (el) => el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0;
  const wide = [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1 || spills(el))
    .filter((el) => !el.closest(".visually-hidden") && ![...el.querySelectorAll("*")].some(spills));
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    wide: wide.slice(0, 8).map(name),
  };
}"""


def overflow(page):
    return page.evaluate(OVERFLOW)


def sideways(page, where):
    """A description of the horizontal scrolling on this page, or nothing when it reflows."""
    width = overflow(page)
    if width["scrollWidth"] <= width["innerWidth"]:
        return []
    return [f"{where} scrolls sideways at {width['innerWidth']} CSS px: {width}"]


NARROW = {"width": 320, "height": 720}  # 1280 px at 400% zoom
# Links as people paste them: long, and with nowhere to break a line.
DOCUMENT_LINK = "https://docs.google.com/document/d/1xQ3kYw9VbN2mLpZrT8sHcJfA4uE7gD0oRiWnXyKtMvB/edit?usp=sharing"
VIDEO_LINK = "https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG"


def test_text_reflows_at_400_percent_zoom_without_horizontal_scrolling(browser, site, open_browser):
    circle = build_circle()
    call = call_soon(circle, [circle.member])
    found = []

    context = browser.new_context(base_url=site.url, viewport=NARROW)
    try:
        page = context.new_page()
        page.goto("/")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        found += sideways(page, "the home page")
    finally:
        context.close()

    fran = open_browser(circle.facilitator, viewport=NARROW)
    maya = open_browser(circle.member, viewport=NARROW)
    found += sideways(maya, "the home page, logged in")
    enter(fran, call)
    enter(maya, call, fran, "Maya")
    found += sideways(maya, "the room before the start")
    found += sideways(fran, "the room before the start, facilitator")
    start_and_reach(fran, "Sharing")
    expect(speaker_line(maya)).to_have_text("Fran is sharing")
    found += sideways(maya, "the room, listening")
    found += sideways(fran, "the room, speaking (facilitator)")

    # A typed share and a reflection with long links in them.
    button(fran, "Type instead").click()
    expect(fran.get_by_label(SHARE_LABEL)).to_be_focused()
    fran.keyboard.type(f"This helped me: {DOCUMENT_LINK}")
    expect(maya.locator("#typed-share-text")).to_have_text(f"This helped me: {DOCUMENT_LINK}")
    found += sideways(maya, "the room, reading a typed share with a link")
    found += sideways(fran, "the room, typing a share with a link")
    button(fran, "I'm done").click()
    expect(maya.get_by_label(REFLECTION_LABEL)).to_be_visible()
    found += sideways(maya, "the room, reflecting")
    maya.get_by_label(REFLECTION_LABEL).fill(f"This one helped me: {VIDEO_LINK}")
    button(maya, "Send reflection").click()
    expect(fran.locator("#received-reflections")).to_contain_text(VIDEO_LINK)
    found += sideways(fran, "the room, a reflection with a link received")
    fran.get_by_role("button", name="Show to everyone").click()
    expect(maya.locator("#shown-reflections")).to_contain_text(VIDEO_LINK)
    found += sideways(maya, "the room, a reflection with a link shown")
    button(fran, "Close reflections").click()
    expect(speaker_line(maya)).to_have_text("Your turn. Take your time.")
    found += sideways(maya, "the room, speaking")

    # The support panel, with a private message that carries a link.
    button(maya, "I need support").click()
    expect(maya.locator("#support-panel")).to_be_visible()
    fran.get_by_role("textbox", name="Write privately to Maya").fill(f"Here is the group I mentioned: {VIDEO_LINK}")
    fran.locator("#support-threads").get_by_role("button", name="Send privately").click()
    expect(maya.locator("#support-messages")).to_contain_text(VIDEO_LINK)
    found += sideways(maya, "the room, the support panel with a message")
    found += sideways(fran, "the room, a support thread, facilitator")
    assert not found, "\n".join(found)
    assert open_browser.errors == []


def ring_transition_seconds(page):
    durations = page.evaluate("() => getComputedStyle(document.getElementById('ring-time')).transitionDuration")
    return max(float(d[:-2]) / 1000 if d.endswith("ms") else float(d[:-1]) for d in durations.split(","))


def test_reduced_motion_stops_the_countdown_ring_moving(open_browser):
    circle = build_circle()
    jonas = circle.add_member("jonas@example.com", display_name="Jonas")
    call = call_soon(circle, [circle.member, jonas])
    fran = open_browser(circle.facilitator)
    maya = open_browser(circle.member, reduced_motion="reduce")
    jonas_page = open_browser(jonas, reduced_motion="no-preference")
    enter(fran, call)
    enter(maya, call, fran, "Maya")
    enter(jonas_page, call, fran, "Jonas")
    start_and_reach(fran, "Check-in")
    expect(maya.locator("#time-left")).to_have_text(re.compile(r"^\d+:\d\d$"))

    assert ring_transition_seconds(jonas_page) > 0.1  # the ring glides for those who do not mind motion
    assert ring_transition_seconds(maya) <= 0.001
    assert open_browser.errors == []
