import zoneinfo

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from core import two_factor


class TimeZoneMiddleware:
    """Show times in the signed-in person's own zone, for the length of the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            try:
                zone = zoneinfo.ZoneInfo(user.time_zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                zone = None
        with timezone.override(zone):
            return self.get_response(request)


class RequireTwoFactorMiddleware:
    """Site staff and community owners must turn on two-factor login. Owners have a grace period
    with a banner (core.two_factor); after it, and for staff at once, pages lead to the setup.
    Either way the person comes back to the page they were on (RETURN_KEY in the session)."""

    ALLOWED_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/accounts/reauthenticate/", "/static/", "/jsi18n/")
    RETURN_KEY = "two_factor_return"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        if request.path.startswith(self.ALLOWED_PREFIXES):
            self._remember_next(request)
        elif request.path.startswith("/accounts/"):
            pass
        elif two_factor.overdue(user):
            if request.method == "GET":
                request.session[self.RETURN_KEY] = request.get_full_path()
            messages.info(
                request, _("Your role keeps other people safe, so it needs two-factor login. Please set it up now.")
            )
            return redirect("mfa_activate_totp")
        else:
            request.session.pop(self.RETURN_KEY, None)  # back where they were: the way back is done
        return self.get_response(request)

    def _remember_next(self, request):
        target = request.GET.get("next")
        if (
            target
            and request.path == reverse("mfa_activate_totp")
            and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
        ):
            request.session[self.RETURN_KEY] = target
