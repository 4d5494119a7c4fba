"""Call formats. Segments are validated by groups.formats before anything is saved."""

from django.core.exceptions import ValidationError

from groups import permissions
from groups.formats import (
    DEFAULT_FORMAT_DESCRIPTION,
    DEFAULT_FORMAT_NAME,
    DEFAULT_GRACE_SECONDS,
    default_segments,
    parse_segments,
    validate_grace_seconds,
)
from groups.models import CallFormat, Community


def _clean(segments, grace_seconds):
    parsed = parse_segments(segments)
    try:
        validate_grace_seconds(grace_seconds)
    except ValidationError as error:
        raise ValidationError({"grace_seconds": error.error_list}) from None
    return [segment.to_dict() for segment in parsed]


def format_create(
    *, community: Community, actor, name: str, segments: list, grace_seconds: int, description: str = ""
) -> CallFormat:
    permissions.require(permissions.can_facilitate(actor, community))
    return CallFormat.objects.create(
        community=community,
        name=name.strip(),
        description=description.strip(),
        segments=_clean(segments, grace_seconds),
        grace_seconds=grace_seconds,
    )


def format_update(
    *, call_format: CallFormat, actor, name: str, segments: list, grace_seconds: int, description: str = ""
) -> CallFormat:
    """Change a format. Calls that use it follow the change from their next segment on."""
    if call_format.community is None:
        permissions.require(permissions.is_staff(actor))
    else:
        permissions.require(permissions.can_facilitate(actor, call_format.community))
    call_format.name = name.strip()
    call_format.description = description.strip()
    call_format.segments = _clean(segments, grace_seconds)
    call_format.grace_seconds = grace_seconds
    call_format.save()
    return call_format


def format_default() -> CallFormat:
    """The site-wide attuned-sharing format, created if it is missing."""
    call_format, _created = CallFormat.objects.get_or_create(
        community=None,
        name=DEFAULT_FORMAT_NAME,
        defaults={
            "description": DEFAULT_FORMAT_DESCRIPTION,
            "segments": default_segments(),
            "grace_seconds": DEFAULT_GRACE_SECONDS,
        },
    )
    return call_format
