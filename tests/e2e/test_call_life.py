"""An ended call is in "Recent" everywhere: the facilitator ends the call early in the room, and
the member's "My calls", the community page and the call page all say it has ended, offer the
check-out and no longer offer to join."""

import threading
from datetime import timedelta

from django.db import connection
from playwright.sync_api import expect

from groups.models import RSVP, Call
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
