"""The demo community: a circle with the demo people, a weekly series and a call about to start."""

from dataclasses import replace
from datetime import UTC, time, timedelta

from django.db import transaction
from django.utils import timezone

from groups.models import Call, Community, Membership, Series
from groups.recurrence import Recurrence
from groups.services.communities import community_create
from groups.services.formats import format_default
from groups.services.rsvps import rsvp_set
from groups.services.scheduling import CallDetails, call_create, series_create

SLUG = "demo-circle"
TRY_NOW_TITLE = "Try the room now"
WEEKLY_CAPACITY = 8
WEEKLY_TITLE = "Weekly circle"


@transaction.atomic
def seed_community(*, owner, facilitator, members, now=None) -> Community:
    now = now or timezone.now()
    community = Community.objects.filter(slug=SLUG).first() or community_create(
        owner=owner,
        name="Demo circle",
        slug=SLUG,
        description="A practice circle for trying Attunement. Everyone here is a demo account.",
        visibility=Community.Visibility.LISTED,
        join_policy=Community.JoinPolicy.REQUEST,
        join_question="What brings you here?",
    )
    Membership.objects.update_or_create(
        community=community,
        user=facilitator,
        defaults={
            "state": Membership.State.ACTIVE,
            "role": Membership.Role.FACILITATOR,
            "accepted_agreements_version": community.agreements_version,
        },
    )
    for member in members:
        Membership.objects.update_or_create(
            community=community,
            user=member,
            defaults={
                "state": Membership.State.ACTIVE,
                "role": Membership.Role.MEMBER,
                "accepted_agreements_version": community.agreements_version,
            },
        )
    details = CallDetails(
        title=WEEKLY_TITLE,
        format=format_default(),
        facilitator=facilitator,
        co_facilitator=None,
        duration_minutes=75,
        capacity=WEEKLY_CAPACITY,
    )
    if not Series.objects.filter(community=community, title=WEEKLY_TITLE).exists():
        first_day = (now + timedelta(days=1)).date()
        series_create(
            community=community,
            actor=facilitator,
            details=details,
            recurrence=Recurrence(
                time_zone="Europe/Berlin",
                start_date=first_day,
                start_time=time(18, 0),
                weekdays=(first_day.weekday(),),
            ),
            now=now,
        )
    _call_starting_soon(community, facilitator, details, members, now)
    return community


def _call_starting_soon(community, facilitator, details, members, now):
    """Exactly one call that starts within the next five minutes, with every demo member going."""
    start = (now + timedelta(minutes=4)).replace(second=0, microsecond=0)
    call = Call.objects.filter(community=community, title=TRY_NOW_TITLE, series__isnull=True).first()
    if call is None:
        call = call_create(
            community=community,
            actor=facilitator,
            details=replace(details, title=TRY_NOW_TITLE, duration_minutes=60),
            day=start.date(),
            at=start.time(),
            time_zone="UTC",
            now=now,
        )
    elif not now < call.starts_at <= now + timedelta(minutes=5) or call.is_cancelled:
        Call.objects.filter(pk=call.pk).update(
            starts_at=start.astimezone(UTC),
            ends_at=start + timedelta(minutes=60),
            status=Call.Status.SCHEDULED,
            cancelled_at=None,
            sequence=call.sequence + 1,
            version=call.version + 1,
        )
    for member in members:
        rsvp_set(call_id=call.pk, user=member, going=True, now=now)
    return call
