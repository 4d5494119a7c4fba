from core.models import AuditEntry


def record(*, actor, action: str, subject=None, community=None, reason: str = "", **detail) -> AuditEntry:
    """Write one line to the append-only audit log: who did what, to whom, why and when."""
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        subject=subject,
        community=community,
        reason=reason,
        detail={key: value for key, value in detail.items() if value is not None},
    )
