"""The scheduling story end to end: a facilitator starts a community and a weekly series, invites
people, and three members RSVP to a two-seat call until the waitlist promotes the third."""

import re
import zoneinfo
from datetime import datetime, timedelta

from playwright.sync_api import expect

from groups.services.formats import format_default
from tests.conftest import make_person, totp_code

ZONE = "Europe/Berlin"
PASSWORD = "attune-test-pw"
COMMUNITY = "Evening Circle"
SLUG = "evening-circle"
SERIES_TITLE = "Thursday-ish circle"
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def new_page(browser, site):
    context = browser.new_context(base_url=site.url, viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def log_in(page, email, name):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(f"Welcome back, {name}.")).to_be_visible()


def join_with_invite(page, invite_link):
    page.goto(invite_link)
    expect(page.get_by_role("heading", name=f"You are invited to {COMMUNITY}")).to_be_visible()
    page.get_by_role("button", name="Join the community").click()

    expect(page.get_by_role("heading", name="Our group agreements")).to_be_visible()
    page.get_by_role("checkbox", name="I have read these agreements and I will keep them.").check()
    page.get_by_role("button", name="Accept the agreements").click()
    expect(page.get_by_text("Thank you. You are ready to join calls.")).to_be_visible()
    expect(page.get_by_role("heading", name=COMMUNITY, level=1)).to_be_visible()
    expect(page.get_by_text("You are a member of this community (Member).")).to_be_visible()


def open_first_call(page, first_when):
    upcoming = page.get_by_role("region", name="Upcoming calls")
    upcoming.get_by_role("link", name=SERIES_TITLE).first.click()
    expect(page.get_by_role("heading", name=SERIES_TITLE, level=1)).to_be_visible()
    expect(page.get_by_text(first_when)).to_be_visible()


def rsvp_panel(page):
    return page.get_by_role("region", name="Your place")


def test_weekly_series_fills_up_and_the_waitlist_promotes(browser, site):
    # The site-wide format comes from a data migration; an earlier test's flush may have removed it.
    format_default()
    make_person("fran@example.com", display_name="Fran", password=PASSWORD, time_zone=ZONE)
    members = {
        "a": ("ada@example.com", "Ada"),
        "b": ("ben@example.com", "Ben"),
        "c": ("cleo@example.com", "Cleo"),
    }
    for email, name in members.values():
        make_person(email, display_name=name, password=PASSWORD, time_zone=ZONE)

    first_day = datetime.now(zoneinfo.ZoneInfo(ZONE)).date() + timedelta(days=3)
    weekday = WEEKDAYS[first_day.weekday()]
    first_when = f"{weekday} {first_day.day} {first_day:%B %Y}, 18:30"

    contexts = []
    try:
        # The facilitator starts a community, schedules a weekly series and makes an invite link.
        context, fran = new_page(browser, site)
        contexts.append(context)
        log_in(fran, "fran@example.com", "Fran")

        fran.goto("/communities/new/")
        expect(fran.get_by_role("heading", name="Start a community")).to_be_visible()
        fran.get_by_label("Name:", exact=True).fill(COMMUNITY)
        fran.get_by_label("Web address").fill(SLUG)
        fran.get_by_label("Description").fill("A small circle that meets in the evening.")
        fran.get_by_role("radio", name=re.compile(r"^By request")).check()
        fran.get_by_role("button", name="Create the community").click()
        expect(fran.get_by_text("Your community is ready. Next, schedule its first call.")).to_be_visible()
        # Owners must use two-factor login. A new owner is not trapped: every page works for a week
        # and shows a banner; Fran sets it up from there, confirming her password, and comes back.
        expect(fran.get_by_role("heading", name=COMMUNITY, level=1)).to_be_visible()
        fran.get_by_role("link", name="Set up two-factor login").click()
        expect(fran.get_by_role("heading", name="Please confirm it is you")).to_be_visible()
        fran.get_by_label("Password").fill(PASSWORD)
        fran.get_by_role("button", name="Continue").click()
        expect(fran.get_by_role("heading", name="Set up two-factor login")).to_be_visible()
        secret = fran.get_by_label("Or type this key into the app").input_value()
        fran.get_by_label("Code the app shows").fill(totp_code(secret))
        fran.get_by_role("button", name="Turn on two-factor login").click()
        expect(fran.get_by_text("Two-factor login is on.")).to_be_visible()
        expect(fran.get_by_role("heading", name="Your recovery codes")).to_be_visible()
        fran.get_by_role("link", name="Continue where you were").click()
        expect(fran.get_by_role("heading", name=COMMUNITY, level=1)).to_be_visible()
        expect(fran.get_by_role("link", name="Set up two-factor login")).to_have_count(0)
        expect(fran.get_by_text("No calls are scheduled yet.")).to_be_visible()

        fran.get_by_role("link", name="Schedule a series").click()
        expect(fran.get_by_role("heading", name="Schedule a series")).to_be_visible()
        fran.get_by_label("Title").fill(SERIES_TITLE)
        fran.get_by_label("Time zone").select_option(ZONE)
        fran.get_by_label("First date").fill(first_day.isoformat())
        fran.get_by_label("Start time").fill("18:30")
        expect(fran.get_by_role("radio", name="Weekly")).to_be_checked()
        for day in WEEKDAYS:
            fran.get_by_role("checkbox", name=day, exact=True).set_checked(day == weekday)
        fran.get_by_label("Format:", exact=True).select_option(label="Attuned sharing")
        fran.get_by_label("Seats").fill("2")
        fran.get_by_role("button", name="Schedule the series").click()
        expect(fran.get_by_text("The series is scheduled. Its calls are listed below.")).to_be_visible()
        expect(fran.get_by_role("heading", name=SERIES_TITLE, level=1)).to_be_visible()
        listed = fran.get_by_role("region", name="Calls")
        expect(listed.get_by_text("0 of 2 seats taken").first).to_be_visible()
        expect(listed.get_by_text(first_when).first).to_be_visible()
        fran.get_by_role("link", name=f"← {COMMUNITY}").click()
        upcoming = fran.get_by_role("region", name="Upcoming calls")
        expect(upcoming.get_by_role("link", name=SERIES_TITLE).first).to_be_visible()
        expect(upcoming.get_by_text("0 of 2 seats taken").first).to_be_visible()
        expect(upcoming.get_by_text(first_when).first).to_be_visible()

        fran.get_by_role("link", name="Invite links").click()
        expect(fran.get_by_role("heading", name="Invite links", level=1)).to_be_visible()
        fran.get_by_label("How many people can use it").fill("5")
        fran.get_by_role("button", name="Make an invite link").click()
        expect(fran.get_by_text("Your invite link is ready. Copy it from the list below.")).to_be_visible()
        expect(fran.get_by_text("Used 0 of 5 times")).to_be_visible()
        link_box = fran.get_by_role("textbox", name="Invite link")
        expect(link_box).not_to_be_editable()
        expect(link_box).to_have_value(re.compile(rf"^{re.escape(site.url)}/invite/[\w-]+/$"))
        invite_link = link_box.input_value()

        # Member A joins through the invite, accepts the agreements and takes the first seat.
        context, ada = new_page(browser, site)
        contexts.append(context)
        log_in(ada, *members["a"])
        join_with_invite(ada, invite_link)
        open_first_call(ada, first_when)
        expect(rsvp_panel(ada).get_by_text("Seats left: 2 of 2")).to_be_visible()
        rsvp_panel(ada).get_by_role("button", name="I'm going").click()
        expect(rsvp_panel(ada).get_by_text("You are going.")).to_be_visible()
        expect(rsvp_panel(ada).get_by_text("Seats left: 1 of 2")).to_be_visible()
        expect(rsvp_panel(ada).get_by_role("button", name="I can't come after all")).to_be_visible()

        # Member B takes the last seat.
        context, ben = new_page(browser, site)
        contexts.append(context)
        log_in(ben, *members["b"])
        join_with_invite(ben, invite_link)
        open_first_call(ben, first_when)
        expect(rsvp_panel(ben).get_by_text("Seats left: 1 of 2")).to_be_visible()
        rsvp_panel(ben).get_by_role("button", name="I'm going").click()
        expect(rsvp_panel(ben).get_by_text("You are going.")).to_be_visible()
        expect(rsvp_panel(ben).get_by_text("Seats left: 0 of 2")).to_be_visible()

        # Member C finds the call full and joins the waitlist.
        context, cleo = new_page(browser, site)
        contexts.append(context)
        log_in(cleo, *members["c"])
        join_with_invite(cleo, invite_link)
        open_first_call(cleo, first_when)
        expect(rsvp_panel(cleo).get_by_text("Seats left: 0 of 2")).to_be_visible()
        expect(rsvp_panel(cleo).get_by_role("button", name="I'm going")).to_have_count(0)
        rsvp_panel(cleo).get_by_role("button", name="Join the waitlist").click()
        expect(rsvp_panel(cleo).get_by_text("You are number 1 on the waitlist.")).to_be_visible()
        expect(rsvp_panel(cleo).get_by_text("1 person waiting")).to_be_visible()
        expect(rsvp_panel(cleo).get_by_role("button", name="Leave the waitlist")).to_be_visible()

        # Member A gives up the seat; the waitlist promotes member C.
        rsvp_panel(ada).get_by_role("button", name="I can't come after all").click()
        expect(rsvp_panel(ada).get_by_text("You said you are not going.")).to_be_visible()
        expect(rsvp_panel(ada).get_by_text("Seats left: 0 of 2")).to_be_visible()

        cleo.reload()
        expect(rsvp_panel(cleo).get_by_text("You are going.")).to_be_visible()
        expect(rsvp_panel(cleo).get_by_text("Seats left: 0 of 2")).to_be_visible()
        expect(rsvp_panel(cleo).get_by_role("button", name="I can't come after all")).to_be_visible()

        # The facilitator sees who is going on the call page.
        fran.goto("/communities/")
        fran.get_by_role("link", name=COMMUNITY).click()
        open_first_call(fran, first_when)
        expect(fran.get_by_text("You are facilitating this call.")).to_be_visible()
        facilitators = fran.get_by_role("region", name="For facilitators")
        expect(facilitators.get_by_role("heading", name="Going", exact=True)).to_be_visible()
        expect(facilitators.get_by_role("listitem").filter(has_text=re.compile(r"^(Ben|Cleo)$"))).to_have_count(2)
        expect(facilitators.get_by_role("listitem").filter(has_text=re.compile(r"^Ada$"))).to_have_count(0)
        # Ada's reminders were skipped when she gave up her seat; Ben's and Cleo's wait to be sent.
        reminders = facilitators.get_by_role("table")
        expect(reminders.get_by_role("row").filter(has_text="Ada").filter(has_text="Skipped")).to_have_count(2)
        expect(facilitators.get_by_role("heading", name="Waitlist")).to_have_count(0)
    finally:
        for context in contexts:
            context.close()
