from django.conf import settings

from accounts.themes import theme_for_request


def site(request):
    return {
        "theme": theme_for_request(request),
        "site_url": settings.SITE_URL,
    }
