import zoneinfo

from django.utils import timezone


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
            and needs_two_factor(user)
        ):
            from django.contrib import messages
            from django.shortcuts import redirect
            from django.utils.translation import gettext as _

            messages.info(
                request, _("Your role keeps other people safe, so it needs two-factor login. Please set it up now.")
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)


TWO_FACTOR_CACHE_SECONDS = 300


def _two_factor_key(user_id: int) -> str:
    return f"needs-two-factor:{user_id}"


def forget_two_factor(user_id: int) -> None:
    """Ask again on the next request: someone's role or two-factor devices changed."""
    from django.core.cache import cache

    cache.delete(_two_factor_key(user_id))


def needs_two_factor(user) -> bool:
    """Staff and owners without a TOTP device. Cached briefly, and forgotten when roles or devices change."""
    from allauth.mfa.models import Authenticator
    from django.core.cache import cache

    from groups.models import Membership

    key = _two_factor_key(user.pk)
    known = cache.get(key)
    if known is not None:
        return known
    needs = bool(
        (
            user.is_staff
            or Membership.objects.filter(user=user, role=Membership.Role.OWNER, state=Membership.State.ACTIVE).exists()
        )
        and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    )
    cache.set(key, needs, TWO_FACTOR_CACHE_SECONDS)
    return needs
