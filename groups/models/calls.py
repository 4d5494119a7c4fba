import uuid
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.timezones import validate_time_zone

MIN_CAPACITY = 2
MAX_CAPACITY = 12
DEFAULT_CAPACITY = 8
JOIN_OPENS_BEFORE = timedelta(minutes=10)
CHECKOUT_OPEN_FOR = timedelta(hours=48)  # after the call's scheduled end; later answers are refused


class Series(models.Model):
    """A recurring call: a wall-clock time in an IANA zone, a duration and a recurrence rule.

    Occurrences are materialised as Call rows with UTC start times over a rolling horizon.
    """

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", _("Weekly")
        MONTHLY = "monthly", _("Monthly, on the n-th weekday")

    class Ends(models.TextChoices):
        NEVER = "never", _("Never")
        ON_DATE = "on_date", _("On a date")
        AFTER_COUNT = "after_count", _("After a number of calls")

    community = models.ForeignKey("groups.Community", on_delete=models.CASCADE, related_name="series")
    title = models.CharField(_("title"), max_length=100)
    format = models.ForeignKey("groups.CallFormat", on_delete=models.PROTECT, related_name="+")
    facilitator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    co_facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    start_date = models.DateField(_("first date"))
    start_time = models.TimeField(_("start time"))
    duration_minutes = models.PositiveIntegerField(_("length in minutes"), default=75)
    capacity = models.PositiveSmallIntegerField(_("seats"), default=DEFAULT_CAPACITY)
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.WEEKLY)
    interval = models.PositiveSmallIntegerField(_("every"), default=1)
    weekdays = models.JSONField(_("weekdays"), default=list, blank=True)  # 0 = Monday … 6 = Sunday
    month_week = models.SmallIntegerField(null=True, blank=True)  # 1…4, or -1 for the last
    month_weekday = models.SmallIntegerField(null=True, blank=True)  # 0 = Monday … 6 = Sunday
    ends = models.CharField(max_length=12, choices=Ends.choices, default=Ends.NEVER)
    until = models.DateField(null=True, blank=True)
    count = models.PositiveIntegerField(null=True, blank=True)
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    materialised_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = _("series")
        ordering = ["community", "title"]

    def __str__(self):
        return self.title

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class CallQuerySet(models.QuerySet):
    def scheduled(self):
        return self.filter(status=Call.Status.SCHEDULED)

    def not_ended(self, now):
        return self.filter(ends_at__gt=now)

    def still_ahead(self, now):
        """Calls still to come or going on: neither past their end nor closed early in the room."""
        return self.filter(ends_at__gt=now, ended_at__isnull=True)

    def over(self, now):
        """Calls that have ended, by the clock or because the facilitator closed the room."""
        return self.filter(models.Q(ends_at__lte=now) | models.Q(ended_at__isnull=False))


class Call(models.Model):
    """One call: a one-off, or one occurrence of a series. Its uid and sequence feed calendars."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")

    community = models.ForeignKey("groups.Community", on_delete=models.CASCADE, related_name="calls")
    series = models.ForeignKey(Series, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    original_start = models.DateTimeField(null=True, blank=True)  # the occurrence it was generated as
    title = models.CharField(_("title"), max_length=100)
    format = models.ForeignKey("groups.CallFormat", on_delete=models.PROTECT, related_name="+")
    facilitator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    co_facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    ends_at = models.DateTimeField(_("ends"))
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    capacity = models.PositiveSmallIntegerField(_("seats"), default=DEFAULT_CAPACITY)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    detached = models.BooleanField(default=False)  # edited on its own, apart from its series
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)  # set when the room ends, perhaps early

    objects = CallQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["series", "original_start"], name="call_occurrence_unique"),
            models.CheckConstraint(
                condition=models.Q(capacity__gte=MIN_CAPACITY, capacity__lte=MAX_CAPACITY),
                name="call_capacity_range",
            ),
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="call_ends_after_start"),
        ]
        indexes = [
            models.Index(fields=["community", "status", "starts_at"]),
            models.Index(fields=["ends_at"]),
        ]

    def __str__(self):
        return f"{self.title} at {self.starts_at:%Y-%m-%d %H:%M} UTC"

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    @property
    def duration_minutes(self) -> int:
        return int(self.duration.total_seconds() // 60)

    @property
    def join_opens_at(self):
        return self.starts_at - JOIN_OPENS_BEFORE

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    def local_start(self):
        return timezone.localtime(self.starts_at, zoneinfo.ZoneInfo(self.time_zone))

    @property
    def checkout_closes_at(self):
        return self.ends_at + CHECKOUT_OPEN_FOR

    def has_ended(self, now) -> bool:
        return self.ended_at is not None or now >= self.ends_at

    def life(self, now) -> str:
        """Where the call is in its life: scheduled, open (the room lets people in), live, ended or cancelled."""
        if self.status == self.Status.CANCELLED:
            return "cancelled"
        if self.has_ended(now):
            return "ended"
        if now >= self.starts_at:
            return "live"
        if now >= self.join_opens_at:
            return "open"
        return "scheduled"

    def rsvp_open(self, now) -> bool:
        return self.status == self.Status.SCHEDULED and now < self.starts_at and self.ended_at is None

    def join_open(self, now) -> bool:
        return (
            self.status == self.Status.SCHEDULED and self.join_opens_at <= now < self.ends_at and self.ended_at is None
        )

    def is_facilitated_by(self, user) -> bool:
        return user.pk is not None and user.pk in {self.facilitator_id, self.co_facilitator_id}


class RSVP(models.Model):
    class Status(models.TextChoices):
        GOING = "going", _("Going")
        WAITLISTED = "waitlisted", _("On the waitlist")
        NOT_GOING = "not_going", _("Not going")

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="rsvps")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rsvps")
    status = models.CharField(max_length=12, choices=Status.choices)
    responded_at = models.DateTimeField(default=timezone.now)
    waitlisted_at = models.DateTimeField(null=True, blank=True)  # the waitlist's order
    promoted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("RSVP")
        constraints = [models.UniqueConstraint(fields=["call", "user"], name="rsvp_unique")]
        indexes = [
            models.Index(fields=["call", "status", "waitlisted_at"]),
            models.Index(fields=["user", "status"]),
        ]

    def __str__(self):
        return f"{self.user} → {self.call}: {self.status}"
