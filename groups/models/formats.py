from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from groups.formats import DEFAULT_GRACE_SECONDS, Segment, parse_segments


class CallFormat(models.Model):
    """A reusable agenda: an ordered list of segments (see groups/formats.py and docs/formats.md).

    A format without a community is a site-wide format that every community can use.
    """

    community = models.ForeignKey(
        "groups.Community", null=True, blank=True, on_delete=models.CASCADE, related_name="formats"
    )
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=300, blank=True)
    segments = models.JSONField(_("segments"))
    grace_seconds = models.PositiveIntegerField(
        _("grace period after a turn's time, in seconds"), default=DEFAULT_GRACE_SECONDS
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("call format")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def segment_list(self) -> list[Segment]:
        return parse_segments(self.segments)

    def total_seconds(self) -> int:
        return sum(segment.planned_seconds(people=6) for segment in self.segment_list())
