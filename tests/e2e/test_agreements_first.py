""" "I'm going" before accepting the group agreements leads to the agreements, and accepting them
leads back to the call, where "I'm going" then takes a seat."""

from datetime import timedelta

from playwright.sync_api import expect

from groups.models import RSVP, Membership
from tests.e2e.test_call_life import log_in
from tests.personas import build_circle


def test_im_going_before_the_agreements_leads_to_them_and_back_to_the_call(site, page):
    circle = build_circle()
    newcomer = circle.add_member("new@example.com", display_name="Nia")
    Membership.objects.filter(user=newcomer).update(accepted_agreements_version=None)
    call = circle.call(starts_in=timedelta(days=2), title="Sunday circle")

    log_in(page, newcomer.email)
    page.goto(f"/calls/{call.pk}/")
    panel = page.get_by_role("region", name="Your place")
    expect(panel.get_by_role("link", name="the group agreements")).to_be_visible()
    panel.get_by_role("button", name="I'm going").click()

    expect(page.get_by_role("heading", name="Our group agreements")).to_be_visible()
    assert f"next=/calls/{call.pk}/" in page.url.replace("%2F", "/")
    page.get_by_role("checkbox", name="I have read these agreements and I will keep them.").check()
    page.get_by_role("button", name="Accept the agreements").click()

    expect(page.get_by_role("heading", name="Sunday circle", level=1)).to_be_visible()
    expect(page).to_have_url(f"{site.url}/calls/{call.pk}/")
    expect(page.get_by_text("Thank you. You are ready to join calls.")).to_be_visible()
    panel = page.get_by_role("region", name="Your place")
    expect(panel.get_by_role("link", name="the group agreements")).to_have_count(0)
    panel.get_by_role("button", name="I'm going").click()
    expect(panel.get_by_text("You are going.")).to_be_visible()
    assert RSVP.objects.get(call=call, user=newcomer).status == RSVP.Status.GOING
