from django.contrib import messages
from django.utils.translation import gettext as _

from accounts import privacy


def keep_account_on_login(sender, request, user, **kwargs):
    """Logging in during the 7-day grace period cancels a deletion request."""
    if privacy.cancel_deletion(user=user) and request is not None:
        messages.success(request, _("Welcome back. Your account will not be deleted."))


def two_factor_changed(sender, request=None, user=None, authenticator=None, **kwargs):
    from accounts.middleware import forget_two_factor

    person = user or getattr(authenticator, "user", None)
    if person is not None:
        forget_two_factor(person.pk)
