"""An ended call is in "Recent" everywhere: the facilitator ends the call early in the room, and
the member's "My calls", the community page and the call page all say it has ended, offer the
check-out and no longer offer to join. Once the check-out closes, the call stays in "Recent" and the
check-out is no longer offered."""

import threading
from datetime import timedelta

from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from groups.models import RSVP, Call
from journey.demo import Attendee
from tests.personas import build_circle
from tests.rooms import build_room

PASSWORD = "attune-test-pw"


def log_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("form").get_by_role("button").last.click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_an_ended_call_is_in_recent_everywhere(site, page):
    room = build_room(build_circle())
    later = room.circle.call(starts_in=timedelta(days=3), title="Next week's circle")
    RSVP.objects.create(call=later, user=room.maya, status=RSVP.Status.GOING)

    def end_early():
        try:
            room.enter(room.facilitator, room.maya)
            room.act(room.facilitator, "call.start")
            room.act(room.facilitator, "call.end")  # an hour before its scheduled end
        finally:
            connection.close()

    # Off this thread: its event loop belongs to Playwright, and the room broadcasts after commit.
    worker = threading.Thread(target=end_early)
    worker.start()
    worker.join()
    assert Call.objects.get(pk=room.call.pk).ended_at is not None

    log_in(page, room.maya.email)

    page.goto("/me/calls/")
    coming = page.get_by_role("region", name="Coming up")
    recent = page.get_by_role("region", name="Recent")
    expect(recent.get_by_role("link", name="Circle", exact=True)).to_be_visible()
    expect(recent.get_by_text("Ended")).to_be_visible()
    expect(recent.get_by_role("link", name="Check out")).to_be_visible()
    expect(coming.get_by_role("link", name="Circle", exact=True)).to_have_count(0)
    expect(coming.get_by_role("link", name=later.title)).to_be_visible()

    page.goto(room.circle.community.get_absolute_url())
    upcoming = page.get_by_role("region", name="Upcoming calls")
    recent = page.get_by_role("region", name="Recent")
    expect(recent.get_by_role("link", name="Circle", exact=True)).to_be_visible()
    expect(upcoming.get_by_role("link", name="Circle", exact=True)).to_have_count(0)
    expect(upcoming.get_by_role("link", name=later.title)).to_be_visible()

    recent.get_by_role("link", name="Circle", exact=True).click()
    expect(page.get_by_role("heading", name="Circle", level=1)).to_be_visible()
    expect(page.get_by_text("This call has ended.").first).to_be_visible()
    expect(page.get_by_role("link", name="Join the call")).to_have_count(0)
    expect(page.get_by_role("button", name="I'm going")).to_have_count(0)
    page.get_by_role("link", name="Check out: how did it feel?").click()
    expect(page).to_have_url(f"{site.url}/calls/{room.call.pk}/check-out/")


def test_after_the_check_out_closes_the_call_stays_in_recent_without_the_check_out(site, page):
    circle = build_circle()
    maya = [Attendee(circle.member)]  # had a seat and was in the room; no check-out yet
    closed = circle.past_call(weeks_ago=3 / 7, title="Last week's circle", attendees=maya)  # 3 days ago
    fresh = circle.past_call(weeks_ago=3 / (7 * 24), title="This morning's circle", attendees=maya)  # 3 hours ago
    assert closed.checkout_closes_at < timezone.now() < fresh.checkout_closes_at

    log_in(page, circle.member.email)
    for where in ("/me/calls/", circle.community.get_absolute_url()):
        page.goto(where)
        recent = page.get_by_role("region", name="Recent")
        for call, check_outs in ((closed, 0), (fresh, 1)):
            card = recent.get_by_role("listitem").filter(has=page.get_by_role("link", name=call.title, exact=True))
            expect(card.get_by_text("Ended")).to_be_visible()
            expect(card.get_by_role("link", name="Check out")).to_have_count(check_outs)

    page.goto(f"/calls/{closed.pk}/")
    expect(page.get_by_text("This call has ended.").first).to_be_visible()
    expect(page.get_by_role("link", name="Check out: how did it feel?")).to_have_count(0)
    page.goto(f"/calls/{fresh.pk}/")
    expect(page.get_by_role("link", name="Check out: how did it feel?")).to_be_visible()
