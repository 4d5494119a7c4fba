"""Changes to what email a person wants; reminder rows follow at once."""

from django.db import transaction

from accounts.models import User
from groups import unsubscribe
from groups.services import reminders


@transaction.atomic
def unsubscribe_person(*, user: User, scope: str) -> None:
    """One click from an email: no more reminders, or no more news about calls and communities."""
    if scope == unsubscribe.REMINDERS:
        user.reminders = User.Reminders.NONE
        user.save(update_fields=["reminders"])
        reminders.sync_person(user)
    else:
        user.notify_updates = False
        user.save(update_fields=["notify_updates"])


@transaction.atomic
def profile_saved(*, user: User, changed: set[str]) -> None:
    if "reminders" in changed:
        reminders.sync_person(user)


def on_profile_changed(sender, *, user: User, changed: set[str], **kwargs) -> None:
    """accounts.signals.profile_changed: reminder rows follow a person's new choice at once."""
    profile_saved(user=user, changed=changed)
