"""Practice notes and check-outs: the member's own, exported whole and erased."""

from journey.models import CheckOut, Practice


def export(user) -> dict:
    practices = Practice.objects.filter(user=user).prefetch_related("notes").select_related("call")
    checkouts = CheckOut.objects.filter(user=user).select_related("call")
    return {
        "practices": [
            {
                "started_at": practice.started_at.isoformat(),
                "finished_at": practice.finished_at.isoformat() if practice.finished_at else None,
                "call": practice.call.title if practice.call else None,
                "notes": [{"step": note.step, "text": note.text} for note in practice.notes.all()],
            }
            for practice in practices
        ],
        "checkouts": [
            {
                "call": checkout.call.title,
                "answered_at": checkout.answered_at.isoformat(),
                "felt_heard": checkout.felt_heard,
                "helped": checkout.helped,
                "note": checkout.note,
            }
            for checkout in checkouts
        ],
    }


def erase(user) -> None:
    """Practices go entirely. Check-outs lose their author and their free text; the score stays in
    the call's aggregate, which by then cannot be traced to anyone."""
    Practice.objects.filter(user=user).delete()
    CheckOut.objects.filter(user=user).update(user=None, note="")
