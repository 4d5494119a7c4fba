"""Time cannot be stopped: the last speaker of the check-in round closes their page in the middle of
their turn, and the room moves on for the three people still there. (Once, that froze the room:
the turn's deadline and the speaker's absence fell due together.)"""

from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import expect

from groups.models import Call
from tests.e2e.test_room_flow import FRAN, Person, enter_room, expect_turn, finish_turn, log_in, open_browser

# The speaker is skipped 15 s after their page went; the pause between segments is 8 s. Either the
# server's clock or a browser's nudge moves the room; both come within a second or so.
MOVES_ON_WITHIN = 15_000 + 8_000 + 7_000


def test_the_last_speaker_closing_their_page_mid_turn_does_not_stop_the_room(browser, site):
    with override_settings(DEBUG=True):
        call_command("seed_demo")
    call_id = Call.objects.get(title="Try the room now").pk
    fran = Person(FRAN, "facilitator@example.com")
    maya = Person("Maya", "member1@example.com")
    jonas = Person("Jonas", "member2@example.com")
    aiko = Person("Aiko", "member3@example.com")
    everyone = [fran, maya, jonas, aiko]
    staying = [fran, maya, jonas]
    try:
        for person in everyone:
            open_browser(browser, site, person)
            log_in(person)
        for person in everyone:
            enter_room(person, call_id, fran)
        fran.button("Start the call").click()
        for person in everyone:
            expect(person.segment_line).to_have_text("Arriving")
        fran.button("Next segment").click()
        for person in everyone:
            expect(person.segment_line).to_have_text("Check-in")

        expect_turn(everyone, fran, "1 minute")
        finish_turn(fran)
        expect_turn(everyone, maya, "1 minute")
        finish_turn(maya)
        expect_turn(everyone, jonas, "1 minute")
        finish_turn(jonas)
        expect_turn(everyone, aiko, "1 minute")  # the last of the round

        aiko.context.close()  # her page goes in the middle of her turn
        aiko.context = None

        for person in staying:
            expect(person.seat("Aiko").locator(".seat-status")).to_have_text("away")
        for person in staying:
            expect(person.segment_line).to_have_text("Sharing", timeout=MOVES_ON_WITHIN)
        expect_turn(staying, fran, "2 minutes")  # the sharing round begins, and it goes on
        fran.page.get_by_role("radio", name="Just listen").check()
        finish_turn(fran)
        expect_turn(staying, maya, "2 minutes")
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
