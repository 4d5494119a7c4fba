"""RSVPs and the waitlist.

Every change locks the call's row first, so concurrent RSVPs for the last seat queue behind each
other and the seat count is read after the lock: a call is never overbooked, and each freed seat
promotes exactly one person from the waitlist. On SQLite the same holds because writing
transactions start IMMEDIATE and run one at a time.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from groups.models import RSVP, Call, Membership
from groups.services import notify, reminders

Status = RSVP.Status


class AgreementsNeeded(ValidationError):
    """The member must accept the community's current agreements first."""

    def __init__(self):
        super().__init__(_("Please read and accept the group agreements first."), code="agreements")


def check_can_attend(*, call: Call, user) -> Membership:
    """An active member who has accepted the current agreements; otherwise raise."""
    membership = Membership.objects.filter(community_id=call.community_id, user=user).first()
    if membership is None or not membership.is_active:
        raise PermissionDenied
    if not membership.has_accepted(call.community.agreements_version):
        raise AgreementsNeeded
    return membership


def _going_count(call: Call) -> int:
    return RSVP.objects.filter(call=call, status=Status.GOING).count()


def fill_seats(*, call: Call, now) -> list[RSVP]:
    """Promote people from the waitlist, first come first served, while seats are free.

    The caller holds the lock on the call's row.
    """
    free = call.capacity - _going_count(call)
    if free <= 0:
        return []
    promoted = list(
        RSVP.objects.select_for_update()
        .filter(call=call, status=Status.WAITLISTED)
        .order_by("waitlisted_at", "pk")[:free]
    )
    for rsvp in promoted:
        rsvp.status = Status.GOING
        rsvp.promoted_at = now
        rsvp.waitlisted_at = None
        rsvp.save(update_fields=["status", "promoted_at", "waitlisted_at"])
        notify.waitlist_promoted(rsvp)
    return promoted


@transaction.atomic
def rsvp_set(*, call_id: int, user, going: bool, now=None, check_membership: bool = True) -> RSVP:
    """Say going or not going. Going on a full call joins the waitlist; leaving frees a seat.

    The time is read after the call's row is locked, so waitlist positions follow lock order."""
    call = Call.objects.select_for_update().select_related("community").get(pk=call_id)
    now = now or timezone.now()
    if check_membership:
        if going:
            check_can_attend(call=call, user=user)
        elif not Membership.objects.filter(
            community_id=call.community_id, user=user, state=Membership.State.ACTIVE
        ).exists():
            raise PermissionDenied
    if call.is_facilitated_by(user):
        raise ValidationError(_("You are facilitating this call, so your place is already kept."))
    if not call.rsvp_open(now):
        if call.is_cancelled:
            raise ValidationError(_("This call was cancelled."), code="closed")
        raise ValidationError(_("RSVPs closed when the call started."), code="closed")

    rsvp = RSVP.objects.filter(call=call, user=user).first()
    if going:
        if rsvp is not None and rsvp.status in {Status.GOING, Status.WAITLISTED}:
            return rsvp
        status = Status.GOING if _going_count(call) < call.capacity else Status.WAITLISTED
        if rsvp is None:
            rsvp = RSVP(call=call, user=user)
        rsvp.status = status
        rsvp.responded_at = now
        rsvp.waitlisted_at = now if status == Status.WAITLISTED else None
        rsvp.save()
        reminders.sync_call(call, now)
        return rsvp

    was_going = rsvp is not None and rsvp.status == Status.GOING
    if rsvp is None:
        rsvp = RSVP(call=call, user=user)
    rsvp.status = Status.NOT_GOING
    rsvp.responded_at = now
    rsvp.waitlisted_at = None
    rsvp.save()
    if was_going:
        fill_seats(call=call, now=now)
    reminders.sync_call(call, now)
    return rsvp
