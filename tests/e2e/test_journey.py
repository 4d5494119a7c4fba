"""Before and after the call in real browsers: a member walks the practice and goes from it into the
room, members check in with a word and an emoji, the call runs and ends, three members check out
with one tap each, and the facilitator opens the community's insights and finds the charts of the
weeks before (a call's answers are published 48 hours after it).

The README's screenshots under docs/img/ are taken here, from these real pages."""

import re
from pathlib import Path

from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import expect

from groups.models import Call
from journey.models import CheckOut, PracticeNote
from tests.e2e.test_room_flow import FRAN, Person, enter_room, log_in, open_browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


def screenshot(person, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    person.page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_practice_room_check_out_and_insights(browser, site):
    with override_settings(DEBUG=True):
        call_command("seed_demo")
    call = Call.objects.get(title="Try the room now")

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

        # Maya attunes before the call, from My calls, and writes one private note.
        page = maya.page
        page.goto("/me/calls/")
        page.get_by_role("link", name="Take 2 minutes to attune before your call").click()
        expect(page.get_by_role("heading", name="A moment to attune", level=1)).to_be_visible()
        page.get_by_role("button", name="Begin").click()
        expect(page.get_by_role("heading", name="Pause and ground", level=1)).to_be_visible()
        page.get_by_role("button", name="Next").click()
        expect(page.get_by_text("Step 2 of 5")).to_be_visible()
        page.get_by_label("What you notice in your body (optional)").fill("Tight shoulders, tired hands.")
        screenshot(maya, "practice.png")
        page.get_by_role("button", name="Next").click()
        for _step in range(2):
            page.get_by_role("button", name="Next").click()
        expect(page.get_by_text("Step 5 of 5")).to_be_visible()
        page.get_by_role("button", name="Finish").click()
        expect(page.get_by_role("heading", name="Thank you for pausing", level=1)).to_be_visible()
        assert list(PracticeNote.objects.values_list("step", "text")) == [(2, "Tight shoulders, tired hands.")]
        page.get_by_role("link", name="Go to the room for Try the room now").click()
        expect(page.get_by_role("heading", name="Try the room now", level=1)).to_be_visible()

        for person in [fran, jonas, aiko]:
            enter_room(person, call.pk, fran)
        expect(fran.seat("Maya")).to_be_visible()

        # Check-in: a word from Maya, an emoji from Jonas; everyone sees them beside the names.
        maya.page.get_by_label("Your check-in word").fill("tired")
        maya.page.get_by_role("button", name="Check in", exact=True).click()
        jonas.button("wave").click()
        for person in everyone:
            expect(person.seat("Maya").locator(".seat-checkin")).to_have_text("checked in: tired")
            expect(person.seat("Jonas").locator(".seat-checkin")).to_have_text("checked in: 🌊")
        expect(jonas.button("wave")).to_have_attribute("aria-pressed", "true")
        screenshot(maya, "check-in.png")

        # The call starts and ends; the check-ins are gone and everyone is offered the check-out.
        fran.button("Start the call").click()
        expect(fran.button("End the call")).to_be_visible()
        fran.button("End the call").click()
        fran.button("End the call for everyone").click()
        for person in members:
            expect(person.segment_line).to_have_text("The call has ended. Thank you for being here.")
            expect(person.page.get_by_role("link", name="Check out")).to_be_visible()
        expect(maya.page.locator("#checkin")).to_be_hidden()

        # Three one-tap check-outs; Maya adds what helped.
        for person, score in ((maya, "4"), (jonas, "5"), (aiko, "3")):
            person.page.get_by_role("link", name="Check out").click()
            expect(person.page.get_by_role("heading", name="Did you feel heard today?")).to_be_visible()
            if person is maya:
                screenshot(maya, "check-out.png")
            person.page.get_by_role("button", name=f"{score} ").click()
            expect(person.page.get_by_text("Thank you. Your answer is saved.")).to_be_visible()
        maya.page.get_by_label("Being listened to").check()
        maya.page.get_by_label("Shared experience").check()
        maya.page.get_by_role("button", name="Save").click()
        expect(maya.page.get_by_role("heading", name="My journey", level=1)).to_be_visible()
        assert sorted(CheckOut.objects.filter(call=call).values_list("felt_heard", flat=True)) == [3, 4, 5]
        assert CheckOut.objects.get(call=call, user__email="member1@example.com").helped == ["listened", "shared"]

        # The facilitator's insights: the charts and tables of the weeks before. Today's call is not
        # there yet: its answers are published 48 hours after it, and periods are whole past months.
        page = fran.page
        page.goto(f"/c/{call.community.slug}/")
        page.get_by_role("link", name="Insights").click()
        expect(page.get_by_role("heading", name="Insights", level=1)).to_be_visible()
        expect(page.get_by_role("img", name="Attendance per call")).to_be_visible()
        expect(page.get_by_role("img", name="Felt heard")).to_be_visible()
        expect(page.get_by_role("link", name="Try the room now")).to_have_count(0)
        latest = page.locator(".insights-table tbody tr").first
        expect(latest.get_by_role("cell").nth(6)).to_have_text(re.compile(r"^[1-5]\.[0-9]$"))
        screenshot(fran, "insights.png")
        for person in everyone:
            assert person.errors == [], person.errors
    finally:
        for person in everyone:
            if person.context:
                person.context.close()
