"""The facilitator's forms in a real browser: every problem at once in a summary that takes focus,
the series form showing only the chosen frequency's fields, and the format editor's cards moved,
removed and added from a preset with buttons, saved in the order shown. At phone width nothing
scrolls sideways; the README's screenshot of the format editor is taken here."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from accounts.models import User
from groups.models import CallFormat
from tests.personas import build_circle

PASSWORD = "attune-test-pw"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"
PHONE = {"width": 390, "height": 844}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE = Axe()


@pytest.fixture(autouse=True)
def _patient_expect():
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=None)


def open_page(browser, site, viewport, **options):
    context = browser.new_context(base_url=site.url, viewport=viewport, **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def log_in(page, email, name):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(f"Welcome back, {name}.")).to_be_visible()


def sideways_scroll(page) -> int:
    """How many pixels the page is wider than the window (0 when nothing scrolls sideways)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


def serious_axe_violations(page) -> list[str]:
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    results = AXE.run(page, options=options)
    return [
        f"{violation['id']}: {violation['help']} {[node['target'] for node in violation['nodes']]}"
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]


def check_call_form(page, slug):
    page.goto(f"/c/{slug}/calls/new/")
    expect(page.get_by_role("heading", name="Schedule a call", level=1)).to_be_visible()
    page.get_by_label("Date").fill((datetime.now(UTC).date() - timedelta(days=3)).isoformat())
    page.get_by_label("Start time").fill("18:00")
    page.get_by_label("Seats").fill("40")
    page.get_by_role("button", name="Schedule the call").click()

    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading", name="Please check 2 things")).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(2)
    expect(summary.get_by_role("link", name="Date: Choose a start time in the future.")).to_be_visible()
    expect(summary.get_by_role("link", name="Seats: Ensure this value is less than or equal to 40.")).to_have_count(0)
    expect(summary.get_by_role("link", name="Seats: Ensure this value is less than or equal to 12.")).to_be_visible()
    # Each error sits by its field, which says it is invalid and is described by the error.
    seats = page.get_by_label("Seats")
    expect(seats).to_have_attribute("aria-invalid", "true")
    expect(seats).to_have_accessible_description(
        "Places for members, from 2 to 12. Facilitators do not take a seat. "
        "Ensure this value is less than or equal to 12."
    )
    expect(page.get_by_label("Date")).to_have_accessible_description("Choose a start time in the future.")
    summary.get_by_role("link", name="Seats: Ensure this value is less than or equal to 12.").click()
    expect(seats).to_be_focused()


def check_series_form(page, slug):
    page.goto(f"/c/{slug}/series/new/")
    expect(page.get_by_role("heading", name="Schedule a series", level=1)).to_be_visible()
    weekly = page.get_by_role("group", name="For weekly series")
    monthly = page.get_by_role("group", name="For monthly series")
    expect(page.get_by_role("radio", name="Weekly")).to_be_checked()
    expect(weekly).to_be_visible()
    expect(monthly).to_be_hidden()
    expect(page.get_by_label("Last date")).to_be_hidden()

    page.get_by_role("radio", name="Monthly").check()
    expect(monthly).to_be_visible()
    expect(weekly).to_be_hidden()
    expect(page.get_by_label("Which week of the month")).to_be_visible()
    expect(page.get_by_role("checkbox", name="Monday", exact=True)).to_be_hidden()

    page.get_by_role("radio", name="Weekly").check()
    expect(weekly).to_be_visible()
    expect(monthly).to_be_hidden()
    page.get_by_role("radio", name="After a number of calls").check()
    expect(page.get_by_role("spinbutton", name="Number of calls")).to_be_visible()
    expect(page.get_by_label("Last date")).to_be_hidden()


def check_format_editor(page, slug):
    page.goto(f"/c/{slug}/formats/new/")
    expect(page.get_by_role("heading", name="New format", level=1)).to_be_visible()
    segments = page.locator("[data-segment]:visible")
    expect(segments).to_have_count(4)  # the attuned-sharing default; the spare blank card waits hidden
    expect(page.get_by_label("Position in the list").first).to_be_hidden()
    expect(page.locator("[data-segment-order]:visible")).to_have_count(0)
    page.get_by_label("Name").fill("Deeper evening")

    page.get_by_role("button", name="Add Open sharing").click()
    expect(segments).to_have_count(5)
    added = segments.nth(4)
    expect(added.get_by_role("heading")).to_have_text("Segment 5: Open sharing")
    expect(added.get_by_role("heading")).to_be_focused()
    status = page.get_by_role("status").filter(has_text="Added")
    expect(status).to_have_text("Added “Open sharing” as segment 5 of 5.")
    expect(added.get_by_label("Segment length (seconds)")).to_have_value("900")
    expect(added.get_by_label("Reflections are")).to_be_hidden()  # open sharing has no reflections

    move_up = page.get_by_role("button", name="Move up “Open sharing”")
    move_up.click()
    expect(segments.nth(3).get_by_role("heading")).to_have_text("Segment 4: Open sharing")
    expect(move_up).to_be_focused()
    expect(page.get_by_role("status").filter(has_text="Moved")).to_have_text(
        "Moved “Open sharing”. It is now segment 4 of 5."
    )

    page.get_by_role("button", name="Remove “Check-in”").click()
    expect(segments).to_have_count(4)
    expect(segments.nth(1).get_by_role("heading")).to_have_text("Segment 2: Sharing")
    expect(segments.nth(1).get_by_role("heading")).to_be_focused()
    expect(page.get_by_role("status").filter(has_text="Removed")).to_contain_text("Removed “Check-in”.")
    expect(page.get_by_role("button", name="Move up “Arriving”")).to_have_attribute("aria-disabled", "true")

    # A removal can be undone until the format is saved: remove "Closing", put it back.
    page.get_by_role("button", name="Remove “Closing”").click()
    expect(segments).to_have_count(3)
    expect(segments.nth(2).get_by_role("heading")).to_be_focused()  # the card before the one removed
    put_back = page.get_by_role("button", name="Put “Closing” back")
    put_back.click()
    expect(segments).to_have_count(4)
    expect(segments.nth(3).get_by_role("heading")).to_have_text("Segment 4: Closing")
    expect(segments.nth(3).get_by_role("heading")).to_be_focused()
    expect(put_back).to_be_hidden()


def test_forms_report_every_problem_show_the_chosen_fields_and_edit_segments(browser, site):
    circle = build_circle()
    slug = circle.community.slug
    context, page = open_page(browser, site, {"width": 1100, "height": 800})
    try:
        log_in(page, circle.facilitator.email, "Fran")
        check_call_form(page, slug)
        assert serious_axe_violations(page) == []
        check_series_form(page, slug)
        check_format_editor(page, slug)
        assert serious_axe_violations(page) == []
        page.get_by_role("button", name="Save the format").click()
        expect(page.get_by_text("The format is saved.")).to_be_visible()
        saved = CallFormat.objects.get(community=circle.community, name="Deeper evening")
        assert [segment["title"] for segment in saved.segments] == ["Arriving", "Sharing", "Open sharing", "Closing"]
        assert saved.segments[2] == {"kind": "open", "title": "Open sharing", "seconds": 900, "turn_seconds": 120}
    finally:
        context.close()


def test_the_forms_fit_a_phone_in_the_low_light_theme(browser, site):
    circle = build_circle()
    slug = circle.community.slug
    User.objects.filter(pk=circle.facilitator.pk).update(theme="low-light")
    context, page = open_page(browser, site, PHONE, reduced_motion="reduce")
    try:
        log_in(page, circle.facilitator.email, "Fran")
        for path in (f"/c/{slug}/calls/new/", f"/c/{slug}/series/new/"):
            page.goto(path)
            page.get_by_label("Title").fill("")
            page.get_by_role("button", name="Schedule the").click()  # errors showing, the widest state
            expect(page.get_by_role("alert")).to_be_visible()
            assert sideways_scroll(page) <= 0, path
            assert serious_axe_violations(page) == [], path
        page.goto(f"/c/{slug}/formats/new/")
        page.get_by_role("button", name="Add Sharing round").click()
        expect(page.locator("[data-segment]:visible")).to_have_count(5)
        assert sideways_scroll(page) <= 0
        expect(page.locator("html")).to_have_attribute("data-theme", "low-light")
        assert serious_axe_violations(page) == []
        page.emulate_media(color_scheme="light")
        page.evaluate("() => { document.documentElement.dataset.theme = 'light'; }")
        # The new card, its buttons and the presets, as a facilitator sees them after adding one.
        page.locator("[data-segment]:visible").nth(4).get_by_role("heading").evaluate(
            "(heading) => heading.scrollIntoView({block: 'start'})"
        )
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "format-editor-phone.png"))
    finally:
        context.close()


def test_without_javascript_every_field_shows_and_the_format_editor_still_works(browser, site):
    circle = build_circle()
    slug = circle.community.slug
    context, page = open_page(browser, site, {"width": 1100, "height": 800}, java_script_enabled=False)
    try:
        log_in(page, circle.facilitator.email, "Fran")
        page.goto(f"/c/{slug}/series/new/")
        expect(page.get_by_role("group", name="For weekly series")).to_be_visible()
        expect(page.get_by_role("group", name="For monthly series")).to_be_visible()

        page.goto(f"/c/{slug}/formats/new/")
        cards = page.locator("[data-segment]:visible")
        expect(cards).to_have_count(5)  # the four default segments and one spare
        expect(page.get_by_role("button", name="Move up “Arriving”")).to_be_hidden()
        page.get_by_label("Name").fill("Short evening")
        spare = cards.nth(4)
        spare.get_by_label("Kind").select_option(label="Closing round")
        spare.get_by_label("Title").fill("Goodbye first")
        spare.get_by_label("Turn length (seconds)").fill("30")
        spare.get_by_label("Position in the list").fill("0")
        cards.nth(1).get_by_label("Leave this segment out").check()
        page.get_by_role("button", name="Save the format").click()
        expect(page.get_by_text("The format is saved.")).to_be_visible()
        saved = CallFormat.objects.get(community=circle.community, name="Short evening")
        assert [segment["title"] for segment in saved.segments] == ["Goodbye first", "Arriving", "Sharing", "Closing"]
    finally:
        context.close()
