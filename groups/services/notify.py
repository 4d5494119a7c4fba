"""Record the emails a change owes people. Sending them is the notification dispatcher's job."""

from django.utils import timezone

from groups.models import RSVP, Call, Community, Membership, Notification

Kind = Notification.Kind


def _write(kind, recipients, *, call=None, community=None, now=None):
    now = now or timezone.now()
    rows = [
        Notification(
            kind=kind,
            recipient_id=recipient_id,
            call=call,
            community=community or (call.community if call else None),
            call_sequence=call.sequence if call else 0,
            due_at=now,
        )
        for recipient_id in dict.fromkeys(recipients)
    ]
    Notification.objects.bulk_create(rows)
    return rows


def call_people(call: Call) -> list[int]:
    """Everyone a change to this call concerns: who RSVP'd (going or waiting) and its facilitators."""
    ids = list(
        RSVP.objects.filter(call=call, status__in=[RSVP.Status.GOING, RSVP.Status.WAITLISTED]).values_list(
            "user_id", flat=True
        )
    )
    ids += [call.facilitator_id] + ([call.co_facilitator_id] if call.co_facilitator_id else [])
    return ids


def call_changed(call: Call, *, actor=None, cancelled: bool = False):
    people = [pk for pk in call_people(call) if actor is None or pk != actor.pk]
    return _write(Kind.CALL_CANCELLED if cancelled else Kind.CALL_CHANGED, people, call=call)


def waitlist_promoted(rsvp: RSVP):
    return _write(Kind.WAITLIST_PROMOTED, [rsvp.user_id], call=rsvp.call)


def join_requested(membership: Membership):
    facilitators = Membership.objects.filter(
        community=membership.community,
        state=Membership.State.ACTIVE,
        role__in=[Membership.Role.OWNER, Membership.Role.FACILITATOR],
    ).values_list("user_id", flat=True)
    return _write(Kind.JOIN_REQUESTED, list(facilitators), community=membership.community)


def join_decided(*, user_id: int, community: Community, approved: bool):
    return _write(Kind.JOIN_APPROVED if approved else Kind.JOIN_DECLINED, [user_id], community=community)


def report_handled(*, reporter_id: int, community: Community | None):
    return _write(Kind.REPORT_HANDLED, [reporter_id], community=community)


def moderation_warning(*, user_id: int, community: Community | None):
    return _write(Kind.MODERATION_WARNING, [user_id], community=community)
