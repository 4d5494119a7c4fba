"""Who may do what in a community. Every view and service asks here, so each rule is written once.

Site staff may do anything. Owners manage facilitators. Facilitators approve members, write formats
and schedule calls. Active members RSVP and join calls once they have accepted the agreements.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Min

from groups.models import Community, Membership


def membership_of(user, community: Community) -> Membership | None:
    if not user.is_authenticated:
        return None
    cache = getattr(user, "_membership_cache", None)
    if cache is None:
        cache = user._membership_cache = {}
    if community.pk not in cache:
        cache[community.pk] = Membership.objects.filter(user=user, community=community).first()
    return cache[community.pk]


def forget_membership(user, community: Community) -> None:
    getattr(user, "_membership_cache", {}).pop(community.pk, None)


def is_staff(user) -> bool:
    return user.is_authenticated and user.is_active and user.is_staff


def is_banned(user, community: Community) -> bool:
    membership = membership_of(user, community)
    return membership is not None and membership.state == Membership.State.BANNED


def is_member(user, community: Community) -> bool:
    membership = membership_of(user, community)
    return membership is not None and membership.is_active


def can_facilitate(user, community: Community) -> bool:
    if is_staff(user):
        return True
    membership = membership_of(user, community)
    return membership is not None and membership.can_facilitate


def can_own(user, community: Community) -> bool:
    if is_staff(user):
        return True
    membership = membership_of(user, community)
    return membership is not None and membership.is_owner


def owns_a_community(user_id: int) -> bool:
    """Whether this person owns any community now: the two-factor rule asks (core.two_factor)."""
    return Membership.objects.filter(
        user_id=user_id, role=Membership.Role.OWNER, state=Membership.State.ACTIVE
    ).exists()


def owner_since(user_id: int):
    """When this person first became an owner of a community they still own: their grace for
    two-factor login starts then (core.two_factor)."""
    return Membership.objects.filter(
        user_id=user_id, role=Membership.Role.OWNER, state=Membership.State.ACTIVE
    ).aggregate(since=Min("created_at"))["since"]


def can_view(user, community: Community) -> bool:
    """Anyone may see a community's page, except people banned from it."""
    return not is_banned(user, community)


def can_see_calls(user, community: Community) -> bool:
    """A public community's calls are open to anyone who may see it; a private one's to its members."""
    if not community.is_private:
        return can_view(user, community)
    return is_staff(user) or is_member(user, community)


def require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied
