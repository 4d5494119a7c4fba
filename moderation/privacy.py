"""Reports a person made. Reports about them stay with moderators, without their name."""

from moderation.models import Report


def export(user) -> dict:
    return {
        "reports_made": [
            {
                "reason": report.reason,
                "note": report.note,
                "created_at": report.created_at.isoformat(),
                "state": report.state,
            }
            for report in Report.objects.filter(reporter=user)
        ]
    }


def erase(user) -> None:
    Report.objects.filter(reporter=user).update(note="")
