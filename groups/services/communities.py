"""Communities, their agreements, memberships and invites."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core import ratelimit, standing, two_factor
from core.audit import record
from groups import permissions
from groups.models import RSVP, Agreement, Community, Invite, Membership
from groups.models.communities import DEFAULT_AGREEMENTS
from groups.services import notify, reminders
from groups.services.rsvps import rsvp_set

Role = Membership.Role
State = Membership.State

INVITE_MAX_DAYS = 90
INVITE_MAX_USES = 100
INVITES_PER_HOUR = 30
JOIN_REQUESTS_PER_HOUR = 10


def community_create(
    *,
    owner,
    name: str,
    slug: str,
    description: str = "",
    visibility: str = Community.Visibility.LISTED,
    join_policy: str = Community.JoinPolicy.REQUEST,
    join_question: str = "",
    agreements: str | None = None,
    remind_day_before: bool = True,
    remind_soon_before: bool = True,
) -> Community:
    try:
        with transaction.atomic():
            community = Community.objects.create(
                name=name,
                slug=slug,
                description=description,
                visibility=visibility,
                join_policy=join_policy,
                join_question=join_question,
                remind_day_before=remind_day_before,
                remind_soon_before=remind_soon_before,
            )
            Agreement.objects.create(
                community=community, version=1, text=agreements or str(DEFAULT_AGREEMENTS), created_by=owner
            )
            Membership.objects.create(
                community=community,
                user=owner,
                role=Role.OWNER,
                state=State.ACTIVE,
                accepted_agreements_version=1,
            )
            two_factor.forget(owner.pk)  # owners need two-factor login
    except IntegrityError:
        raise ValidationError({"slug": [_("Another community already uses this web address.")]}) from None
    return community


def community_update(*, community: Community, actor, **fields) -> Community:
    permissions.require(permissions.can_own(actor, community))
    allowed = {
        "name",
        "description",
        "visibility",
        "join_policy",
        "join_question",
        "remind_day_before",
        "remind_soon_before",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    reminders_changed = any(
        getattr(community, name) != fields[name]
        for name in ("remind_day_before", "remind_soon_before")
        if name in fields
    )
    for name, value in fields.items():
        setattr(community, name, value)
    community.save(update_fields=[*fields])
    if reminders_changed:
        reminders.sync_community(community)
    return community


def agreements_current(community: Community) -> Agreement:
    return Agreement.objects.get(community=community, version=community.agreements_version)


@transaction.atomic
def agreements_publish(*, community: Community, actor, text: str) -> Agreement:
    """Publish a new version of the agreements. Every member accepts it again before their next call."""
    permissions.require(permissions.can_facilitate(actor, community))
    text = text.strip()
    if not text:
        raise ValidationError({"text": [_("The agreements cannot be empty.")]})
    locked = Community.objects.select_for_update().get(pk=community.pk)
    current = Agreement.objects.get(community=locked, version=locked.agreements_version)
    if current.text == text:
        return current
    agreement = Agreement.objects.create(
        community=locked, version=locked.agreements_version + 1, text=text, created_by=actor
    )
    Community.objects.filter(pk=locked.pk).update(agreements_version=agreement.version)
    Membership.objects.filter(community=locked, user=actor, state=State.ACTIVE).update(
        accepted_agreements_version=agreement.version
    )
    community.agreements_version = agreement.version
    permissions.forget_membership(actor, community)
    return agreement


@transaction.atomic
def agreements_accept(*, community: Community, user, version: int) -> Membership:
    """Accept the agreements the person read. If they changed meanwhile, they read the new ones first."""
    membership = Membership.objects.select_for_update().filter(community=community, user=user).first()
    if membership is None or not membership.is_active:
        raise PermissionDenied
    current = Community.objects.values_list("agreements_version", flat=True).get(pk=community.pk)
    if version != current:
        raise ValidationError(
            _("The agreements changed while you were reading them. Please read the new version."),
            code="stale",
        )
    membership.accepted_agreements_version = current
    membership.save(update_fields=["accepted_agreements_version", "updated_at"])
    permissions.forget_membership(user, community)
    return membership


@transaction.atomic
def membership_join(*, community: Community, user, answer: str = "") -> Membership:
    """Join an open community, or ask to join one that approves people. Invitation-only needs a link."""
    membership = Membership.objects.select_for_update().filter(community=community, user=user).first()
    if membership is not None and membership.state == State.BANNED:
        raise PermissionDenied
    if membership is not None and membership.state in {State.ACTIVE, State.PENDING}:
        if membership.state == State.PENDING and answer:
            membership.join_answer = answer
            membership.save(update_fields=["join_answer", "updated_at"])
        return membership
    policy = community.join_policy
    if policy == Community.JoinPolicy.REQUEST and not ratelimit.allow(
        f"join:{user.pk}", limit=JOIN_REQUESTS_PER_HOUR, period=3600
    ):
        raise ValidationError(_("You have asked to join several communities in the last hour. Please wait a little."))
    if policy == Community.JoinPolicy.INVITE:
        raise ValidationError(_("This community is by invitation only. Ask a facilitator for an invite link."))
    state = State.ACTIVE if policy == Community.JoinPolicy.OPEN else State.PENDING
    if membership is None:
        membership = Membership(community=community, user=user)
    membership.role = Role.MEMBER
    membership.state = state
    membership.join_answer = answer if state == State.PENDING else ""
    membership.save()
    permissions.forget_membership(user, community)
    if state == State.PENDING:
        notify.join_requested(membership)
    return membership


def _active_owner_count(community) -> int:
    return Membership.objects.filter(community=community, role=Role.OWNER, state=State.ACTIVE).count()


@transaction.atomic
def membership_approve(*, membership: Membership, actor) -> Membership:
    permissions.require(permissions.can_facilitate(actor, membership.community))
    updated = Membership.objects.filter(pk=membership.pk, state=State.PENDING).update(
        state=State.ACTIVE, updated_at=timezone.now()
    )
    membership.refresh_from_db()
    if updated:
        notify.join_decided(user_id=membership.user_id, community=membership.community, approved=True)
        record(actor=actor, action="member.approve", subject=membership.user, community=membership.community)
    return membership


@transaction.atomic
def membership_decline(*, membership: Membership, actor) -> None:
    """Decline a request. The request is deleted: we keep no record that this person asked."""
    permissions.require(permissions.can_facilitate(actor, membership.community))
    deleted, _ignored = Membership.objects.filter(pk=membership.pk, state=State.PENDING).delete()
    if deleted:
        notify.join_decided(user_id=membership.user_id, community=membership.community, approved=False)
        # The log keeps that a facilitator declined a request here, never whose.
        record(actor=actor, action="member.decline", community=membership.community)


def _cancel_future_rsvps(*, community, user, now):
    call_ids = RSVP.objects.filter(
        call__community=community,
        user=user,
        status__in=[RSVP.Status.GOING, RSVP.Status.WAITLISTED],
        call__starts_at__gt=now,
    ).values_list("call_id", flat=True)
    for call_id in list(call_ids):
        rsvp_set(call_id=call_id, user=user, going=False, now=now, check_membership=False)


@transaction.atomic
def membership_leave(*, community: Community, user, now=None) -> Membership:
    now = now or timezone.now()
    membership = Membership.objects.select_for_update().filter(community=community, user=user).first()
    if membership is None or membership.state not in {State.ACTIVE, State.PENDING}:
        raise ValidationError(_("You are not a member of this community."))
    if membership.is_owner and _active_owner_count(community) == 1:
        raise ValidationError(_("You are the only owner. Make someone else an owner before you leave."))
    if membership.state == State.PENDING:
        membership.delete()
        permissions.forget_membership(user, community)
        return membership
    membership.state = State.LEFT
    membership.role = Role.MEMBER
    membership.save(update_fields=["state", "role", "updated_at"])
    permissions.forget_membership(user, community)
    _cancel_future_rsvps(community=community, user=user, now=now)
    standing.announce(user_id=user.pk, community_id=community.pk)
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor, now=None) -> Membership:
    """A facilitator removes someone from the community. Only owners may remove facilitators."""
    community = membership.community
    permissions.require(permissions.can_facilitate(actor, community))
    if membership.role != Role.MEMBER:
        permissions.require(permissions.can_own(actor, community))
    if membership.user_id == actor.pk:
        raise ValidationError(_("To leave the community yourself, use “Leave this community”."))
    if membership.is_owner and _active_owner_count(community) == 1:
        raise ValidationError(_("A community needs at least one owner."))
    membership.state = State.LEFT
    membership.role = Role.MEMBER
    membership.save(update_fields=["state", "role", "updated_at"])
    permissions.forget_membership(membership.user, community)
    _cancel_future_rsvps(community=community, user=membership.user, now=now or timezone.now())
    record(actor=actor, action="member.remove", subject=membership.user, community=community)
    standing.announce(user_id=membership.user_id, community_id=community.pk)
    return membership


@transaction.atomic
def membership_set_role(*, membership: Membership, actor, role: str) -> Membership:
    """Owners make members facilitators or owners, and back again."""
    community = membership.community
    permissions.require(permissions.can_own(actor, community))
    if role not in Role.values:
        raise ValidationError(_("Choose owner, facilitator or member."))
    if not membership.is_active:
        raise ValidationError(_("Only active members can be given a role."))
    if membership.is_owner and role != Role.OWNER and _active_owner_count(community) == 1:
        raise ValidationError(_("A community needs at least one owner."))
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    permissions.forget_membership(membership.user, community)
    record(actor=actor, action="member.role", subject=membership.user, community=community, old=previous, new=role)
    two_factor.forget(membership.user_id)
    standing.announce(user_id=membership.user_id, community_id=community.pk)
    return membership


def invite_create(
    *, community: Community, actor, days: int = 14, max_uses: int = 1, note: str = "", now=None
) -> Invite:
    permissions.require(permissions.can_facilitate(actor, community))
    errors = {}
    if not 1 <= days <= INVITE_MAX_DAYS:
        errors["days"] = [_("An invite lasts from 1 to %(max)s days.") % {"max": INVITE_MAX_DAYS}]
    if not 1 <= max_uses <= INVITE_MAX_USES:
        errors["max_uses"] = [_("An invite can be used by 1 to %(max)s people.") % {"max": INVITE_MAX_USES}]
    if errors:
        raise ValidationError(errors)
    if not ratelimit.allow(f"invite:{community.pk}", limit=INVITES_PER_HOUR, period=3600):
        raise ValidationError(_("Many invite links were made in the last hour. Please wait a little."))
    now = now or timezone.now()
    return Invite.objects.create(
        community=community,
        created_by=actor,
        expires_at=now + timedelta(days=days),
        max_uses=max_uses,
        note=note,
    )


def invite_revoke(*, invite: Invite, actor, now=None) -> Invite:
    permissions.require(permissions.can_facilitate(actor, invite.community))
    Invite.objects.filter(pk=invite.pk, revoked_at__isnull=True).update(revoked_at=now or timezone.now())
    invite.refresh_from_db()
    return invite


@transaction.atomic
def invite_accept(*, token: str, user, now=None) -> Membership:
    """Join through an invite link. Each use is counted once, under a row lock, so limits hold."""
    now = now or timezone.now()
    invite = Invite.objects.select_for_update().select_related("community").filter(token=token).first()
    if invite is None or not invite.is_usable(now):
        raise ValidationError(_("This invite link has expired or has been used up. Ask for a new one."))
    community = invite.community
    membership = Membership.objects.select_for_update().filter(community=community, user=user).first()
    if membership is not None and membership.state == State.BANNED:
        raise PermissionDenied
    if membership is not None and membership.is_active:
        return membership
    if membership is None:
        membership = Membership(community=community, user=user)
    membership.role = Role.MEMBER
    membership.state = State.ACTIVE
    membership.save()
    Invite.objects.filter(pk=invite.pk).update(uses=F("uses") + 1)
    permissions.forget_membership(user, community)
    return membership
