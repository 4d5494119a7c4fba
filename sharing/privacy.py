"""Attendance: which calls a person was in, how many turns they took. Never anything said."""

from sharing.models import Participant


def export(user) -> dict:
    return {
        "attendance": [
            {
                "call": participant.room.call.title,
                "starts_at": participant.room.call.starts_at.isoformat(),
                "turns_taken": participant.turns_taken,
                "shared": participant.has_shared,
            }
            for participant in Participant.objects.filter(user=user).select_related("room__call")
        ]
    }


def erase(user) -> None:
    """Attendance rows stay, tied to the emptied account, so a call's numbers stay true."""
