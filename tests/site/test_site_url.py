"""The embedded default knows its own address: SITE_URL follows PORT (and HOST), and every link
the site prints or sends without a request (pages, emails, unsubscribe links, calendar files and
seed_demo's output) uses it."""

import os
import subprocess
import sys
from datetime import UTC, date, datetime, time

import icalendar
import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from core.env import Env
from groups import calendar
from groups.services import delivery
from groups.services.rsvps import rsvp_set
from groups.services.scheduling import CallDetails, call_create

ON_8801 = "http://127.0.0.1:8801"


def test_the_local_address_follows_host_and_port():
    assert Env({}).local_url() == "http://127.0.0.1:8000"
    assert Env({"PORT": "8801"}).local_url() == ON_8801
    assert Env({"PORT": "8801", "HOST": "0.0.0.0"}).local_url() == ON_8801  # noqa: S104
    assert Env({"PORT": "9000", "HOST": "localhost"}).local_url() == "http://localhost:9000"
    assert Env({"PORT": "9000", "HOST": "::1"}).local_url() == "http://[::1]:9000"


def test_a_bad_port_is_refused_by_name():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="PORT must be a whole number"):
        Env({"PORT": "eighty"}).local_url()


def _settings_site_url(**environ):
    keep = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "DEBUG", "HOST", "PORT"}}
    code = "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**keep, "DJANGO_SETTINGS_MODULE": "attunement_site.settings", **environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=settings.BASE_DIR,
    )
    return result.stdout.strip().splitlines()[-1]


def test_the_embedded_default_derives_site_url_from_port_and_an_explicit_one_wins():
    assert _settings_site_url(PORT="8801") == ON_8801
    assert _settings_site_url(PORT="8801", SITE_URL="https://attune.example.org/") == "https://attune.example.org"


@pytest.mark.django_db
@override_settings(SITE_URL=ON_8801)
def test_links_in_pages_emails_and_calendar_files_follow_the_port(circle, client, capsys):
    with time_machine.travel(datetime(2027, 3, 1, 8, 0, tzinfo=UTC), tick=False):
        call = call_create(
            community=circle.community,
            actor=circle.facilitator,
            details=CallDetails(
                title="Evening circle",
                format=circle.call_format,
                facilitator=circle.facilitator,
                co_facilitator=None,
                duration_minutes=75,
                capacity=8,
            ),
            day=date(2027, 3, 3),
            at=time(18, 0),
            time_zone="Europe/Berlin",
        )
        rsvp_set(call_id=call.pk, user=circle.member, going=True)
    with time_machine.travel(datetime(2027, 3, 2, 17, 0, tzinfo=UTC), tick=False):
        delivery.dispatch()

    # Emails: the join link, the unsubscribe header and the attached calendar entry.
    message = next(message for message in mail.outbox if message.to == [circle.member.email])
    assert f"{ON_8801}/calls/{call.pk}/room/" in message.body
    assert message.extra_headers["List-Unsubscribe"].startswith(f"<{ON_8801}/unsubscribe/")
    assert "127.0.0.1:8000" not in message.body + message.alternatives[0][0]
    event = icalendar.Calendar.from_ical(message.attachments[0][1]).walk("VEVENT")[0]
    assert str(event["URL"]) == f"{ON_8801}/calls/{call.pk}/"

    # Calendar files served by the site.
    assert calendar.call_url(call) == f"{ON_8801}/calls/{call.pk}/"

    # Pages: the personal calendar address on the profile.
    client.force_login(circle.member)
    client.post(reverse("calendar_address"), {"action": "new"})
    page = client.get(reverse("profile")).content.decode()
    assert f'value="{ON_8801}/' in page
    assert "127.0.0.1:8000" not in page


@pytest.mark.django_db
@override_settings(DEBUG=True, SITE_URL=ON_8801)
def test_seed_demo_prints_the_address_the_site_runs_on(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert f"Community: {ON_8801}/" in out
