"""Before and after the call: a member's private practice, and how the call felt to them.

Practice notes belong to the member alone. Check-outs are anonymous to facilitators: the row keeps
its author only so the member can see their own history and delete their account. A call's
check-out closes CHECKOUT_OPEN_FOR after the call; then its members' answers are tallied once, in a
CheckOutTally, and published only if at least MIN_ANSWERS members answered. Every view a facilitator
has goes through journey.insights, which reads only published tallies.
"""

from datetime import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from groups.models.calls import CHECKOUT_OPEN_FOR  # noqa: F401  (the window belongs to the call's life)

NOTE_MAX_LENGTH = 2000
MIN_ANSWERS = 3  # k: a call's answers are published only when at least this many members answered


def checkout_closes_at(call) -> datetime:
    """When a call's check-out closes and its answers are tallied."""
    return call.checkout_closes_at


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
    # Set when the answer is saved: the person was in the call as a member and does not facilitate
    # the community. Only these answers are ever counted; a facilitator's answer is for their own
    # journey alone.
    as_member = models.BooleanField(default=False)

    class Meta:
        ordering = ["-answered_at"]
        constraints = [
            models.UniqueConstraint(fields=["call", "user"], name="checkout_once_per_call"),
            models.CheckConstraint(condition=models.Q(felt_heard__gte=1, felt_heard__lte=5), name="checkout_1_to_5"),
        ]
        indexes = [models.Index(fields=["user", "-answered_at"])]

    def __str__(self):
        return f"Check-out for call {self.call_id}"


class CheckOutTally(models.Model):
    """A call's check-outs, tallied once when the check-out closed, and never changed after.

    Only members' answers given before the close count. With fewer than MIN_ANSWERS of them the
    call is not published and the row keeps no numbers at all, so nothing below the threshold is
    ever stored outside the answers themselves."""

    call = models.OneToOneField(
        "groups.Call", primary_key=True, on_delete=models.CASCADE, related_name="checkout_tally"
    )
    tallied_at = models.DateTimeField(default=timezone.now)
    published = models.BooleanField(default=False)
    answers = models.PositiveSmallIntegerField(default=0)
    felt_heard_total = models.PositiveIntegerField(default=0)
    helped = models.JSONField(default=dict, blank=True)  # Helped value -> how many chose it

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(published=True, answers__gte=MIN_ANSWERS)
                | models.Q(published=False, answers=0, felt_heard_total=0),
                name="checkout_tally_published_only_from_k",
            ),
        ]

    def __str__(self):
        return f"Check-out tally for call {self.call_id}"
