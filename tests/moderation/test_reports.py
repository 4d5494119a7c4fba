from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import SiteBan, User
from core.models import AuditEntry
from groups.models import RSVP, Membership, Notification
from groups.services.rsvps import rsvp_set
from moderation import services
from moderation.models import Report


def make_report(circle, **changes):
    values = {
        "reporter": circle.member,
        "subject": circle.pending,
        "reason": "harassment",
        "community": circle.community,
    }
    values.update(changes)
    return services.report_create(**values)


def test_a_member_reports_someone_in_their_community(circle):
    report = make_report(circle, note="Was unkind twice.")
    assert (report.state, report.reporter, report.subject) == ("open", circle.member, circle.pending)


def test_people_outside_the_community_cannot_report_into_it(circle):
    with pytest.raises(PermissionDenied):
        make_report(circle, reporter=circle.outsider)
    with pytest.raises(ValidationError):
        make_report(circle, subject=circle.member)  # not oneself
    assert not Report.objects.exists()


def test_reports_are_rate_limited(circle):
    for _ in range(services.REPORTS_PER_HOUR):
        make_report(circle)
    with pytest.raises(ValidationError, match="several reports"):
        make_report(circle)
    assert Report.objects.count() == services.REPORTS_PER_HOUR


def test_the_queue_shows_facilitators_their_community_and_staff_everything(client, circle):
    report = make_report(circle)
    client.force_login(circle.facilitator)
    assert "Harassment" in client.get("/moderation/").content.decode()
    assert client.get(f"/moderation/reports/{report.pk}/").status_code == 200
    client.force_login(circle.member)
    assert client.get("/moderation/").status_code == 403
    assert client.get(f"/moderation/reports/{report.pk}/").status_code == 403
    client.force_login(circle.staff)
    assert client.get(f"/moderation/reports/{report.pk}/").status_code == 200


def test_facilitators_do_not_handle_reports_about_themselves(circle):
    report = make_report(circle, subject=circle.facilitator)
    assert not services.can_handle(circle.facilitator, report)
    assert services.can_handle(circle.owner, report)


def test_the_reporter_is_told_it_was_handled_but_not_how(circle):
    report = make_report(circle)
    services.report_resolve(report=report, actor=circle.facilitator, outcome="warned", reason="First time")
    handled = Notification.objects.get(kind="report_handled")
    assert handled.recipient == circle.member
    assert Notification.objects.get(kind="moderation_warning").recipient == circle.pending
    entry = AuditEntry.objects.get(action="member.warn")
    assert (entry.actor, entry.subject, entry.reason) == (circle.facilitator, circle.pending, "First time")
    with pytest.raises(ValidationError, match="already handled"):
        services.report_resolve(report=report, actor=circle.facilitator, outcome="dismissed")


def test_a_suspension_ends_by_itself(circle):
    report = make_report(circle, subject=circle.member, reporter=circle.co_facilitator)
    now = timezone.now()
    services.report_resolve(
        report=report, actor=circle.facilitator, outcome="suspended", days=3, reason="Cool down", now=now
    )
    membership = Membership.objects.get(community=circle.community, user=circle.member)
    assert membership.state == "banned"
    assert services.lift_suspensions(now=now + timedelta(days=2)) == 0
    assert services.lift_suspensions(now=now + timedelta(days=3, seconds=1)) == 1
    assert Membership.objects.get(pk=membership.pk).state == "active"


def test_a_ban_cancels_rsvps_and_reminders_at_once(circle):
    call = circle.call()
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    report = make_report(circle, subject=circle.member, reporter=circle.co_facilitator)
    services.report_resolve(report=report, actor=circle.facilitator, outcome="banned", reason="Repeated harm")
    assert RSVP.objects.get(call=call, user=circle.member).status == "not_going"
    pending = Notification.objects.filter(call=call, recipient=circle.member, state="pending")
    assert not pending.exists()
    assert AuditEntry.objects.filter(action="community.ban", subject=circle.member).exists()


def test_only_staff_ban_from_the_site_and_the_address_cannot_sign_up_again(client, circle):
    report = make_report(circle, subject=circle.member, reporter=circle.co_facilitator)
    with pytest.raises(PermissionDenied):
        services.report_resolve(report=report, actor=circle.owner, outcome="banned_from_site")
    services.report_resolve(report=report, actor=circle.staff, outcome="banned_from_site", reason="Threats")
    circle.member.refresh_from_db()
    assert circle.member.is_active is False
    assert SiteBan.objects.filter(email="member@example.com").exists()
    response = client.post(
        "/accounts/signup/",
        {
            "email": "Member@Example.com",
            "display_name": "Again",
            "time_zone": "UTC",
            "password1": "a-long-calm-passphrase",
            "password2": "a-long-calm-passphrase",
        },
    )
    # Answered like an address in use: on to "check your email", and no new account.
    assert (response.status_code, response["Location"]) == (302, "/accounts/confirm-email/")
    assert User.objects.filter(email__iexact="member@example.com").count() == 1


def test_the_report_form_and_its_thank_you(client, circle):
    client.force_login(circle.member)
    page = client.get(f"/report/?community={circle.community.slug}&subject={circle.co_facilitator.pk}")
    assert page.status_code == 200
    assert f'<option value="{circle.co_facilitator.pk}" selected>Cody</option>' in page.content.decode()
    response = client.post(
        "/report/",
        {"community": circle.community.slug, "subject": circle.co_facilitator.pk, "reason": "spam", "note": ""},
    )
    assert "Thank you for telling us" in response.content.decode()
    assert Report.objects.get().subject == circle.co_facilitator


def test_banning_from_the_members_page(client, circle):
    membership = Membership.objects.get(community=circle.community, user=circle.member)
    client.force_login(circle.facilitator)
    response = client.post(
        f"/c/{circle.community.slug}/members/{membership.pk}/ban/", {"days": "7", "reason": "Needs a break"}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.state == "banned" and membership.banned_until is not None
    facilitator = Membership.objects.get(community=circle.community, user=circle.co_facilitator)
    response = client.post(f"/c/{circle.community.slug}/members/{facilitator.pk}/ban/", {"reason": "x"})
    assert response.status_code == 403  # only owners ban facilitators
