"""Memberships, RSVPs and emails owed: what a person's participation in communities left behind."""

from groups.models import RSVP, Membership, Notification


def export(user) -> dict:
    return {
        "memberships": [
            {
                "community": membership.community.name,
                "role": membership.role,
                "state": membership.state,
                "since": membership.created_at.isoformat(),
                "join_answer": membership.join_answer,
                "accepted_agreements_version": membership.accepted_agreements_version,
            }
            for membership in Membership.objects.filter(user=user).select_related("community")
        ],
        "rsvps": [
            {
                "call": rsvp.call.title,
                "community": rsvp.call.community.name,
                "starts_at": rsvp.call.starts_at.isoformat(),
                "status": rsvp.status,
                "responded_at": rsvp.responded_at.isoformat(),
            }
            for rsvp in RSVP.objects.filter(user=user).select_related("call__community")
        ],
        "emails": [
            {"kind": row.kind, "state": row.state, "due_at": row.due_at.isoformat()}
            for row in Notification.objects.filter(recipient=user)
        ],
    }


def erase(user) -> None:
    Notification.objects.filter(recipient=user).delete()
    Membership.objects.filter(user=user).update(join_answer="", state=Membership.State.LEFT)
