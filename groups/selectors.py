"""Reads for pages. Each selector runs a fixed number of queries, whatever the size of the data."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from groups.models import RSVP, Agreement, Call, CallFormat, Community, Invite, Membership, Notification

UPCOMING_ON_COMMUNITY_PAGE = 12
RECENT_DAYS = 30
RECENT_ON_COMMUNITY_PAGE = 5


def _rsvp_count(status):
    """How many RSVPs of one status a call has, as a subquery per row rather than a join.

    A join with GROUP BY counts the RSVPs of every matching call before ORDER BY and LIMIT; a
    correlated subquery is evaluated only for the rows the page shows, through the RSVP index.
    """
    counted = (
        RSVP.objects.filter(call=OuterRef("pk"), status=status)
        .order_by()
        .values("call")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def with_seats(calls):
    return calls.annotate(
        going_count=_rsvp_count(RSVP.Status.GOING),
        waitlist_count=_rsvp_count(RSVP.Status.WAITLISTED),
    )


def involving(user) -> Q:
    """Calls the person RSVP'd to (going or waiting) or facilitates.

    One subquery: the calls of the person's RSVPs (through the RSVP(user, status) index) united
    with the calls they facilitate. An OR across a join with RSVP, or an OR beside the calls'
    other filters, makes the database read every call before it can filter.
    """
    rsvped = RSVP.objects.filter(user=user, status__in=[RSVP.Status.GOING, RSVP.Status.WAITLISTED])
    facilitated = Call.objects.filter(Q(facilitator=user) | Q(co_facilitator=user)).order_by()
    return Q(pk__in=rsvped.values("call_id").union(facilitated.values("pk")))


def with_viewer_rsvp(calls, user):
    if not user.is_authenticated:
        return calls
    mine = RSVP.objects.filter(call=OuterRef("pk"), user=user)
    return calls.annotate(my_status=Subquery(mine.values("status")[:1]))


def directory(*, user, now=None):
    """Listed communities, and every community the person belongs to."""
    now = now or timezone.now()
    visible = Q(visibility=Community.Visibility.LISTED)
    if user.is_authenticated:
        visible |= Q(memberships__user=user, memberships__state=Membership.State.ACTIVE)
    communities = (
        Community.objects.filter(visible)
        .exclude(
            Exists(Membership.objects.filter(community=OuterRef("pk"), user_id=user.pk, state=Membership.State.BANNED))
        )
        .annotate(
            member_count=Count("memberships", filter=Q(memberships__state=Membership.State.ACTIVE), distinct=True),
            next_call_at=Subquery(
                Call.objects.filter(community=OuterRef("pk"), status=Call.Status.SCHEDULED, starts_at__gt=now)
                .order_by("starts_at")
                .values("starts_at")[:1]
            ),
        )
        .distinct()
        .order_by("name")
    )
    if user.is_authenticated:
        mine = Membership.objects.filter(community=OuterRef("pk"), user=user)
        communities = communities.annotate(my_state=Subquery(mine.values("state")[:1]))
    return list(communities)


def community_page(*, community: Community, user, now=None) -> dict:
    now = now or timezone.now()
    base = Call.objects.filter(community=community).select_related("format", "facilitator")
    calls = with_viewer_rsvp(with_seats(base.still_ahead(now).order_by("starts_at")), user)
    recent = with_viewer_rsvp(
        with_seats(base.over(now).filter(starts_at__gte=now - timedelta(days=RECENT_DAYS)).order_by("-starts_at")), user
    )
    agreement = Agreement.objects.get(community=community, version=community.agreements_version)
    return {
        "calls": list(calls[:UPCOMING_ON_COMMUNITY_PAGE]),
        "recent": list(recent[:RECENT_ON_COMMUNITY_PAGE]),
        "agreement": agreement,
        "now": now,
    }


def my_calls(*, user, now=None) -> dict:
    """Upcoming and recent calls the person RSVP'd to or facilitates."""
    now = now or timezone.now()
    base = Call.objects.filter(involving(user)).select_related("community", "format")
    base = with_viewer_rsvp(with_seats(base), user)
    upcoming = base.still_ahead(now).order_by("starts_at")[:50]
    recent = base.over(now).filter(starts_at__gte=now - timedelta(days=RECENT_DAYS)).order_by("-starts_at")[:20]
    return {"upcoming": list(upcoming), "recent": list(recent), "now": now}


def next_step(*, user, now=None) -> dict:
    """What a signed-in person might do next, for the home page: their next call, else whether they
    belong to a community yet."""
    now = now or timezone.now()
    call = (
        Call.objects.filter(involving(user), status=Call.Status.SCHEDULED)
        .still_ahead(now)
        .select_related("community")
        .order_by("starts_at")
        .first()
    )
    if call is not None:
        return {"next_call": call, "in_a_community": True}
    in_a_community = Membership.objects.filter(user=user, state=Membership.State.ACTIVE).exists()
    return {"next_call": None, "in_a_community": in_a_community}


def series_page(*, series, user) -> dict:
    """A series and its calls, each with its seats and the viewer's RSVP, oldest first."""
    calls = Call.objects.filter(series=series).select_related("format").order_by("starts_at")
    return {"series": series, "calls": list(with_viewer_rsvp(with_seats(calls), user))}


def call_page(*, call_id: int, user) -> dict:
    call = with_viewer_rsvp(
        with_seats(Call.objects.select_related("community", "format", "facilitator", "co_facilitator", "series")),
        user,
    ).get(pk=call_id)
    my_rsvp = RSVP.objects.filter(call=call, user=user).first() if user.is_authenticated else None
    return {"call": call, "my_rsvp": my_rsvp, "waitlist_position": waitlist_position(my_rsvp)}


def call_attendees(call: Call) -> dict:
    rsvps = RSVP.objects.filter(call=call).exclude(status=RSVP.Status.NOT_GOING).select_related("user")
    going = [rsvp for rsvp in rsvps if rsvp.status == RSVP.Status.GOING]
    waiting = sorted(
        (rsvp for rsvp in rsvps if rsvp.status == RSVP.Status.WAITLISTED),
        key=lambda r: (r.waitlisted_at, r.pk),
    )
    return {"going": sorted(going, key=lambda r: r.responded_at), "waiting": waiting}


def waitlist_position(rsvp: RSVP | None) -> int | None:
    """1 for the first person waiting, and so on; None if not waiting."""
    if rsvp is None or rsvp.status != RSVP.Status.WAITLISTED:
        return None
    ahead = RSVP.objects.filter(call_id=rsvp.call_id, status=RSVP.Status.WAITLISTED).filter(
        Q(waitlisted_at__lt=rsvp.waitlisted_at) | Q(waitlisted_at=rsvp.waitlisted_at, pk__lt=rsvp.pk)
    )
    return ahead.count() + 1


def formats_for(community: Community):
    return CallFormat.objects.filter(Q(community=community) | Q(community__isnull=True)).order_by(
        "community_id", "name"
    )


def facilitators_of(community: Community):
    return User.objects.filter(
        memberships__community=community,
        memberships__state=Membership.State.ACTIVE,
        memberships__role__in=[Membership.Role.OWNER, Membership.Role.FACILITATOR],
    ).order_by("display_name")


def members_page(*, community: Community) -> dict:
    memberships = list(
        Membership.objects.filter(community=community)
        .exclude(state=Membership.State.LEFT)
        .select_related("user")
        .order_by("state", "role", "user__display_name")
    )
    return {
        "pending": [m for m in memberships if m.state == Membership.State.PENDING],
        "active": [m for m in memberships if m.state == Membership.State.ACTIVE],
        "banned": [m for m in memberships if m.state == Membership.State.BANNED],
    }


def invites_of(community: Community):
    return list(Invite.objects.filter(community=community).select_related("created_by")[:50])


def calendar_feed_calls(*, user, now=None):
    """Calls for a person's calendar feed: a year back and everything ahead, cancelled ones included."""
    now = now or timezone.now()
    return list(
        Call.objects.filter(involving(user), starts_at__gte=now - timedelta(days=365))
        .select_related("format", "community")
        .order_by("starts_at")
    )


def deliveries_for_call(call: Call, now=None):
    """Which reminders and notices went out for a call, to whom and when; never their content.
    Each row's `when` and `when_at` say what is true at `now` (Notification.timing)."""
    now = now or timezone.now()
    rows = list(
        Notification.objects.filter(call=call)
        .select_related("recipient")
        .only(
            "kind",
            "state",
            "due_at",
            "sent_at",
            "next_attempt_at",
            "attempts",
            "skip_reason",
            "last_error",
            "call_id",
            "recipient__display_name",
        )
        .order_by("due_at", "recipient__display_name")
    )
    for row in rows:
        row.call = call
        row.when, row.when_at = row.timing(now)
    return rows
