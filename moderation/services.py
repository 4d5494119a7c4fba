"""Reports, warnings, removals, suspensions and bans. Each is written to the audit log, and a ban
takes effect at once: open sockets close, RSVPs and reminders are cancelled."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import SiteBan, User
from core import ratelimit
from core.audit import record
from groups import permissions
from groups.models import RSVP, Call, Community, Membership
from groups.services import notify
from groups.services.rsvps import rsvp_set
from moderation.models import Report
from sharing.selectors import open_call_ids
from sharing.services import kick

Outcome = Report.Outcome
MAX_SUSPENSION_DAYS = 365
REPORTS_PER_HOUR = 5


def _shares_a_community(user, other) -> bool:
    mine = Membership.objects.filter(user=user, state=Membership.State.ACTIVE).values("community_id")
    return Membership.objects.filter(user=other, community_id__in=mine).exists()


@transaction.atomic
def report_create(*, reporter, subject, reason: str, note: str = "", community=None, call=None) -> Report:
    if subject is None or subject.pk == reporter.pk:
        raise ValidationError(_("Choose the person you are concerned about."))
    if reason not in Report.Reason.values:
        raise ValidationError({"reason": [_("Choose what the concern is.")]})
    if community is not None and not permissions.is_member(reporter, community):
        raise PermissionDenied
    if community is None and not _shares_a_community(reporter, subject):
        raise PermissionDenied
    if not ratelimit.allow(f"report:{reporter.pk}", limit=REPORTS_PER_HOUR, period=3600):
        raise ValidationError(
            _("You have sent several reports in the last hour. Please wait a little, or contact a facilitator.")
        )
    return Report.objects.create(
        reporter=reporter, subject=subject, reason=reason, note=note.strip(), community=community, call=call
    )


def can_handle(actor, report: Report) -> bool:
    """Staff handle every report; a community's owners and facilitators handle its reports, except
    reports about themselves."""
    if permissions.is_staff(actor):
        return True
    if report.community is None or report.subject_id == actor.pk:
        return False
    return permissions.can_facilitate(actor, report.community)


def _kick_from_live_rooms(user: User, community: Community | None) -> None:
    """Remove the person from every room that is still open, and close their sockets there."""
    community_id = community.pk if community is not None else None
    for call_id in open_call_ids(user=user, community_id=community_id):
        kick(call_id=call_id, user_id=user.pk)


def _cancel_rsvps(user: User, community: Community | None, now) -> None:
    future = RSVP.objects.filter(
        user=user, status__in=[RSVP.Status.GOING, RSVP.Status.WAITLISTED], call__starts_at__gt=now
    )
    if community is not None:
        future = future.filter(call__community=community)
    for call_id in list(future.values_list("call_id", flat=True)):
        rsvp_set(call_id=call_id, user=user, going=False, now=now, check_membership=False)


@transaction.atomic
def ban_from_community(*, community: Community, user: User, actor, reason: str, days: int | None = None, now=None):
    """Ban (or, with `days`, suspend) someone from a community. It takes effect at once."""
    now = now or timezone.now()
    permissions.require(permissions.can_facilitate(actor, community))
    if user.pk == actor.pk:
        raise ValidationError(_("You cannot ban yourself."))
    membership = Membership.objects.select_for_update().filter(community=community, user=user).first()
    if membership is not None and membership.role != Membership.Role.MEMBER:
        permissions.require(permissions.can_own(actor, community))
    if days is not None and not 1 <= days <= MAX_SUSPENSION_DAYS:
        raise ValidationError(
            {"days": [_("A suspension lasts from 1 to %(max)s days.") % {"max": MAX_SUSPENSION_DAYS}]}
        )
    if membership is None:
        membership = Membership(community=community, user=user)
    membership.state = Membership.State.BANNED
    membership.role = Membership.Role.MEMBER
    membership.banned_until = now + timedelta(days=days) if days else None
    membership.save()
    permissions.forget_membership(user, community)
    _cancel_rsvps(user, community, now)
    _kick_from_live_rooms(user, community)
    record(
        actor=actor,
        action="community.suspend" if days else "community.ban",
        subject=user,
        community=community,
        reason=reason,
        days=days,
    )
    return membership


@transaction.atomic
def ban_from_site(*, user: User, actor, reason: str, now=None) -> None:
    """Staff only: the account stops working, and its address cannot sign up again."""
    now = now or timezone.now()
    permissions.require(permissions.is_staff(actor))
    if user.pk == actor.pk:
        raise ValidationError(_("You cannot ban yourself."))
    User.objects.filter(pk=user.pk).update(is_active=False)
    SiteBan.objects.update_or_create(email=user.email.lower(), defaults={"reason": reason, "created_by": actor})
    Membership.objects.filter(user=user).update(state=Membership.State.BANNED, role=Membership.Role.MEMBER)
    _cancel_rsvps(user, None, now)
    _kick_from_live_rooms(user, None)
    for session in Session.objects.filter(expire_date__gt=now):
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
    record(actor=actor, action="site.ban", subject=user, reason=reason)


@transaction.atomic
def lift_suspensions(*, now=None) -> int:
    """Suspensions whose time has passed end; bans without an end date stay."""
    now = now or timezone.now()
    return Membership.objects.filter(state=Membership.State.BANNED, banned_until__lte=now).update(
        state=Membership.State.ACTIVE, banned_until=None
    )


@transaction.atomic
def report_resolve(
    *, report: Report, actor, outcome: str, reason: str = "", days: int | None = None, now=None
) -> Report:
    """Handle a report. The reporter is told that it was handled, never how."""
    now = now or timezone.now()
    report = (
        Report.objects.select_for_update(of=("self",)).select_related("community", "subject", "call").get(pk=report.pk)
    )
    permissions.require(can_handle(actor, report))
    if report.state == Report.State.HANDLED:
        raise ValidationError(_("This report was already handled."))
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": [_("Choose what to do.")]})
    subject, community = report.subject, report.community
    if outcome == Outcome.BANNED_FROM_SITE:
        ban_from_site(user=subject, actor=actor, reason=reason, now=now)
    elif outcome in {Outcome.SUSPENDED, Outcome.BANNED}:
        if community is None:
            raise ValidationError(_("This report is not about a community; only a site ban applies."))
        if outcome == Outcome.SUSPENDED and not days:
            raise ValidationError({"days": [_("Choose how many days the suspension lasts.")]})
        ban_from_community(
            community=community,
            user=subject,
            actor=actor,
            reason=reason,
            days=days if outcome == Outcome.SUSPENDED else None,
            now=now,
        )
    elif outcome == Outcome.REMOVED_FROM_CALL:
        if report.call is None:
            raise ValidationError(_("This report is not about a call."))
        kick(call_id=report.call_id, user_id=subject.pk)
        record(
            actor=actor, action="call.remove", subject=subject, community=community, reason=reason, call=report.call_id
        )
    elif outcome == Outcome.WARNED:
        notify.moderation_warning(user_id=subject.pk, community=community)
        record(actor=actor, action="member.warn", subject=subject, community=community, reason=reason)
    else:
        record(
            actor=actor, action="report.dismiss", subject=subject, community=community, reason=reason, report=report.pk
        )
    report.state = Report.State.HANDLED
    report.outcome = outcome
    report.handled_by = actor
    report.handled_at = now
    report.save(update_fields=["state", "outcome", "handled_by", "handled_at"])
    if report.reporter_id:
        notify.report_handled(reporter_id=report.reporter_id, community=community)
    return report


def calls_for_report(user) -> list[Call]:
    """Recent calls the reporter was in, to say where something happened."""
    cutoff = timezone.now() - timedelta(days=14)
    return list(Call.objects.filter(room__participants__user=user, starts_at__gte=cutoff).order_by("-starts_at")[:10])
