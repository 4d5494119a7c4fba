"""Before and after the call: a member's private practice, and how the call felt to them.

Practice notes belong to the member alone. Check-outs are anonymous to facilitators: the row keeps
its author only so the member can see their own history and delete their account; every view a
facilitator has goes through journey.insights, which never names anyone and hides small numbers.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

NOTE_MAX_LENGTH = 2000


class Practice(models.Model):
    """One walk through the five steps of self-attunement, before a call or on its own."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practices")
    call = models.ForeignKey("groups.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["user", "-started_at"])]

    def __str__(self):
        return f"Practice {self.pk} of user {self.user_id}"


class PracticeNote(models.Model):
    """What the member wrote at one step. Private: nobody else ever reads it."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="notes")
    step = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    text = models.TextField(max_length=NOTE_MAX_LENGTH)
    written_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["practice", "step"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "step"], name="practice_note_once_per_step"),
            models.CheckConstraint(condition=models.Q(step__gte=1, step__lte=5), name="practice_note_step_1_to_5"),
        ]

    def __str__(self):
        return f"Note at step {self.step} of practice {self.practice_id}"


class CheckOut(models.Model):
    """ "Did you feel heard today?" after a call, with what helped."""

    class Helped(models.TextChoices):
        LISTENED = "listened", _("Being listened to")
        SHARED_EXPERIENCE = "shared", _("Shared experience")
        REFLECTIONS = "reflections", _("Reflections")
        STRUCTURE = "structure", _("The structure")
        OTHER = "other", _("Other")

    call = models.ForeignKey("groups.Call", on_delete=models.CASCADE, related_name="checkouts")
    # Kept for the member's own history; set to null when the account is erased, so the call's
    # aggregate stays true without anyone behind it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="checkouts"
    )
    felt_heard = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    helped = models.JSONField(default=list, blank=True)  # a list of Helped values
    note = models.TextField(max_length=NOTE_MAX_LENGTH, blank=True)
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-answered_at"]
        constraints = [
            models.UniqueConstraint(fields=["call", "user"], name="checkout_once_per_call"),
            models.CheckConstraint(condition=models.Q(felt_heard__gte=1, felt_heard__lte=5), name="checkout_1_to_5"),
        ]
        indexes = [models.Index(fields=["user", "-answered_at"])]

    def __str__(self):
        return f"Check-out for call {self.call_id}"
