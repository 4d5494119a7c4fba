"""Voice in the room: three browsers with fake microphones form a peer-to-peer mesh, hear each
other, and the microphones follow the talking stick."""

import re

from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import expect

from groups.models import Call

PEOPLE = [
    ("facilitator@example.com", "Fran"),
    ("member1@example.com", "Maya"),
    ("member2@example.com", "Jonas"),
]


def log_in(browser, site, email):
    context = browser.new_context(base_url=site.url, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("attune-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    return context, page, errors


def peers(page):
    return page.evaluate("() => window.attunementMedia.status().peers")


def inbound_packets(page):
    return page.evaluate(
        """async () => {
            const counts = {};
            for (const [id, peer] of window.attunementMedia.peers) {
                const stats = await peer.pc.getStats();
                stats.forEach((report) => {
                    if (report.type === "inbound-rtp" && report.kind === "audio") {
                        counts[id] = (counts[id] || 0) + report.packetsReceived;
                    }
                });
            }
            return counts;
        }"""
    )


def track_enabled(page):
    return page.evaluate("() => window.attunementMedia.local.getAudioTracks()[0].enabled")


# A tampered page: instead of its microphone (whose track the room turns off, and whose fake beep
# the browser's noise suppression and echo cancellation may take out), every connection sends a
# steady tone.
SEND_A_TONE = """async () => {
  const media = window.attunementMedia;
  const tone = media.context.createOscillator();
  const out = media.context.createMediaStreamDestination();
  tone.connect(out);
  tone.start();
  const track = out.stream.getAudioTracks()[0];
  for (const peer of media.peers.values()) {
    for (const sender of peer.pc.getSenders()) {
      if (sender.track && sender.track.kind === "audio") await sender.replaceTrack(track);
    }
  }
}"""


def test_three_people_hear_each_other_and_the_microphone_follows_the_turn(browser, site):
    with override_settings(DEBUG=True):
        call_command("seed_demo")
    call = Call.objects.get(title="Try the room now")
    sessions = [log_in(browser, site, email) for email, _name in PEOPLE]
    pages = [page for _context, page, _errors in sessions]
    fran, maya, jonas = pages
    try:
        for page in pages:
            page.goto(f"/calls/{call.pk}/room/")
            page.get_by_role("button", name="Turn on sound and microphone").click()
            expect(page.get_by_role("button", name="Microphone")).to_be_visible()
        fran.get_by_role("button", name="Start the call").click()
        expect(fran.locator("#segment-line")).to_have_text("Arriving")
        fran.get_by_role("button", name="Next segment").click()
        expect(fran.locator("#speaker-line")).to_have_text("Your turn. Take your time.")

        # Every pair connects, and each person receives live audio from the two others.
        for page in pages:
            try:
                page.wait_for_function(
                    "() => window.attunementMedia.status().peers.filter((p) => p.state === 'connected').length === 2",
                    timeout=30_000,
                )
            except Exception as error:
                # What each page's media layer did (signalling events only), to make a failure actionable.
                events = [
                    other.evaluate("() => [window.attunementMedia.me, window.attunementMedia.events]")
                    for other in pages
                ]
                raise AssertionError(f"not every pair connected; signalling per page: {events}") from error
            assert sorted(peer["state"] for peer in peers(page)) == ["connected", "connected"]
        # Wait until sound flows on both connections of each page (a microphone added after the first
        # negotiation takes one more exchange), then check that it keeps flowing.
        for page in pages:
            for _attempt in range(40):
                counts = inbound_packets(page)
                if len(counts) == 2 and all(value > 0 for value in counts.values()):
                    break
                page.wait_for_timeout(500)
        first = [inbound_packets(page) for page in pages]
        fran.wait_for_timeout(1500)
        second = [inbound_packets(page) for page in pages]
        for before, after in zip(first, second, strict=True):
            assert len(after) == 2
            assert all(after[peer] > before.get(peer, 0) for peer in after), (before, after)

        # Fran has the floor: listeners' tracks are off; she unmutes herself.
        assert not track_enabled(maya) and not track_enabled(jonas)
        assert not track_enabled(fran)  # nobody is unmuted for them
        expect(fran.locator("#audio-note")).to_have_text("Your turn: unmute when you are ready.")
        fran.get_by_role("button", name="Microphone").click()
        assert track_enabled(fran)
        # A listener cannot unmute out of turn from the page.
        jonas.get_by_role("button", name="Microphone").click()
        expect(jonas.locator("#audio-note")).to_have_text(re.compile("Microphones follow the turn"))
        assert not track_enabled(jonas)

        # Maya's turn: Fran mutes, Maya is prompted and unmutes; only her member track is on.
        fran.get_by_role("button", name="Microphone").click()
        fran.get_by_role("button", name="Next", exact=True).click()
        expect(maya.locator("#speaker-line")).to_have_text("Your turn. Take your time.")
        expect(maya.locator("#audio-note")).to_have_text("Your turn: unmute when you are ready.")
        assert not track_enabled(maya)
        maya.get_by_role("button", name="Microphone").click()
        assert track_enabled(maya) and not track_enabled(jonas) and not track_enabled(fran)

        # Jonas's page is tampered with: it sends sound though he does not hold the floor. The others'
        # browsers do not play it.
        jonas.evaluate(SEND_A_TONE)
        jonas_id = maya.evaluate("() => window.attunementRoom.state.participants.find((p) => p.name === 'Jonas').id")
        for page in (fran, maya):
            ignored = page.evaluate(
                "(id) => { const p = window.attunementMedia.peers.get(id); return [p.audible, p.audio.muted]; }",
                jonas_id,
            )
            assert ignored == [False, True]
        # Maya's own sound still plays for everyone.
        maya_id = fran.evaluate("() => window.attunementRoom.state.participants.find((p) => p.name === 'Maya').id")
        assert fran.evaluate("(id) => window.attunementMedia.peers.get(id).audio.muted", maya_id) is False
        # And the facilitator sees who talks out of turn (the tone).
        try:
            expect(fran.locator(f'#audio-peers [data-participant="{jonas_id}"]')).to_contain_text(
                "talking out of turn", timeout=15_000
            )
        except AssertionError as error:
            level = fran.evaluate("(id) => window.attunementMedia.levels.get(id)", jonas_id)
            raise AssertionError(f"the level Fran's page measured for Jonas: {level}") from error
        for _context, _page, errors in sessions:
            assert errors == []
    finally:
        for context, _page, _errors in sessions:
            context.close()
