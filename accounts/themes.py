"""The light and low-light themes: a person's choice is stored on their account, or in a cookie."""

from accounts.models import User

THEME_COOKIE = "theme"
THEMES = {choice.value for choice in User.Theme}


def theme_for_request(request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.theme
    chosen = request.COOKIES.get(THEME_COOKIE)
    return chosen if chosen in THEMES else User.Theme.SYSTEM
