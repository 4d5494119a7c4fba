"""Loading a community or call for a request, with the permission rule applied once: pages in every app use it."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from groups import permissions
from groups.models import Call, Community, Series


class SignInFirst(Http404):
    """A private community's call, asked for by someone not signed in. Pages wrapped in
    sign_in_first send them to log in; anywhere else it is a plain 404."""


def community_for(request, slug: str, *, facilitate: bool = False, own: bool = False) -> Community:
    community = get_object_or_404(Community, slug=slug)
    if not permissions.can_view(request.user, community):
        raise PermissionDenied
    if facilitate and not permissions.can_facilitate(request.user, community):
        raise PermissionDenied
    if own and not permissions.can_own(request.user, community):
        raise PermissionDenied
    return community


def _require_calls_visible(request, community: Community) -> None:
    if not permissions.can_view(request.user, community):
        raise PermissionDenied
    if not permissions.can_see_calls(request.user, community):
        # Someone signed in outside the community gets the same answer as for a call that does not exist.
        raise Http404 if request.user.is_authenticated else SignInFirst


def call_for(request, call_id: int, *, facilitate: bool = False) -> Call:
    call = get_object_or_404(Call.objects.select_related("community", "series"), pk=call_id)
    _require_calls_visible(request, call.community)
    if facilitate and not permissions.can_facilitate(request.user, call.community):
        raise PermissionDenied
    return call


def series_for(request, pk: int) -> Series:
    series = get_object_or_404(Series.objects.select_related("community", "format"), pk=pk)
    _require_calls_visible(request, series.community)
    return series


def sign_in_first(view):
    """A page of a private community's call sends someone not signed in to log in, then back."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except SignInFirst:
            return redirect_to_login(request.get_full_path())

    return wrapped


def wants_fragment(request, name: str) -> bool:
    """True when a small script asked for just one part of the page, to update it in place."""
    return request.headers.get("X-Fragment") == name
