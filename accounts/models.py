import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.timezones import validate_time_zone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        email = self.normalize_email(email).lower()
        extra_fields.setdefault("display_name", email.split("@")[0][:60])
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Email is the login; the display name is what others see and may be a pseudonym."""

    class Theme(models.TextChoices):
        SYSTEM = "system", _("Follow my device")
        LIGHT = "light", _("Light")
        LOW_LIGHT = "low-light", _("Low light")

    class ExtraTime(models.TextChoices):
        NONE = "1", _("No extra time")
        HALF = "1.5", _("One and a half times as long")
        DOUBLE = "2", _("Twice as long")

    class ReflectionsDefault(models.TextChoices):
        REFLECTIONS = "reflections", _("Reflections welcome")
        RESONANCE = "resonance", _("Resonance only")
        LISTEN = "listen", _("Just listen")

    class Reminders(models.TextChoices):
        COMMUNITY_DEFAULT = "default", _("The community's default")
        BOTH = "both", _("A day before and 15 minutes before")
        DAY_BEFORE = "day", _("Only a day before")
        SOON = "soon", _("Only 15 minutes before")
        NONE = "none", _("No reminders")

    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(
        _("display name"),
        max_length=60,
        help_text=_("How others see you in calls. A first name or a pseudonym is fine."),
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_time_zone])
    theme = models.CharField(_("theme"), max_length=16, choices=Theme.choices, default=Theme.SYSTEM)
    reminders = models.CharField(
        _("call reminders"), max_length=16, choices=Reminders.choices, default=Reminders.COMMUNITY_DEFAULT
    )
    notify_updates = models.BooleanField(
        _("email me about changes"),
        default=True,
        help_text=_("Cancellations, new times, waitlist places and join requests."),
    )
    extra_time = models.CharField(
        _("extra time for my turns"),
        max_length=4,
        choices=ExtraTime.choices,
        default=ExtraTime.NONE,
        help_text=_("Your turns last longer by this much. Nobody else sees the number."),
    )
    reflections_default = models.CharField(
        _("after I share, by default"),
        max_length=12,
        choices=ReflectionsDefault.choices,
        default=ReflectionsDefault.REFLECTIONS,
        help_text=_("You can change it at the start of each turn."),
    )
    prefers_typing = models.BooleanField(
        _("I prefer to type my shares"),
        default=False,
        help_text=_("Your turn opens with the typing box ready, and your reflections are typed."),
    )
    audio_cues = models.BooleanField(
        _("gentle sounds in calls"),
        default=True,
        help_text=_("Your turn soon, your turn now, 30 seconds left, time is up, and someone resonated."),
    )
    cue_volume = models.PositiveSmallIntegerField(
        _("sound volume"), default=60, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    read_aloud = models.BooleanField(
        _("read typed shares and reflections aloud"),
        default=False,
        help_text=_("Your device speaks them; nothing is sent anywhere."),
    )
    large_controls = models.BooleanField(
        _("large, simple room controls"),
        default=False,
        help_text=_("Just the speaker, the time, and your main buttons."),
    )
    auto_unmute = models.BooleanField(
        _("unmute me automatically when my turn starts"),
        default=False,
        help_text=_("Without this, only you unmute your microphone."),
    )
    calendar_token = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    deletion_requested_at = models.DateTimeField(null=True, blank=True)  # erased 7 days later unless they log in
    erased_at = models.DateTimeField(null=True, blank=True)
    is_staff = models.BooleanField(_("staff"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
            models.CheckConstraint(condition=~models.Q(display_name=""), name="user_display_name_not_empty"),
        ]

    def __str__(self):
        return self.display_name or self.email

    @property
    def turn_multiplier(self) -> float:
        return float(self.extra_time)

    def reset_calendar_token(self) -> str:
        """A new secret address for the calendar feed; the old one stops working."""
        self.calendar_token = secrets.token_urlsafe(32)
        self.save(update_fields=["calendar_token"])
        return self.calendar_token

    def get_full_name(self):
        return self.display_name

    def get_short_name(self):
        return self.display_name


class SiteBan(models.Model):
    """An address that may not sign up again: staff banned its account from the site."""

    email = models.EmailField(unique=True)
    reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "moderation_siteban"  # created by the moderation app, where site bans began

    def __str__(self):
        return self.email

    @classmethod
    def covers(cls, email: str) -> bool:
        return bool(email) and cls.objects.filter(email=email.strip().lower()).exists()
