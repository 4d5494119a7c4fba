import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DEFAULT_AGREEMENTS = _(
    "What is shared in the circle stays in the circle.\n"
    "No advice unless someone asks for it.\n"
    "Passing is always fine.\n"
    "Speak from your own experience: say “I”, not “you should”.\n"
    "Listen with your whole attention; there is no need to fix anything."
)


class Community(models.Model):
    class Visibility(models.TextChoices):
        LISTED = "listed", _("Listed in the directory")
        UNLISTED = "unlisted", _("Unlisted: only people with the link find it")

    class JoinPolicy(models.TextChoices):
        OPEN = "open", _("Open: anyone can join")
        REQUEST = "request", _("By request: a facilitator approves each person")
        INVITE = "invite", _("By invitation only")

    name = models.CharField(_("name"), max_length=80)
    slug = models.SlugField(_("web address"), max_length=60, unique=True)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    visibility = models.CharField(_("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.LISTED)
    join_policy = models.CharField(
        _("who can join"), max_length=10, choices=JoinPolicy.choices, default=JoinPolicy.REQUEST
    )
    join_question = models.CharField(
        _("question for people asking to join"),
        max_length=200,
        blank=True,
        help_text=_("Optional. For example: “What brings you to this circle?”"),
    )
    agreements_version = models.PositiveIntegerField(_("current agreements version"), default=1)
    remind_day_before = models.BooleanField(_("remind people a day before each call"), default=True)
    remind_soon_before = models.BooleanField(_("remind people shortly before each call"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("community", kwargs={"slug": self.slug})

    @property
    def is_private(self) -> bool:
        """Unlisted or by invitation: its calls are for its members only."""
        return self.visibility == self.Visibility.UNLISTED or self.join_policy == self.JoinPolicy.INVITE


class Agreement(models.Model):
    """One version of a community's group agreements. A new edit is a new row; old ones stay."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="agreements")
    version = models.PositiveIntegerField()
    text = models.TextField(_("group agreements"), max_length=4000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "version"], name="agreement_version_unique")]
        ordering = ["community", "-version"]

    def __str__(self):
        return f"{self.community} v{self.version}"

    def lines(self) -> list[str]:
        return [line.strip() for line in self.text.splitlines() if line.strip()]


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        FACILITATOR = "facilitator", _("Facilitator")
        MEMBER = "member", _("Member")

    class State(models.TextChoices):
        PENDING = "pending", _("Asked to join")
        ACTIVE = "active", _("Active")
        LEFT = "left", _("Left")
        BANNED = "banned", _("Banned")

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=12, choices=Role.choices, default=Role.MEMBER)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    join_answer = models.TextField(_("answer to the join question"), max_length=1000, blank=True)
    accepted_agreements_version = models.PositiveIntegerField(null=True, blank=True)
    banned_until = models.DateTimeField(null=True, blank=True)  # a suspension ends then; empty: a ban
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "user"], name="membership_unique")]
        indexes = [
            models.Index(fields=["user", "state"]),
            models.Index(fields=["community", "state", "role"]),
        ]

    def __str__(self):
        return f"{self.user} in {self.community} ({self.role}, {self.state})"

    @property
    def is_active(self) -> bool:
        return self.state == self.State.ACTIVE

    @property
    def can_facilitate(self) -> bool:
        return self.is_active and self.role in {self.Role.OWNER, self.Role.FACILITATOR}

    @property
    def is_owner(self) -> bool:
        return self.is_active and self.role == self.Role.OWNER

    def has_accepted(self, agreements_version: int) -> bool:
        return self.accepted_agreements_version == agreements_version


def new_invite_token() -> str:
    return secrets.token_urlsafe(24)


class Invite(models.Model):
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="invites")
    token = models.CharField(max_length=64, unique=True, default=new_invite_token)
    note = models.CharField(_("note for yourself"), max_length=100, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    max_uses = models.PositiveIntegerField(_("how many people can use it"))
    uses = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Invite to {self.community} ({self.uses}/{self.max_uses})"

    def is_usable(self, now) -> bool:
        return self.revoked_at is None and now < self.expires_at and self.uses < self.max_uses

    @property
    def uses_left(self) -> int:
        return max(self.max_uses - self.uses, 0)
