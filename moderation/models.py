from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Report(models.Model):
    """A member's concern about another person. The reporter hears that it was handled, not how."""

    class Reason(models.TextChoices):
        HARASSMENT = "harassment", _("Harassment or unkindness")
        UNSAFE_ADVICE = "unsafe_advice", _("Unsafe advice")
        SPAM = "spam", _("Spam or selling")
        CRISIS = "crisis", _("I am worried this person is in crisis")
        OTHER = "other", _("Something else")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        HANDLED = "handled", _("Handled")

    class Outcome(models.TextChoices):
        DISMISSED = "dismissed", _("Dismissed")
        WARNED = "warned", _("Warned")
        REMOVED_FROM_CALL = "removed_from_call", _("Removed from the call")
        SUSPENDED = "suspended", _("Suspended from the community")
        BANNED = "banned", _("Banned from the community")
        BANNED_FROM_SITE = "banned_from_site", _("Banned from the site")

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="reports_made"
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="reports_about"
    )
    community = models.ForeignKey(
        "groups.Community", null=True, blank=True, on_delete=models.CASCADE, related_name="reports"
    )
    call = models.ForeignKey("groups.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    reason = models.CharField(_("what is the concern?"), max_length=20, choices=Reason.choices)
    note = models.TextField(_("anything you want to add (optional)"), max_length=1000, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["community", "state"]), models.Index(fields=["state", "created_at"])]
        permissions = [("view_personal_data", "Can see people's personal data in the admin")]

    def __str__(self):
        return f"Report {self.pk} ({self.get_reason_display()}, {self.state})"


class CrisisResource(models.Model):
    """Where to turn in a crisis: a community's own, or the site's default when community is empty."""

    community = models.ForeignKey(
        "groups.Community", null=True, blank=True, on_delete=models.CASCADE, related_name="crisis_resources"
    )
    country = models.CharField(_("country or region"), max_length=60, blank=True)
    name = models.CharField(_("name"), max_length=120)
    phone = models.CharField(_("phone number"), max_length=40, blank=True)
    text = models.TextField(_("what they offer"), max_length=600, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["community_id", "position", "pk"]

    def __str__(self):
        return self.name
