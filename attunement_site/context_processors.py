from django.conf import settings

from accounts.themes import theme_for_request
from core import two_factor


def site(request):
    context = {
        "theme": theme_for_request(request),
        "site_url": settings.SITE_URL,
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["two_factor_due"] = two_factor.setup_due(user)
        back = request.session.get("two_factor_return")
        if back and request.path.startswith("/accounts/2fa/") and two_factor.has_second_factor(user):
            context["two_factor_return"] = back
    return context
