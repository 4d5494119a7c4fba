"""The live room end to end: the demo facilitator and three demo members take the demo call from
the lobby to its end in four browsers: the grounding, a check-in round where one member passes and
is offered a turn again, the sharing round with a typed share, a resonance, a typed reflection
that the sharer shows to everyone, and the end of the call. Screen-reader users hear each change
through the live region #announcer, so the test listens there too."""

import re
from dataclasses import dataclass, field

from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import expect

from groups.models import Call

PASSWORD = "attune-demo"
FRAN = "Fran"
ROOM_VIEWPORT = {"width": 1100, "height": 900}
# The pause between segments is 8 s; a browser nudges the server once it has passed.
BETWEEN_SEGMENTS_TIMEOUT = 15_000
REFLECTION_LABEL = "A brief reflection for the person who shared (280 characters)"


@dataclass
class Person:
    name: str
    email: str
    context: object = None
    page: object = None
    errors: list = field(default_factory=list)
    console: list = field(default_factory=list)

    def button(self, name):
        return self.page.get_by_role("button", name=name, exact=True)

    @property
    def announcer(self):
        return self.page.locator("#announcer")

    @property
    def speaker_line(self):
        return self.page.locator("#speaker-line")

    @property
    def segment_line(self):
        return self.page.locator("#segment-line")

    def seat(self, name):
        return self.page.locator("#circle .seat").filter(
            has=self.page.locator(".seat-name", has_text=re.compile(f"^{re.escape(name)}$"))
        )


def open_browser(browser, site, person):
    person.context = browser.new_context(base_url=site.url, viewport=ROOM_VIEWPORT)
    person.page = person.context.new_page()
    person.page.set_default_timeout(10_000)
    person.page.on("pageerror", lambda error: person.errors.append(f"{person.name}: {error}"))
    person.page.on(
        "console",
        lambda message: person.console.append(f"{person.name}: {message.text}") if message.type == "error" else None,
    )


def log_in(person):
    page = person.page
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(f"Welcome back, {person.name}.")).to_be_visible()


def enter_room(person, call_id, fran):
    """Everyone enters in turn, each in the circle (as the facilitator sees it) before the next arrives."""
    person.page.goto(f"/calls/{call_id}/room/")
    expect(person.page.get_by_role("heading", name="Try the room now", level=1)).to_be_visible()
    expect(person.page.locator("#connection")).to_be_hidden()
    expect(person.seat(person.name)).to_be_visible()
    expect(fran.seat(person.name)).to_be_visible()


def expect_turn(everyone, speaker, duration):
    """Everyone hears whose turn it is; the speaker hears that it is theirs."""
    for person in everyone:
        if person is speaker:
            expect(person.announcer).to_have_text(f"Your turn, {duration}")
            expect(person.speaker_line).to_have_text("Your turn. Take your time.")
            expect(person.button("I'm done")).to_be_visible()
        else:
            expect(person.announcer).to_have_text(f"{speaker.name} is sharing, {duration}")
            expect(person.speaker_line).to_have_text(f"{speaker.name} is sharing")
            expect(person.button("I'm done")).to_be_hidden()


def finish_turn(speaker):
    speaker.button("I'm done").click()
    expect(speaker.button("I'm done")).to_be_hidden()


def test_demo_call_from_start_to_end_in_four_browsers(browser, site):
    with override_settings(DEBUG=True):
        call_command("seed_demo")
    call_id = Call.objects.get(title="Try the room now").pk

    fran = Person(FRAN, "facilitator@example.com")
    maya = Person("Maya", "member1@example.com")
    jonas = Person("Jonas", "member2@example.com")
    aiko = Person("Aiko", "member3@example.com")
    everyone = [fran, maya, jonas, aiko]
    members = [maya, jonas, aiko]

    try:
        for person in everyone:
            open_browser(browser, site, person)
            log_in(person)
        for person in everyone:
            enter_room(person, call_id, fran)
        expect(fran.button("Start the call")).to_be_visible()
        for person in members:
            expect(person.segment_line).to_have_text("The call has not started yet.")
            expect(person.button("Start the call")).to_have_count(0)  # only the facilitator has the panel

        # The facilitator starts the call with the grounding, then moves on to the check-in.
        fran.button("Start the call").click()
        for person in everyone:
            expect(person.segment_line).to_have_text("Arriving")
            expect(person.speaker_line).to_have_text("A shared pause. Notice your breath and your body.")
            expect(person.announcer).to_have_text("Arriving begins")
        expect(fran.button("Start the call")).to_be_hidden()
        fran.button("Next segment").click()

        check_in_round(everyone)
        sharing_round(everyone)

        # The facilitator ends the call; every browser says so.
        fran.button("End the call").click()
        fran.button("End the call for everyone").click()
        for person in everyone:
            expect(person.segment_line).to_have_text("The call has ended. Thank you for being here.")
            expect(person.announcer).to_have_text("The call has ended. Thank you for being here.")
            expect(person.page.locator("#my-controls")).to_be_hidden()
        expect(fran.button("End the call")).to_be_hidden()

        # Coming back to an ended call's room says so. (This also lets the server finish with the old
        # sockets before the test's database is emptied.)
        for person in everyone:
            person.page.reload()
            expect(person.page.locator("#connection")).to_have_text("This call has ended.")
    except Exception as failure:
        seen = [line for person in everyone for line in person.errors + person.console]
        if seen:
            failure.add_note("In the browsers:\n" + "\n".join(seen))
        raise
    finally:
        for person in everyone:
            if person.context is not None:
                person.context.close()
    assert [error for person in everyone for error in person.errors] == []


def check_in_round(everyone):
    fran, maya, jonas, aiko = everyone
    for person in everyone:
        expect(person.segment_line).to_have_text("Check-in")
    expect_turn(everyone, fran, "1 minute")
    # The round goes facilitator first, then in the order people RSVP'd (here: the order they arrived).
    expect(fran.page.locator("#order-list > li")).to_have_text(
        [re.compile(rf"^{re.escape(person.name)} \(") for person in everyone]
    )
    for person in [jonas, aiko, fran]:
        expect(person.page.locator("#next-line")).to_have_text("Next: Maya")

    # Check-in has no time for reflections: "Reflections welcome" is not offered, and nobody answers by hand.
    expect(fran.page.get_by_role("radio", name="Reflections welcome")).to_be_hidden()
    expect(fran.page.get_by_role("radio", name="Resonance only")).to_be_checked()
    for person in [maya, jonas, aiko]:
        expect(person.button("Resonates")).to_be_visible()
        expect(person.button("Raise hand")).to_be_hidden()

    # Jonas passes before his turn comes; Maya and Aiko still wait for theirs.
    for person in [maya, jonas, aiko]:
        expect(person.button("Pass")).to_be_visible()
    jonas.button("Pass").click()
    expect(jonas.button("Pass")).to_be_hidden()
    for person in everyone:
        expect(person.seat("Jonas").locator(".seat-status")).to_have_text("passed")

    finish_turn(fran)
    expect_turn(everyone, maya, "1 minute")
    for person in [fran, jonas, maya]:
        expect(person.page.locator("#next-line")).to_have_text("Next: Aiko")

    # The room moves on past Jonas to Aiko; Jonas is offered a turn again at the end of the round.
    finish_turn(maya)
    expect_turn(everyone, aiko, "1 minute")
    for person in [fran, maya, aiko]:
        expect(person.page.locator("#next-line")).to_have_text("Next: Jonas")
    expect(fran.seat("Maya").locator(".seat-status")).to_have_text("has shared")

    finish_turn(aiko)
    expect_turn(everyone, jonas, "1 minute")
    expect(jonas.button("Pass")).to_be_visible()  # he could pass again; he shares this time
    finish_turn(jonas)

    # The check-in is complete: a breath between segments (8 s), then the sharing round begins on its own.
    for person in everyone:
        expect(person.segment_line).to_have_text("Next: Sharing")
    expect(fran.page.locator("#next-line")).to_have_text("")
    for person in everyone:
        expect(person.segment_line).to_have_text("Sharing", timeout=BETWEEN_SEGMENTS_TIMEOUT)


def sharing_round(everyone):
    fran, maya, jonas, aiko = everyone
    listeners_of_maya = [fran, jonas, aiko]
    expect_turn(everyone, fran, "2 minutes")

    # Fran asks only to be listened to: listeners see no "Resonates" for her share, and no reflections follow.
    expect(fran.page.get_by_role("radio", name="Reflections welcome")).to_be_checked()
    expect(maya.button("Resonates")).to_be_visible()
    fran.page.get_by_role("radio", name="Just listen").check()
    for person in [maya, jonas, aiko]:
        expect(person.button("Resonates")).to_be_hidden()
    finish_turn(fran)
    expect_turn(everyone, maya, "2 minutes")

    # Maya types instead of speaking; everyone reads her share as she writes it.
    expect(maya.page.get_by_role("radio", name="Reflections welcome")).to_be_checked()
    maya.button("Type instead").click()
    expect(maya.button("Type instead")).to_have_attribute("aria-pressed", "true")
    share_box = maya.page.get_by_label("Type your share. Everyone sees it as you write; it is not saved.")
    expect(share_box).to_be_focused()
    share_box.press_sequentially("This week was ")
    for person in listeners_of_maya:
        expect(person.page.locator("#typed-share-text")).to_have_text("This week was")
    share_box.press_sequentially("lighter than the last.")
    for person in everyone:
        expect(person.page.locator("#typed-share-text")).to_have_text("This week was lighter than the last.")

    # Jonas resonates: Maya sees a soft count, nobody else does.
    jonas.button("Resonates").click()
    expect(maya.page.get_by_text("1 resonated")).to_be_visible()
    for person in listeners_of_maya:
        expect(person.page.locator("#resonance")).to_be_hidden()
        expect(person.page.get_by_text("resonated")).to_have_count(0)

    # Maya is done, with reflections welcome (her default): the listeners may reflect, spoken or typed.
    finish_turn(maya)
    for person in everyone:
        expect(person.speaker_line).to_have_text("Reflections for Maya")
        expect(person.announcer).to_have_text("Reflections for Maya")
    expect(maya.page.get_by_label(REFLECTION_LABEL)).to_be_hidden()
    expect(maya.button("Raise hand")).to_be_hidden()
    for person in listeners_of_maya:
        expect(person.button("Raise hand")).to_be_visible()
        expect(person.page.get_by_label(REFLECTION_LABEL)).to_be_visible()
    expect(fran.button("Close reflections")).to_be_visible()

    # Aiko sends a typed reflection; only Maya receives it, and she shows it to everyone.
    reflection = "Thank you, Maya. I heard how much lighter it feels."
    aiko.page.get_by_label(REFLECTION_LABEL).fill(reflection)
    aiko.button("Send reflection").click()
    expect(aiko.page.get_by_text("Sent. The person who shared decides whether everyone sees it.")).to_be_visible()
    received = maya.page.locator("#received-reflections")
    expect(received.get_by_role("heading", name="Reflections for you")).to_be_visible()
    expect(received.get_by_role("listitem")).to_have_count(1)
    expect(received.get_by_role("listitem")).to_contain_text(["From Aiko"])
    expect(received.get_by_role("listitem")).to_contain_text([reflection])
    expect(maya.announcer).to_have_text("A reflection from Aiko")
    for person in listeners_of_maya:
        expect(person.page.get_by_text(reflection)).to_have_count(0)
        expect(person.page.get_by_role("heading", name="Reflections for you")).to_be_hidden()

    received.get_by_role("button", name="Show to everyone").click()
    expect(received.get_by_role("button", name="Shown to everyone")).to_be_disabled()
    for person in everyone:
        shown = person.page.locator("#shown-reflections")
        expect(shown.get_by_role("heading", name="Reflections shared with the group")).to_be_visible()
        expect(shown.get_by_role("listitem")).to_have_text([f"Aiko: {reflection}"])
    for person in listeners_of_maya:
        expect(person.announcer).to_have_text(f"Aiko reflected: {reflection}")
