import zoneinfo

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
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
    """Site staff and community owners must turn on two-factor login before anything else."""

    ALLOWED_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/accounts/reauthenticate/", "/static/", "/jsi18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(self.ALLOWED_PREFIXES)
            and two_factor.missing(user)
        ):
            messages.info(
                request, _("Your role keeps other people safe, so it needs two-factor login. Please set it up now.")
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
