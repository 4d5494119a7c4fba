"""Who may enter a call's room: one rule, used by the socket and by the room page."""

from groups.models import RSVP, Call, Membership
from sharing.errors import RoomError
from sharing.models import Participant, Room


def check_entry(*, call: Call, user, now) -> tuple[str, bool]:
    """Return (role in the room, whether they RSVP'd going), or raise RoomError.

    The call's facilitator and co-facilitator may always enter; members who RSVP'd going may enter
    from ten minutes before the start; other members only when the facilitator allows drop-ins.
    """
    if not user.is_authenticated:
        raise RoomError("unauthenticated", "Please log in.")
    membership = Membership.objects.filter(community_id=call.community_id, user=user).first()
    banned = membership is not None and membership.state == Membership.State.BANNED
    if (membership is None or not membership.is_active) and (not user.is_staff or banned):
        raise RoomError("forbidden", "This call is for members of its community.")
    if call.status == Call.Status.CANCELLED:
        raise RoomError("cancelled", "This call was cancelled.")
    if now < call.join_opens_at:
        raise RoomError("not_open", "The room opens 10 minutes before the start.")
    if user.pk == call.facilitator_id:
        return Participant.Role.FACILITATOR, False
    if user.pk == call.co_facilitator_id:
        return Participant.Role.CO_FACILITATOR, False
    if user.is_staff and (membership is None or not membership.is_active):
        return Participant.Role.MEMBER, False  # site staff look in; their powers come from is_staff
    if membership is None or not membership.has_accepted(call.community.agreements_version):
        raise RoomError("agreements", "Please accept the group agreements first.")
    going = RSVP.objects.filter(call=call, user=user, status=RSVP.Status.GOING).exists()
    if not going:
        allows_drop_ins = Room.objects.filter(pk=call.pk, allow_drop_ins=True).exists()
        if not allows_drop_ins:
            raise RoomError("not_rsvped", "This call is for people who RSVP'd.")
    return Participant.Role.MEMBER, going
