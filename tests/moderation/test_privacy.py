"""Export and deletion, end to end; after erasure no personal data remains in any table."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection, models
from django.utils import timezone

from accounts import privacy
from accounts.models import User
from core.models import AuditEntry
from groups.models import Membership
from groups.services.communities import membership_decline, membership_join, membership_set_role
from groups.services.rsvps import rsvp_set
from moderation.services import report_create, report_resolve
from sharing import services as room
from tests.conftest import make_person

SECRET_EMAIL = "rowan.unique.zz@example.com"
SECRET_NAME = "Rowan Quillfeather"


def test_download_my_data_lists_everything_we_hold(client, circle):
    call = circle.call(starts_in=timedelta(minutes=5))
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    room.room_enter(call_id=call.pk, user=circle.member)
    report_create(reporter=circle.member, subject=circle.pending, reason="spam", community=circle.community, note="Ads")
    client.force_login(circle.member)
    response = client.get("/accounts/data/export.json")
    assert response["Content-Disposition"] == 'attachment; filename="attunement-my-data.json"'
    data = json.loads(response.content)
    assert data["profile"]["email"] == "member@example.com"
    assert data["profile"]["accommodations"]["extra_time"] == "1"
    assert [m["community"] for m in data["memberships"]] == ["Hands at rest"]
    assert data["rsvps"][0]["status"] == "going"
    assert data["attendance"][0]["call"] == call.title
    assert data["reports_made"][0]["note"] == "Ads"
    # A seat taken five minutes before the call gets the one reminder still ahead: "Starting soon".
    assert any(email["kind"] == "reminder_soon" for email in data["emails"])


def test_download_my_data_includes_every_audit_entry_about_me(client, circle):
    """What moderators recorded about a person is theirs to read, without the moderator's name."""
    membership_set_role(
        membership=Membership.objects.get(community=circle.community, user=circle.member),
        actor=circle.owner,
        role="facilitator",
    )
    report = report_create(
        reporter=circle.co_facilitator, subject=circle.member, reason="other", community=circle.community
    )
    report_resolve(report=report, actor=circle.facilitator, outcome="warned", reason="Please listen first.")
    membership_decline(
        membership=membership_join(community=circle.community, user=circle.outsider), actor=circle.member
    )
    client.force_login(circle.member)
    data = json.loads(client.get("/accounts/data/export.json").content)
    about = [(entry["action"], entry["community"], entry["reason"]) for entry in data["audit_log_about_you"]]
    assert about == [
        ("member.role", "Hands at rest", ""),
        ("member.warn", "Hands at rest", "Please listen first."),
    ]
    assert data["audit_log_about_you"][0]["detail"] == {"old": "member", "new": "facilitator"}
    assert [entry["action"] for entry in data["audit_log_by_you"]] == ["member.decline"]
    text = json.dumps(data)
    for someone_else in ("Fran", "Olive", "Cody", "Olu", "outsider@example.com"):
        assert someone_else not in text, someone_else
    # Every entry naming this person is in their export.
    assert len(data["audit_log_about_you"]) == AuditEntry.objects.filter(subject=circle.member).count()
    assert len(data["audit_log_by_you"]) == AuditEntry.objects.filter(actor=circle.member).count()


def test_deleting_waits_seven_days_and_logging_in_cancels_it(client, circle):
    client.force_login(circle.member)
    response = client.post("/accounts/data/delete/", {"password": "attune-test-pw"})
    assert response.status_code == 302
    circle.member.refresh_from_db()
    assert circle.member.deletion_requested_at is not None
    assert privacy.erase_due(now=timezone.now() + timedelta(days=6)) == 0
    client.post("/accounts/login/", {"login": "member@example.com", "password": "attune-test-pw"})
    circle.member.refresh_from_db()
    assert circle.member.deletion_requested_at is None


def test_a_wrong_password_deletes_nothing(client, circle):
    client.force_login(circle.member)
    client.post("/accounts/data/delete/", {"password": "wrong"})
    circle.member.refresh_from_db()
    assert circle.member.deletion_requested_at is None


def test_guessing_the_password_to_delete_an_account_is_rate_limited(client, circle):
    """Five tries in five minutes, as for logins; then even the right password deletes nothing."""
    client.force_login(circle.member)
    for _attempt in range(5):
        response = client.post("/accounts/data/delete/", {"password": "a guess"}, follow=True)
        assert "That password is not right" in response.content.decode()
    response = client.post("/accounts/data/delete/", {"password": "attune-test-pw"}, follow=True)
    assert response.redirect_chain == [("/accounts/data/", 302)]
    assert "Please wait a few minutes, then try again. Your account is unchanged." in response.content.decode()
    circle.member.refresh_from_db()
    assert circle.member.deletion_requested_at is None
    assert client.session["_auth_user_id"] == str(circle.member.pk)
    # Another person's tries are their own.
    client.force_login(circle.pending)
    client.post("/accounts/data/delete/", {"password": "attune-test-pw"})
    circle.pending.refresh_from_db()
    assert circle.pending.deletion_requested_at is not None


def test_after_erasure_no_personal_data_remains_in_any_table(circle):
    rowan = make_person(SECRET_EMAIL, display_name=SECRET_NAME, time_zone="Pacific/Chatham")
    circle.add_member  # noqa: B018 (the circle exists; Rowan joins it below)
    from groups.models import Membership

    Membership.objects.create(
        community=circle.community,
        user=rowan,
        state="active",
        accepted_agreements_version=1,
        join_answer=f"I am {SECRET_NAME}",
    )
    call = circle.call(starts_in=timedelta(minutes=5))
    rsvp_set(call_id=call.pk, user=rowan, going=True)
    room.room_enter(call_id=call.pk, user=rowan)
    report_create(reporter=rowan, subject=circle.member, reason="other", community=circle.community, note=SECRET_NAME)
    rowan.reset_calendar_token()
    privacy.request_deletion(user=rowan, now=timezone.now() - timedelta(days=8))
    assert privacy.erase_due() == 1

    needles = [SECRET_EMAIL, SECRET_NAME, "Quillfeather", "Pacific/Chatham"]
    found = []
    for model in apps.get_models():
        text_fields = [
            f.name
            for f in model._meta.get_fields()
            if isinstance(f, models.CharField | models.TextField | models.JSONField | models.EmailField)
        ]
        if not text_fields:
            continue
        for row in model.objects.all().values(*text_fields):
            for field, value in row.items():
                if value is not None and any(needle.lower() in str(value).lower() for needle in needles):
                    found.append(f"{model._meta.label}.{field}")
    assert found == [], f"personal data left after erasure in: {found}"
    rowan.refresh_from_db()
    assert rowan.is_active is False and not rowan.has_usable_password()
    # Attendance stays, in aggregate: the call still counts one person in it.
    from sharing.models import Participant

    assert Participant.objects.filter(room_id=call.pk, user=rowan).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_erasure_runs_at_once_erase_each_account_once():
    """Two beats by mistake: each due account is claimed by one run, under its row lock."""
    people = [make_person(f"leaving{i}@example.com") for i in range(6)]
    for person in people:
        privacy.request_deletion(user=person, now=timezone.now() - timedelta(days=8))
    start = threading.Barrier(2)

    def run():
        start.wait()
        try:
            return privacy.erase_due()
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        counts = list(pool.map(lambda _: run(), range(2)))
    assert sum(counts) == len(people)
    assert User.objects.filter(pk__in=[p.pk for p in people], erased_at__isnull=True).count() == 0


def test_an_account_kept_after_the_run_began_is_not_erased(db, monkeypatch):
    """Someone logs in (and so keeps their account) between the run listing them and erasing them."""
    leaving = make_person("leaving@example.com")
    privacy.request_deletion(user=leaving, now=timezone.now() - timedelta(days=8))
    listed = privacy.User.objects.filter

    def list_then_log_in(*args, **kwargs):
        queryset = listed(*args, **kwargs)
        if kwargs.get("erased_at__isnull"):
            ids = list(queryset.values_list("pk", flat=True))
            privacy.cancel_deletion(user=privacy.User.objects.get(pk=leaving.pk))
            monkeypatch.setattr(queryset, "values_list", lambda *a, **k: ids)
        return queryset

    monkeypatch.setattr(privacy.User.objects, "filter", list_then_log_in)
    assert privacy.erase_due() == 0
    monkeypatch.undo()
    leaving.refresh_from_db()
    assert leaving.erased_at is None and leaving.email == "leaving@example.com"
