from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """One email owed to one person: a reminder or news about a call or a community.

    Rows are the truth. A periodic task claims due rows with SELECT ... FOR UPDATE SKIP LOCKED,
    sends each one and marks it in the same unit of work. Reminders are unique per
    (call, recipient, kind); other kinds are written once per change.
    """

    class Kind(models.TextChoices):
        REMINDER_DAY = "reminder_day", _("Reminder a day before")
        REMINDER_SOON = "reminder_soon", _("Reminder shortly before")
        CALL_CANCELLED = "call_cancelled", _("Call cancelled")
        CALL_CHANGED = "call_changed", _("Call changed")
        WAITLIST_PROMOTED = "waitlist_promoted", _("Place from the waitlist")
        JOIN_REQUESTED = "join_requested", _("Join request")
        JOIN_APPROVED = "join_approved", _("Join request approved")
        JOIN_DECLINED = "join_declined", _("Join request declined")
        REPORT_HANDLED = "report_handled", _("Report handled")
        MODERATION_WARNING = "moderation_warning", _("A reminder of the agreements")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    REMINDER_KINDS = (Kind.REMINDER_DAY, Kind.REMINDER_SOON)

    kind = models.CharField(max_length=20, choices=Kind.choices)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    call = models.ForeignKey(
        "groups.Call", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    community = models.ForeignKey(
        "groups.Community", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    call_sequence = models.PositiveIntegerField(default=0)  # the call's calendar SEQUENCE when written
    due_at = models.DateTimeField(db_index=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    skip_reason = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "recipient", "kind"],
                condition=models.Q(kind__in=["reminder_day", "reminder_soon"]),
                name="reminder_unique_per_call_person_kind",
            )
        ]
        indexes = [
            models.Index(fields=["due_at"], condition=models.Q(state="pending"), name="notification_pending_due"),
            models.Index(fields=["call", "kind"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.recipient_id} ({self.state})"

    @property
    def is_reminder(self) -> bool:
        return self.kind in self.REMINDER_KINDS

    def timing(self, now) -> tuple[str, object]:
        """When this row goes out, as true at `now`: ("sent", sent_at); ("due", due_at) only while
        ahead; ("retry", next_attempt_at) after a failed try; ("sending", None) once due, until the
        next dispatch run; ("too_late", None) for a reminder whose call has begun or was cancelled,
        which the dispatcher skips; ("was_due", due_at) for a failed row; ("skipped", None)."""
        if self.state == self.State.SENT:
            return "sent", self.sent_at
        if self.state == self.State.SKIPPED:
            return "skipped", None
        if self.state == self.State.FAILED:
            return "was_due", self.due_at
        call = self.call
        if self.is_reminder and call is not None and (now >= call.starts_at or call.is_cancelled):
            return "too_late", None
        if self.next_attempt_at is not None and self.next_attempt_at > now:
            return "retry", self.next_attempt_at
        if self.due_at > now:
            return "due", self.due_at
        return "sending", None
