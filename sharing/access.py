"""Who may enter a call's room, who may stay, and with what powers: one rule, used by the socket,
the room page and every change of someone's standing."""

from core import two_factor
from groups.models import RSVP, Call, Membership
from sharing.errors import RoomError
from sharing.models import Participant, Room


def _membership(community_id: int, user) -> Membership | None:
    return Membership.objects.filter(community_id=community_id, user=user).first()


def staff_powers(user) -> bool:
    """Site staff act as facilitators in every room, but only with their second factor."""
    return bool(user.is_staff and user.is_active and not two_factor.missing(user))


def may_keep_seat(user, community_id: int, membership: Membership | None = None) -> bool:
    """Whether someone may be in this community's rooms at all: an active member, or site staff
    with a second factor. Asked on entry and whenever their standing changes."""
    if not user.is_active:
        return False
    membership = membership if membership is not None else _membership(community_id, user)
    if membership is not None and membership.state == Membership.State.BANNED:
        return False
    if membership is not None and membership.is_active:
        return not (user.is_staff and two_factor.missing(user))
    return staff_powers(user)


def seat_role(call: Call, user, membership: Membership | None = None) -> str:
    """The role someone holds in this call's room now. Being named on the call is not enough to
    facilitate: the community must still let them facilitate, and the two-factor rule must be met."""
    if user.pk not in {call.facilitator_id, call.co_facilitator_id}:
        return Participant.Role.MEMBER
    membership = membership if membership is not None else _membership(call.community_id, user)
    may_facilitate = (membership is not None and membership.can_facilitate) or user.is_staff
    if not may_facilitate or two_factor.missing(user):
        return Participant.Role.MEMBER
    if user.pk == call.facilitator_id:
        return Participant.Role.FACILITATOR
    return Participant.Role.CO_FACILITATOR


def check_entry(*, call: Call, user, now) -> tuple[str, bool]:
    """Return (role in the room, whether they RSVP'd going), or raise RoomError.

    The call's facilitator and co-facilitator may always enter; members who RSVP'd going may enter
    from ten minutes before the start; other members only when the facilitator allows drop-ins.
    """
    if not user.is_authenticated:
        raise RoomError("unauthenticated", "Please log in.")
    if user.is_staff and two_factor.missing(user):
        raise RoomError("two_factor", "Set up two-factor login before you enter a call.")
    membership = _membership(call.community_id, user)
    if not may_keep_seat(user, call.community_id, membership):
        raise RoomError("forbidden", "This call is for members of its community.")
    if call.status == Call.Status.CANCELLED:
        raise RoomError("cancelled", "This call was cancelled.")
    if now < call.join_opens_at:
        raise RoomError("not_open", "The room opens 10 minutes before the start.")
    role = seat_role(call, user, membership)
    if role != Participant.Role.MEMBER:
        return role, False
    if user.is_staff and (membership is None or not membership.is_active):
        return Participant.Role.MEMBER, False  # site staff look in; their powers come from staff_powers
    if not membership.has_accepted(call.community.agreements_version):
        raise RoomError("agreements", "Please accept the group agreements first.")
    going = RSVP.objects.filter(call=call, user=user, status=RSVP.Status.GOING).exists()
    if not going:
        allows_drop_ins = Room.objects.filter(pk=call.pk, allow_drop_ins=True).exists()
        if not allows_drop_ins:
            raise RoomError("not_rsvped", "This call is for people who RSVP'd.")
    return Participant.Role.MEMBER, going
