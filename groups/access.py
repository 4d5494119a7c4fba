"""Loading a community or call for a request, with the permission rule applied once: pages in every app use it."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from groups import permissions
from groups.models import Call, Community


def community_for(request, slug: str, *, facilitate: bool = False, own: bool = False) -> Community:
    community = get_object_or_404(Community, slug=slug)
    if not permissions.can_view(request.user, community):
        raise PermissionDenied
    if facilitate and not permissions.can_facilitate(request.user, community):
        raise PermissionDenied
    if own and not permissions.can_own(request.user, community):
        raise PermissionDenied
    return community


def call_for(request, call_id: int, *, facilitate: bool = False) -> Call:
    call = get_object_or_404(Call.objects.select_related("community", "series"), pk=call_id)
    if not permissions.can_view(request.user, call.community):
        raise PermissionDenied
    if facilitate and not permissions.can_facilitate(request.user, call.community):
        raise PermissionDenied
    return call


def wants_fragment(request, name: str) -> bool:
    """True when a small script asked for just one part of the page, to update it in place."""
    return request.headers.get("X-Fragment") == name
