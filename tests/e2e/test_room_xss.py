"""Script injection in the live room, in two real browsers.

The facilitator's and a member's display names, the call's title and a typed share carry markup
that would set window.__xss = 1 (and open a dialog) if it ever became HTML. The member's browser
ignores the Content-Security-Policy (bypass_csp), so that only escaping stands between the text and
the page; the facilitator's browser keeps it and records any violation, which would mean markup got
as far as the policy. Every text must be visible literally.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from groups.models import Call, Membership
from groups.services.communities import community_create
from groups.services.formats import format_default
from groups.services.rsvps import rsvp_set
from tests.conftest import enable_two_factor, make_person

PASSWORD = "attune-test-pw"  # tests/conftest.py make_person
FRAN = 'Fran <img src=x onerror="window.__xss=1;alert(1)">'
MAYA = "Maya <script>window.__xss=1;alert(1)</script>"
TITLE = '"><svg onload="window.__xss=1;alert(1)"> circle'
COMMUNITY = "</title><script>window.__xss=1</script> circle"
SHARE = (
    '<img src=x onerror="window.__xss=1;alert(1)"> and '
    "</textarea><svg onload=window.__xss=1> and <script>window.__xss=1</script> and {{7*7}}"
)
WATCH = """
    window.__xss = 0;
    window.__csp = [];
    document.addEventListener("securitypolicyviolation", (event) => {
        window.__csp.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`);
    });
"""


@dataclass
class Browser:
    name: str
    email: str
    context: object = None
    page: object = None
    dialogs: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    def button(self, name):
        return self.page.get_by_role("button", name=name, exact=True)

    def seat_names(self):
        return self.page.locator("#circle .seat-name")


def open_browser(browser, site, person, *, bypass_csp):
    person.context = browser.new_context(
        base_url=site.url, viewport={"width": 1100, "height": 900}, bypass_csp=bypass_csp
    )
    person.context.add_init_script(WATCH)
    person.page = person.context.new_page()
    person.page.set_default_timeout(15_000)

    def on_dialog(dialog):
        person.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    person.page.on("dialog", on_dialog)
    person.page.on("pageerror", lambda error: person.errors.append(str(error)))


def log_in(person):
    page = person.page
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(f"Welcome back, {person.name}.", exact=True)).to_be_visible()


def assert_nothing_ran(person):
    page = person.page
    assert person.dialogs == [], f"{person.name}: a dialog opened: {person.dialogs}"
    assert page.evaluate("() => window.__xss") == 0, f"{person.name}: injected script ran"
    assert page.evaluate("() => window.__csp") == [], f"{person.name}: markup reached the CSP"
    assert page.locator("img[src='x'], svg[onload], #room script").count() == 0, f"{person.name}: markup in the DOM"
    assert person.errors == [], f"{person.name}: {person.errors}"


def make_call():
    owner = enable_two_factor(make_person("owner@example.com", display_name="Olive"))
    community = community_create(owner=owner, name=COMMUNITY, slug="xss-room")
    fran = make_person("fran@example.com", display_name=FRAN)
    maya = make_person("maya@example.com", display_name=MAYA)
    for person, role in ((fran, Membership.Role.FACILITATOR), (maya, Membership.Role.MEMBER)):
        Membership.objects.create(
            community=community,
            user=person,
            role=role,
            state=Membership.State.ACTIVE,
            accepted_agreements_version=community.agreements_version,
        )
    starts_at = timezone.now() + timedelta(minutes=5)
    call = Call.objects.create(
        community=community,
        format=format_default(),
        facilitator=fran,
        title=TITLE,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=75),
        time_zone="Europe/Berlin",
        capacity=8,
    )
    rsvp_set(call_id=call.pk, user=maya, going=True)
    return call


def test_names_titles_and_typed_shares_stay_text_in_the_room(browser, site):
    call = make_call()
    fran = Browser(FRAN, "fran@example.com")
    maya = Browser(MAYA, "maya@example.com")
    both = [fran, maya]
    try:
        open_browser(browser, site, fran, bypass_csp=False)
        open_browser(browser, site, maya, bypass_csp=True)
        for person in both:
            log_in(person)

        # The call's page, then the room: the title and both names, literally.
        maya.page.goto(f"/calls/{call.pk}/")
        expect(maya.page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
        expect(maya.page.get_by_text(f"← {COMMUNITY}", exact=True)).to_be_visible()
        for person in both:
            person.page.goto(f"/calls/{call.pk}/room/")
            expect(person.page.locator("#room .room-title")).to_have_text(TITLE)
            expect(person.page.locator("#connection")).to_be_hidden()
        for person in both:
            expect(person.seat_names()).to_have_text([FRAN, MAYA])

        # Fran starts the call, moves past the grounding, and types her share.
        fran.button("Start the call").click()
        expect(maya.page.locator("#segment-line")).to_have_text("Arriving")
        fran.button("Next segment").click()
        expect(fran.page.locator("#speaker-line")).to_have_text("Your turn. Take your time.")
        expect(maya.page.locator("#speaker-line")).to_have_text(f"{FRAN} is sharing")
        expect(maya.page.locator("#announcer")).to_have_text(f"{FRAN} is sharing, 1 minute")
        fran.page.locator("#btn-type").click()
        box = fran.page.locator("#typed-share-input")
        expect(box).to_be_focused()
        box.fill(SHARE)
        for person in both:
            expect(person.page.locator("#typed-share-text")).to_have_text(SHARE)
        expect(maya.page.locator("#typed-share-text")).not_to_contain_text("49")

        # Fran finishes; the room says so with her name as text.
        fran.button("I'm done").click()
        expect(fran.button("I'm done")).to_be_hidden()
        for person in both:
            expect(person.page.locator("#circle .seat-name").first).to_have_text(FRAN)
            assert_nothing_ran(person)
    except Exception as failure:
        seen = [f"{person.name}: {line}" for person in both for line in person.errors + person.dialogs]
        if seen:
            failure.add_note("In the browsers:\n" + "\n".join(seen))
        raise
    finally:
        for person in both:
            if person.context is not None:
                person.context.close()
