"""The emails notifications become: plain text and HTML, a one-click unsubscribe, and an .ics
attachment that matches the call's calendar entry (same UID, current SEQUENCE)."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation

from groups import calendar, unsubscribe
from groups.models import Notification

Kind = Notification.Kind

PROMPT = "Before we meet: pause, notice your body, and be curious about what you find."
CALENDAR_METHOD = {
    Kind.REMINDER_DAY: "PUBLISH",
    Kind.REMINDER_SOON: "PUBLISH",
    Kind.CALL_CHANGED: "REQUEST",
    Kind.CALL_CANCELLED: "CANCEL",
    Kind.WAITLIST_PROMOTED: "PUBLISH",
}


def _when(moment, zone_name: str) -> str:
    local = timezone.localtime(moment, zoneinfo.ZoneInfo(zone_name))
    return formats.date_format(local, "l j F Y, H:i")


def _shared(shared: dict | None, key: tuple, make):
    """A part that is the same for every recipient of a call, made once per dispatch run."""
    if shared is None:
        return make()
    if key not in shared:
        shared[key] = make()
    return shared[key]


def context_for(
    row: Notification, *, now, late: bool = False, starting_soon: bool = False, shared: dict | None = None
) -> dict:
    person = row.recipient
    call = row.call
    context = {
        "person": person,
        "site_url": settings.SITE_URL,
        "community": row.community,
        "kind": row.kind,
        "late": late,
        "starting_soon": starting_soon,  # a seat taken in the last minutes: no countdown, no apology
        "prompt": PROMPT,
        "unsubscribe_url": unsubscribe.url(person.pk, scope_for(row)),
        "profile_url": settings.SITE_URL + reverse("profile"),
    }
    if row.community is not None:
        context["community_url"] = settings.SITE_URL + row.community.get_absolute_url()
    if call is not None:
        moment = call.starts_at
        context.update(
            {
                "call": call,
                "when_local": _shared(
                    shared, ("when", moment, person.time_zone), lambda: _when(moment, person.time_zone)
                ),
                "person_zone": person.time_zone,
                "when_call_zone": _shared(
                    shared, ("when", moment, call.time_zone), lambda: _when(moment, call.time_zone)
                )
                if call.time_zone != person.time_zone
                else "",
                "call_zone": call.time_zone,
                **_shared(shared, ("links", call.pk), lambda: _links(call)),
                "minutes_left": max(0, int((call.starts_at - now) / timedelta(minutes=1))),
            }
        )
    return context


def _links(call) -> dict:
    return {
        "call_url": settings.SITE_URL + reverse("call", kwargs={"call_id": call.pk}),
        "join_url": settings.SITE_URL + reverse("call_room", kwargs={"call_id": call.pk}),
    }


def scope_for(row: Notification) -> str:
    return unsubscribe.REMINDERS if row.is_reminder else unsubscribe.UPDATES


def build(
    row: Notification, *, now, late: bool = False, starting_soon: bool = False, shared: dict | None = None
) -> EmailMultiAlternatives:
    """The message for one row. `shared` (a dict kept for one dispatch run) lets every recipient of
    a call reuse its links, its times per zone and its published calendar entry."""
    context = context_for(row, now=now, late=late, starting_soon=starting_soon, shared=shared)
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"emails/{row.kind}_subject.txt", context).split())
        text = render_to_string(f"emails/{row.kind}.txt", context)
        html = render_to_string(f"emails/{row.kind}.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.recipient.email],
        headers={
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    if row.call is not None and row.kind in CALENDAR_METHOD:
        method = CALENDAR_METHOD[row.kind]
        call = row.call

        def entry():
            return calendar.calls_calendar([call], name=call.title, method=method, attendee=row.recipient)

        if method == "PUBLISH":  # no attendee in it: the same file for everyone
            body = _shared(shared, ("ics", call.pk, call.sequence, call.status, call.starts_at, method), entry)
        else:
            body = entry()
        message.attach("call.ics", body, f"text/calendar; charset=utf-8; method={method}")
    return message
