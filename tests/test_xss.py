"""Script injection: every text people type that others see comes out inert.

Each payload goes into every user-editable field shown to others (display names, a community's
name, description, join question and agreements, a join answer, call, series, format and segment
titles, a format's description, invite and report notes, a ban's reason), then every page that
shows them is rendered for someone allowed to see it: the escaped form is on the page where the
field is shown, and the raw payload is on no page at all. Calendar files are text/calendar, not
HTML: there the text must stay inside its own property (RFC 5545 escaping, no line of its own), and
the file must not be sniffed as HTML. Emails: the HTML part escapes, the text part and the subject
carry the text as it is.

In the room, typed shares, typed reflections, shown reflections and support messages travel as
JSON strings, unchanged, and the browser sets them with textContent; the last test checks that the
room's scripts have no way to parse text as HTML. tests/e2e/test_room_xss.py runs payloads through
two real browsers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from icalendar import Calendar

from groups import emails
from groups.models import RSVP, Call, Membership, Notification
from groups.recurrence import Recurrence
from groups.services import communities
from groups.services.formats import format_create
from groups.services.rsvps import rsvp_set
from groups.services.scheduling import CallDetails, series_create
from journey import services as journey
from journey.demo import Attendee, past_call
from moderation.models import Report
from moderation.services import ban_from_community
from sharing import protocol
from sharing import services as room_services
from sharing.models import Participant, Room
from tests.conftest import enable_two_factor, make_person
from tests.sharing.sockets import Socket, settle

ROOT = Path(__file__).resolve().parents[1]

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "'\"; alert(1); //",
    "</textarea><svg onload=alert(1)>",
    "{{7*7}}",
]

# Every field gets "[its name] <payload>", so each field's text can be found on its own.
FIELDS = [
    "owner",
    "facilitator",
    "cofacilitator",
    "member",
    "pending",
    "banned",
    "community",
    "description",
    "join_question",
    "join_answer",
    "agreement",
    "call_title",
    "series_title",
    "format_name",
    "format_description",
    "segment_title",
    "report_note",
    "invite_note",
    "ban_reason",
    "checkout_note",
    "practice_note",
]

# Raw markup that must never reach a page, whatever field it came from.
LIVE_MARKUP = re.compile(
    r"<script>alert|<img src=x onerror|<svg onload|(?:href|src|action|formaction)\s*=\s*[\"']?\s*javascript:",
    re.IGNORECASE,
)


def text_of(field: str, payload: str) -> str:
    return f"[{field}] {payload}"


@dataclass
class World:
    payload: str
    text: dict
    community: object
    owner: object
    facilitator: object
    cofacilitator: object
    member: object
    pending: object
    banned: object
    outsider: object
    call_format: object
    call: object
    series: object
    invite: object
    report: object
    pending_membership: object
    member_membership: object


def _member(community, user, role=Membership.Role.MEMBER, state=Membership.State.ACTIVE):
    return Membership.objects.create(
        community=community,
        user=user,
        role=role,
        state=state,
        accepted_agreements_version=community.agreements_version if state == Membership.State.ACTIVE else None,
    )


def build_world(payload: str, *, starts_in=timedelta(minutes=5)) -> World:
    """A community where every field a person types holds the payload."""
    t = {field: text_of(field, payload) for field in FIELDS}
    owner = enable_two_factor(make_person("owner@example.com", display_name=t["owner"]))
    community = communities.community_create(
        owner=owner,
        name=t["community"],
        slug="xss-circle",
        description=t["description"],
        join_policy="request",
        join_question=t["join_question"],
        agreements=f"{t['agreement']}\nListen.",
    )
    facilitator = make_person("fac@example.com", display_name=t["facilitator"], time_zone="Europe/Berlin")
    cofacilitator = make_person("cofac@example.com", display_name=t["cofacilitator"])
    member = make_person("member@example.com", display_name=t["member"], time_zone="America/New_York")
    pending = make_person("pending@example.com", display_name=t["pending"])
    banned = make_person("banned@example.com", display_name=t["banned"])
    outsider = make_person("outsider@example.com", display_name="Olu")
    _member(community, facilitator, Membership.Role.FACILITATOR)
    _member(community, cofacilitator, Membership.Role.FACILITATOR)
    member_membership = _member(community, member)
    _member(community, banned)
    pending_membership = communities.membership_join(community=community, user=pending, answer=t["join_answer"])
    ban_from_community(community=community, user=banned, actor=facilitator, reason=t["ban_reason"])
    call_format = format_create(
        community=community,
        actor=facilitator,
        name=t["format_name"],
        description=t["format_description"],
        segments=[
            {
                "kind": "round",
                "title": t["segment_title"],
                "turn_seconds": 60,
                "reflection_seconds": 60,
                "reflection_mode": "either",
            }
        ],
        grace_seconds=15,
    )
    starts_at = timezone.now() + starts_in
    call = Call.objects.create(
        community=community,
        format=call_format,
        facilitator=facilitator,
        co_facilitator=cofacilitator,
        title=t["call_title"],
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=60),
        time_zone="Europe/Berlin",
        capacity=8,
    )
    rsvp_set(call_id=call.pk, user=member, going=True)
    first = timezone.localdate() + timedelta(days=3)
    series = series_create(
        community=community,
        actor=facilitator,
        details=CallDetails(
            title=t["series_title"],
            format=call_format,
            facilitator=facilitator,
            co_facilitator=None,
            duration_minutes=60,
            capacity=8,
        ),
        recurrence=Recurrence(
            time_zone="Europe/Berlin",
            start_date=first,
            start_time=time(18, 0),
            weekdays=(first.weekday(),),
            ends="after_count",
            count=2,
        ),
    )
    invite = communities.invite_create(community=community, actor=facilitator, note=t["invite_note"])
    report = Report.objects.create(
        reporter=member,
        subject=cofacilitator,
        community=community,
        call=call,
        reason=Report.Reason.HARASSMENT,
        note=t["report_note"],
    )
    return World(
        payload=payload,
        text=t,
        community=community,
        owner=owner,
        facilitator=facilitator,
        cofacilitator=cofacilitator,
        member=member,
        pending=pending,
        banned=banned,
        outsider=outsider,
        call_format=call_format,
        call=call,
        series=series,
        invite=invite,
        report=report,
        pending_membership=pending_membership,
        member_membership=member_membership,
    )


# Each page: who looks, where, and which fields it shows.
@dataclass(frozen=True)
class Screen:
    label: str
    viewer: str | None
    path: object  # World -> path
    fields: tuple[str, ...]
    status: int = 200


SLUG = "xss-circle"
SCREENS = [
    Screen("home", "member", lambda w: "/", ("member",)),
    Screen("directory", None, lambda w: reverse("directory"), ("community", "description")),
    Screen(
        "community page",
        "outsider",
        lambda w: reverse("community", args=[SLUG]),
        ("community", "description", "join_question", "agreement", "call_title", "series_title", "format_name"),
    ),
    Screen("agreements", "member", lambda w: reverse("agreements", args=[SLUG]), ("community", "agreement")),
    Screen(
        "members page",
        "facilitator",
        lambda w: reverse("members", args=[SLUG]),
        ("community", "pending", "join_question", "join_answer", "member", "facilitator", "cofacilitator", "owner"),
    ),
    Screen("invites page", "facilitator", lambda w: reverse("invites", args=[SLUG]), ("community", "invite_note")),
    Screen(
        "call page",
        "facilitator",
        lambda w: reverse("call", args=[w.call.pk]),
        ("call_title", "community", "facilitator", "cofacilitator", "format_name", "segment_title", "member"),
    ),
    Screen(
        "call page, signed out",
        None,
        lambda w: reverse("call", args=[w.call.pk]),
        ("call_title", "community", "facilitator", "cofacilitator", "format_name", "segment_title"),
    ),
    Screen("my calls", "member", lambda w: reverse("my_calls"), ("call_title", "community", "format_name")),
    Screen(
        "formats page",
        "facilitator",
        lambda w: reverse("formats", args=[SLUG]),
        ("community", "format_name", "format_description", "segment_title"),
    ),
    Screen("moderation queue", "facilitator", lambda w: reverse("moderation_queue"), ("cofacilitator", "community")),
    Screen(
        "community moderation queue",
        "facilitator",
        lambda w: reverse("community_moderation", args=[SLUG]),
        ("cofacilitator", "community"),
    ),
    Screen(
        "report page",
        "facilitator",
        lambda w: reverse("report_detail", args=[w.report.pk]),
        ("cofacilitator", "community", "call_title", "report_note"),
    ),
    Screen(
        "report form",
        "member",
        lambda w: f"{reverse('report')}?community={SLUG}",
        ("facilitator", "cofacilitator", "owner"),
    ),
    Screen("person page", "member", lambda w: reverse("person", args=[w.facilitator.pk]), ("facilitator", "community")),
    Screen("room page", "member", lambda w: reverse("call_room", args=[w.call.pk]), ("call_title",)),
    Screen("room closed", "outsider", lambda w: reverse("call_room", args=[w.call.pk]), ("call_title",), status=403),
    Screen(
        "audit log",
        "owner",
        lambda w: reverse("community_audit", args=[SLUG]),
        ("facilitator", "banned", "ban_reason"),
    ),
    Screen(
        "ban page",
        "facilitator",
        lambda w: reverse("member_ban", args=[SLUG, w.member_membership.pk]),
        ("member",),
    ),
    Screen(
        "invitation",
        "outsider",
        lambda w: reverse("invite_accept", args=[w.invite.token]),
        ("community", "description"),
    ),
    # Forms that show the text back for editing: inputs and textareas.
    Screen("profile form", "member", lambda w: reverse("profile"), ("member",)),
    Screen(
        "community form",
        "owner",
        lambda w: reverse("community_edit", args=[SLUG]),
        ("community", "description", "join_question"),
    ),
    Screen("agreements form", "facilitator", lambda w: reverse("agreements_edit", args=[SLUG]), ("agreement",)),
    Screen(
        "format form",
        "facilitator",
        lambda w: reverse("format_edit", args=[SLUG, w.call_format.pk]),
        ("format_name", "format_description", "segment_title"),
    ),
    Screen("call form", "facilitator", lambda w: reverse("call_edit", args=[w.call.pk]), ("call_title",)),
    Screen("series form", "facilitator", lambda w: reverse("series_edit", args=[w.series.pk]), ("series_title",)),
    Screen("cancel form", "facilitator", lambda w: reverse("call_cancel", args=[w.call.pk]), ("call_title",)),
]


def _client(world, viewer) -> Client:
    client = Client()
    if viewer is not None:
        client.force_login(getattr(world, viewer))
    return client


def assert_inert(body: str, world: World, where: str):
    """No field's raw payload anywhere on the page, and no live markup at all."""
    found = LIVE_MARKUP.search(body)
    assert found is None, f"{where}: live markup {found.group(0)!r}"
    if escape(world.payload) != world.payload:
        assert world.payload not in body, f"{where}: the raw payload is on the page"


def assert_shown_escaped(body: str, world: World, fields, where: str):
    for field in fields:
        text = world.text[field]
        assert escape(text) in body, f"{where}: {field} is not shown (escaped)"
        if "{{" in text:
            assert text.replace("{{7*7}}", "49") not in body, f"{where}: {field} was evaluated as a template"


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS)
def test_pages_show_every_field_escaped(payload, subtests):
    world = build_world(payload)
    for screen in SCREENS:
        with subtests.test(page=screen.label):
            response = _client(world, screen.viewer).get(screen.path(world))
            assert response.status_code == screen.status, screen.label
            body = response.content.decode()
            assert_inert(body, world, screen.label)
            assert_shown_escaped(body, world, screen.fields, screen.label)


# Before and after the call: Maya was in the call (which has begun), checked out with a note and
# wrote a practice note before it. Her notes are hers alone; the facilitator sees the call in the
# community's insights.
JOURNEY_SCREENS = [
    Screen(
        "my journey",
        "member",
        lambda w: reverse("my_journey"),
        ("call_title", "community", "checkout_note", "practice_note"),
    ),
    Screen(
        "check-out, answered",
        "member",
        lambda w: f"{reverse('checkout', args=[w.call.pk])}?answered=1",
        ("call_title", "checkout_note"),
    ),
    Screen("check-out closed", "outsider", lambda w: reverse("checkout", args=[w.call.pk]), (), status=403),
    Screen("practice start", "member", lambda w: f"{reverse('practice')}?call={w.call.pk}", ("call_title",)),
    Screen("practice step", "member", lambda w: reverse("practice_step", args=[w.practice.pk, 1]), ("practice_note",)),
    Screen("practice done", "member", lambda w: reverse("practice_done", args=[w.practice.pk]), ("call_title",)),
    Screen("insights", "facilitator", lambda w: reverse("insights", args=[SLUG]), ("community", "call_title")),
]


def add_journey(world: World) -> World:
    for user in (world.facilitator, world.member):
        room_services.room_enter(call_id=world.call.pk, user=user)
    Room.objects.filter(pk=world.call.pk).update(started_at=timezone.now())
    journey.checkout_submit(
        call=world.call, user=world.member, felt_heard=4, helped=[], note=world.text["checkout_note"]
    )
    # Insights show whole past months: a call of an earlier month, with the same title, is there.
    past_call(
        community=world.community,
        facilitator=world.facilitator,
        call_format=world.call_format,
        weeks_ago=6,
        title=world.text["call_title"],
        attendees=[Attendee(world.member, felt_heard=4, helped=("listened",))],
    )
    world.practice = journey.practice_start(user=world.member, call=world.call)
    journey.practice_note(practice=world.practice, step=1, text=world.text["practice_note"])
    return world


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS)
def test_journey_pages_show_every_field_escaped(payload, subtests):
    world = add_journey(build_world(payload))
    for screen in JOURNEY_SCREENS:
        with subtests.test(page=screen.label):
            response = _client(world, screen.viewer).get(screen.path(world))
            assert response.status_code == screen.status, screen.label
            body = response.content.decode()
            assert_inert(body, world, screen.label)
            assert_shown_escaped(body, world, screen.fields, screen.label)


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS)
def test_messages_and_fragments_escape_names(payload):
    """Names inside sentences: a flash message after an action, and the fragment a script swaps in."""
    world = build_world(payload)
    client = _client(world, "facilitator")
    fragment = client.post(
        reverse("member_approve", args=[SLUG, world.pending_membership.pk]), headers={"X-Fragment": "membership"}
    )
    body = fragment.content.decode()
    assert_inert(body, world, "approval fragment")
    assert_shown_escaped(body, world, ["pending"], "approval fragment")
    page = client.post(reverse("member_remove", args=[SLUG, world.member_membership.pk]), follow=True)
    body = page.content.decode()
    assert_inert(body, world, "removal message")
    assert f"{escape(world.text['member'])} is no longer a member." in body


@pytest.mark.django_db
@pytest.mark.parametrize("accepted", [False, True], ids=["to_accept", "accepted"])
def test_links_are_never_built_from_user_text(client, accepted):
    """The one link taken from the request (the agreements page's ?next=, kept in the form and
    offered as "Continue" once accepted) refuses other schemes and other sites."""
    world = build_world(PAYLOADS[0])
    client.force_login(world.member)
    if not accepted:
        Membership.objects.filter(pk=world.member_membership.pk).update(accepted_agreements_version=None)
    for target in ("javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "//evil.example/"):
        response = client.get(reverse("agreements", args=[SLUG]), {"next": target})
        body = response.content.decode()
        assert LIVE_MARKUP.search(body) is None, target
        assert 'href="//evil.example' not in body, target
        if not accepted:
            assert 'name="next" value=""' in body, target
        else:
            assert "Continue" not in body, target
    response = client.get(reverse("agreements", args=[SLUG]), {"next": f"/calls/{world.call.pk}/"})
    if accepted:
        assert f'href="/calls/{world.call.pk}/"' in response.content.decode(), "a local next is kept"


# Calendar files


def unfold(ics: str) -> str:
    return re.sub(r"\r\n[ \t]", "", ics)


def rfc5545_text(value: str) -> str:
    """TEXT as RFC 5545 section 3.3.11 writes it: backslash, semicolon, comma and line breaks escaped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return re.sub(r"\r\n|\r|\n", "\\\\n", value)


def one_kind_of_line_break(value: str) -> str:
    return re.sub(r"\r\n|\r", "\n", value)


def assert_calendar_text(response_or_body, expected: dict[str, str], where: str):
    """Each property holds exactly the text typed, escaped as RFC 5545 asks, on its own line."""
    if isinstance(response_or_body, str):
        body = response_or_body
    else:
        assert response_or_body["Content-Type"].startswith("text/calendar"), where
        assert response_or_body["X-Content-Type-Options"] == "nosniff", where
        body = response_or_body.content.decode()
    assert re.search(r"\r(?!\n)|(?<!\r)\n", body) is None, f"{where}: a line break that is not CRLF"
    lines = unfold(body).split("\r\n")
    parsed = Calendar.from_ical(body)
    for prop, text in expected.items():
        values = [one_kind_of_line_break(str(component[prop])) for component in parsed.walk() if prop in component]
        # icalendar unescapes the properties it knows; X- properties it returns as written.
        found = [value for value in values if one_kind_of_line_break(text) in value or rfc5545_text(text) in value]
        assert found, f"{where}: {prop} is not {text!r}: {values}"
        escaped = rfc5545_text(text)
        assert any(line.startswith(prop) and escaped in line for line in lines), f"{where}: {prop} not escaped"
    names = {line.split(":", 1)[0].split(";", 1)[0] for line in lines if line}
    assert names <= KNOWN_ICS_PROPERTIES, f"{where}: unexpected lines {sorted(names - KNOWN_ICS_PROPERTIES)}"


KNOWN_ICS_PROPERTIES = {
    "BEGIN",
    "END",
    "VERSION",
    "PRODID",
    "CALSCALE",
    "METHOD",
    "X-WR-CALNAME",
    "TZID",
    "DTSTART",
    "TZOFFSETFROM",
    "TZOFFSETTO",
    "TZNAME",
    "UID",
    "DTSTAMP",
    "DTEND",
    "RRULE",
    "EXDATE",
    "RECURRENCE-ID",
    "SEQUENCE",
    "SUMMARY",
    "DESCRIPTION",
    "LOCATION",
    "URL",
    "STATUS",
    "TRANSP",
    "ORGANIZER",
    "ATTENDEE",
}


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS)
def test_calendar_files_keep_text_in_its_property(client, payload):
    world = build_world(payload)
    t = world.text
    assert_calendar_text(
        client.get(reverse("call_ics", args=[world.call.pk])),
        {"SUMMARY": t["call_title"], "DESCRIPTION": f"{t['format_name']} · {t['community']}"},
        "call .ics",
    )
    assert_calendar_text(
        client.get(reverse("series_ics", args=[world.series.pk])),
        {"SUMMARY": t["series_title"], "X-WR-CALNAME": t["series_title"]},
        "series .ics",
    )
    token = world.member.reset_calendar_token()
    assert_calendar_text(
        client.get(reverse("calendar_feed", args=[token])), {"SUMMARY": t["call_title"]}, "calendar feed"
    )


LINE_BREAKS = ["\r\n", "\n", "\r"]


@pytest.mark.django_db
@pytest.mark.parametrize("line_break", LINE_BREAKS, ids=["crlf", "lf", "cr"])
def test_calendar_text_cannot_start_a_line_of_its_own(client, line_break):
    """A title typed into the call form (which keeps line breaks inside a value) cannot add an
    attachment, an alarm or an attendee to the people's calendars."""
    world = build_world("x")
    injected = f"Circle{line_break}ATTACH:https://evil.example/x{line_break}X-INJECTED:1"
    client.force_login(world.facilitator)
    day = timezone.localdate() + timedelta(days=5)
    response = client.post(
        reverse("call_create", args=[SLUG]),
        {
            "title": injected,
            "duration_minutes": 60,
            "format": world.call_format.pk,
            "facilitator": world.facilitator.pk,
            "co_facilitator": "",
            "capacity": 6,
            "day": day.isoformat(),
            "at": "18:30",
            "time_zone": "Europe/Berlin",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    call = Call.objects.get(title__startswith="Circle", community=world.community)
    title = call.title
    assert "ATTACH" in title  # the form kept the text; the calendar must keep it in its place
    world.member.display_name = f"Maya{line_break}X-INJECTED:1"
    world.member.save(update_fields=["display_name"])
    RSVP.objects.create(call=call, user=world.member, status=RSVP.Status.GOING)
    assert_calendar_text(client.get(reverse("call_ics", args=[call.pk])), {"SUMMARY": title}, "call .ics")
    row = Notification(
        kind=Notification.Kind.CALL_CHANGED,
        recipient=world.member,
        call=call,
        community=world.community,
        due_at=call.starts_at,
    )
    message = emails.build(row, now=timezone.now())
    attachment = next(body for name, body, _type in message.attachments if name == "call.ics")
    assert_calendar_text(attachment, {"SUMMARY": title}, "emailed .ics")
    assert "\r" not in message.subject and "\n" not in message.subject


# Emails


CALL_KINDS = [
    Notification.Kind.REMINDER_DAY,
    Notification.Kind.REMINDER_SOON,
    Notification.Kind.CALL_CANCELLED,
    Notification.Kind.CALL_CHANGED,
    Notification.Kind.WAITLIST_PROMOTED,
]
COMMUNITY_KINDS = [
    Notification.Kind.JOIN_REQUESTED,
    Notification.Kind.JOIN_APPROVED,
    Notification.Kind.JOIN_DECLINED,
    Notification.Kind.MODERATION_WARNING,
]
EMAIL_FIELDS = {
    Notification.Kind.REMINDER_DAY: ("member", "call_title", "community", "format_name"),
    Notification.Kind.REMINDER_SOON: ("member", "call_title", "community", "format_name"),
    Notification.Kind.CALL_CANCELLED: ("member", "call_title", "community"),
    Notification.Kind.CALL_CHANGED: ("member", "call_title", "community"),
    Notification.Kind.WAITLIST_PROMOTED: ("member", "call_title", "community"),
    Notification.Kind.JOIN_REQUESTED: ("member", "community"),
    Notification.Kind.JOIN_APPROVED: ("member", "community"),
    Notification.Kind.JOIN_DECLINED: ("member", "community"),
    Notification.Kind.MODERATION_WARNING: ("member", "community"),
    Notification.Kind.REPORT_HANDLED: ("member",),
}


def test_every_kind_of_email_is_checked():
    assert set(EMAIL_FIELDS) == set(Notification.Kind.values)


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS)
def test_emails_escape_html_and_keep_text_as_typed(payload, subtests):
    world = build_world(payload)
    now = timezone.now()
    for kind, fields in EMAIL_FIELDS.items():
        with subtests.test(kind=kind):
            row = Notification(  # as the dispatcher reads it; build() only renders
                kind=kind,
                recipient=world.member,
                call=world.call if kind in CALL_KINDS else None,
                community=world.community,
                due_at=now,
            )
            message = emails.build(row, now=now)
            html = next(content for content, mimetype in message.alternatives if mimetype == "text/html")
            assert_inert(html, world, f"{kind} html")
            assert_shown_escaped(html, world, fields, f"{kind} html")
            for field in fields:
                text = world.text[field]
                assert text in message.body, f"{kind} text: {field} is not as typed"
                if escape(text) != text:
                    assert escape(text) not in message.body, f"{kind} text: {field} is HTML-escaped in plain text"
            subject_field = "call_title" if kind in CALL_KINDS else "community" if kind in COMMUNITY_KINDS else None
            if subject_field:
                assert world.text[subject_field] in message.subject, f"{kind} subject"
            assert not re.search(r"&(lt|gt|quot|amp|#x27);", message.subject), f"{kind} subject is HTML-escaped"


# The room


@pytest.fixture
def _fresh_channel_layer():
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def payload_room(transactional_db, _fresh_channel_layer):
    """A call about to start whose facilitator and members have payloads for names."""
    world = build_world(PAYLOADS[0])
    names = {
        world.facilitator: text_of("facilitator", PAYLOADS[1]),
        world.member: text_of("member", PAYLOADS[4]),
    }
    jonas = make_person("jonas@example.com", display_name=text_of("jonas", PAYLOADS[3]))
    _member(world.community, jonas)
    rsvp_set(call_id=world.call.pk, user=jonas, going=True)
    for user, name in names.items():
        user.display_name = name
        user.save(update_fields=["display_name"])
    world.jonas = jonas
    return world


async def _open(call_id, *users):
    sockets = []
    for user in users:
        socket = Socket(call_id, user)
        assert await socket.connect()
        await socket.state()
        sockets.append(socket)
    return sockets


def acting(socket, kind: str) -> dict:
    """An action as the room page sends it: with what the protocol asks the sender to have seen
    (the room's version, the turn or the segment), from this socket's newest snapshot."""
    seen = {
        "version": socket.version,
        "turn": (socket.last["turn"] or {}).get("number", 0),
        "segment": socket.last["segment_index"],
    }
    fields = protocol.CLIENT[kind].get("properties", {})
    return {"type": kind, **{name: value for name, value in seen.items() if name in fields}}


async def _relayed(socket, kind, text):
    """The next message of this kind: its text is the payload, unchanged, as a JSON string."""
    message = await socket.receive_until(lambda m: m["type"] == kind)
    assert isinstance(message["text"], str)
    assert message["text"] == text
    assert json.loads(json.dumps(message))["text"] == text
    return message


@pytest.mark.django_db(transaction=True)
async def test_room_relays_text_as_plain_json_strings(payload_room):
    world = payload_room
    fran, maya, jonas = await _open(world.call.pk, world.facilitator, world.member, world.jonas)
    everyone = [fran, maya, jonas]
    try:
        await fran.send({"type": "sync"})
        snap = await fran.receive_until(lambda m: m["type"] == "state" and len(m["participants"]) == 3)
        names = {p["id"]: p["name"] for p in snap["participants"]}
        expected = {world.facilitator.display_name, world.member.display_name, world.jonas.display_name}
        assert set(names.values()) == expected, "names are sent exactly as typed"
        ids = {name: pid for pid, name in names.items()}
        fran_id, maya_id = ids[world.facilitator.display_name], ids[world.member.display_name]

        await fran.send(acting(fran, "call.start"))
        state = (await settle(*everyone, version=snap["version"] + 1))[0]
        assert [segment["title"] for segment in state["segments"]] == [world.text["segment_title"]]
        while not (state["phase"] == "turn" and state["turn"]["speaker"] == fran_id):
            await fran.send(acting(fran, "segment.next"))
            state = (await settle(*everyone, version=state["version"] + 1))[0]

        # Typed shares: everyone gets the speaker's text, unchanged.
        await fran.send({"type": "share.typing", "typing": True})
        for payload in PAYLOADS:
            await fran.send({"type": "share.text", "text": payload})
            for socket in everyone:
                await _relayed(socket, "share.text", payload)

        # Support messages: between the person who asked and the facilitators, unchanged.
        await maya.send({"type": "support.request"})
        await settle(*everyone, version=fran.version + 1)
        for payload in PAYLOADS:
            await maya.send({"type": "support.message", "text": payload})
            await _relayed(fran, "support.message", payload)
            await _relayed(maya, "support.message", payload)  # the sender's own copy
            await fran.send({"type": "support.message", "text": payload, "to": maya_id})
            await _relayed(maya, "support.message", payload)
            await _relayed(fran, "support.message", payload)
        assert await jonas.none_of("support.message"), "support messages are private"

        # Typed reflections go to the sharer, who shows them to everyone: both unchanged.
        await fran.send(acting(fran, "turn.finish"))
        state = (await settle(*everyone, version=fran.version + 1))[0]
        assert state["phase"] == "reflections"
        for payload in PAYLOADS:
            await jonas.send({"type": "reflection.send", "text": payload})
            private = await _relayed(fran, "reflection", payload)
            await fran.send(
                {
                    "type": "reflection.show",
                    "id": private["id"],
                    "from": private["from"],
                    "text": private["text"],
                    "sig": private["sig"],
                }
            )
            for socket in everyone:
                await _relayed(socket, "reflection.shown", payload)
    finally:
        for socket in everyone:
            await socket.close()
    present = await database_sync_to_async(Participant.objects.filter(room_id=world.call.pk).count)()
    assert present == 3


SINKS = re.compile(
    r"\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write|\beval\s*\(|new\s+Function\s*\(|"
    r"createContextualFragment|DOMParser|setAttribute\(\s*[\"'](?:on\w+|href|src|srcdoc)[\"']|\.href\s*=|\.src\s*="
)


# Parsing HTML on purpose: fragments.js swaps in a part of a page the server rendered (and escaped,
# as test_messages_and_fragments_escape_names checks); it never parses text people typed.
PARSES_SERVER_HTML = {"static/js/fragments.js": 'new DOMParser().parseFromString(html, "text/html")'}


def test_room_scripts_never_parse_text_as_html():
    """The room's scripts (and the site's) put people's text on the page with textContent only."""
    scripts = sorted((ROOT / "static" / "js").rglob("*.js"))
    assert any(path.name == "main.js" for path in scripts)
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in scripts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if SINKS.search(line) and PARSES_SERVER_HTML.get(str(path.relative_to(ROOT)), "\0") not in line
    ]
    assert found == []
