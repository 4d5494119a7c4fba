from django.contrib import messages
from django.dispatch import Signal
from django.utils.translation import gettext as _

from accounts import privacy
from core import standing, two_factor

# Sent after someone saves their profile, with `user` and `changed` (the names of the fields that
# changed): apps that keep something in step with a person's choices (reminder rows) listen.
profile_changed = Signal()


NEW_MEMBER_KEY = "new_member"


def mark_new_member(sender, request=None, **kwargs):
    """Signing up, and confirming the address that finishes it, mark the session: the home page then
    says "Welcome", not "Welcome back"."""
    if request is not None and hasattr(request, "session"):
        request.session[NEW_MEMBER_KEY] = True


def keep_account_on_login(sender, request, user, **kwargs):
    """Logging in during the 7-day grace period cancels a deletion request."""
    if privacy.cancel_deletion(user=user) and request is not None:
        messages.success(request, _("Welcome back. Your account will not be deleted."))


def two_factor_changed(sender, request=None, user=None, authenticator=None, **kwargs):
    """Ask the rule again, and let live rooms re-check the powers that need a second factor."""
    person = user or getattr(authenticator, "user", None)
    if person is not None:
        two_factor.forget(person.pk)
        standing.announce(user_id=person.pk)
