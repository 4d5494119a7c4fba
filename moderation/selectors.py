from django.db.models import Q

from accounts.models import User
from core.models import AuditEntry
from groups.models import Community, Membership
from moderation.models import CrisisResource, Report


def moderated_communities(user):
    if user.is_staff:
        return Community.objects.all()
    return Community.objects.filter(
        memberships__user=user,
        memberships__state=Membership.State.ACTIVE,
        memberships__role__in=[Membership.Role.OWNER, Membership.Role.FACILITATOR],
    )


def queue(*, user, community=None, state=Report.State.OPEN):
    reports = Report.objects.filter(state=state).select_related("community", "subject", "reporter", "call")
    if community is not None:
        reports = reports.filter(community=community)
    if not user.is_staff:
        reports = reports.filter(community__in=moderated_communities(user)).exclude(subject=user)
    return list(reports[:200])


def people_to_report(*, reporter, community=None, call=None):
    """Whom a person can report: people they share a community or a call with."""
    if call is not None:
        # Only the people who were in the call may see who else was.
        people = User.objects.filter(participations__room_id=call.pk)
        if not people.filter(pk=reporter.pk).exists():
            return []
        return list(people.exclude(pk=reporter.pk).distinct().order_by("display_name"))
    communities = Membership.objects.filter(user=reporter, state=Membership.State.ACTIVE).values("community_id")
    if community is not None:
        communities = communities.filter(community=community)
    return list(
        User.objects.filter(memberships__community_id__in=communities, memberships__state=Membership.State.ACTIVE)
        .exclude(pk=reporter.pk)
        .distinct()
        .order_by("display_name")[:500]
    )


def audit_log(*, community=None):
    entries = AuditEntry.objects.select_related("actor", "subject", "community")
    if community is not None:
        entries = entries.filter(community=community)
    return list(entries[:300])


def crisis_resources(*, communities=()):
    """A community's own resources, or the site's defaults when it has none."""
    own = list(CrisisResource.objects.filter(community__in=communities))
    defaults = list(CrisisResource.objects.filter(community__isnull=True))
    return own, defaults


def shares_a_community(user, other) -> bool:
    mine = Membership.objects.filter(user=user, state=Membership.State.ACTIVE).values("community_id")
    return Membership.objects.filter(
        Q(user=other) & Q(community_id__in=mine) & Q(state=Membership.State.ACTIVE)
    ).exists()
