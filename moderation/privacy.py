"""Reports a person made, and the audit log's entries about them and by them. Reports about them
stay with moderators, without their name; the audit log is append-only and is never erased."""

from core.models import AuditEntry
from moderation.models import Report


def _entry(entry: AuditEntry) -> dict:
    # Who else took part (the moderator, or the person acted on) is not this person's data.
    return {
        "action": entry.action,
        "community": entry.community.name if entry.community else None,
        "reason": entry.reason,
        "detail": entry.detail,
        "created_at": entry.created_at.isoformat(),
    }


def export(user) -> dict:
    entries = AuditEntry.objects.select_related("community").order_by("created_at", "pk")
    return {
        "audit_log_about_you": [_entry(entry) for entry in entries.filter(subject=user)],
        "audit_log_by_you": [_entry(entry) for entry in entries.filter(actor=user)],
        "reports_made": [
            {
                "reason": report.reason,
                "note": report.note,
                "created_at": report.created_at.isoformat(),
                "state": report.state,
            }
            for report in Report.objects.filter(reporter=user)
        ],
    }


def erase(user) -> None:
    Report.objects.filter(reporter=user).update(note="")
