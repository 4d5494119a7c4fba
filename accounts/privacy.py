"""Everything we hold about a person, to export it, and to erase it after the grace period.

Each app that stores something about people has a `privacy` module with `export(user) -> dict`
and `erase(user) -> None`. This module asks every one of them (PRIVACY_MODULES), so a new model
holding personal data joins the export and the erasure by adding itself to its app's module;
tests/accounts/test_privacy.py walks every model to check nothing is left behind.
"""

from __future__ import annotations

import importlib
import uuid
from datetime import timedelta

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from accounts.models import User

PRIVACY_MODULES = [
    "accounts.privacy_self",
    "groups.privacy",
    "sharing.privacy",
    "moderation.privacy",
    "journey.privacy",
]
GRACE = timedelta(days=7)


def _modules():
    return [importlib.import_module(name) for name in PRIVACY_MODULES]


def export(user: User) -> dict:
    data = {"exported_at": timezone.now().isoformat()}
    for module in _modules():
        data.update(module.export(user))
    return data


def request_deletion(*, user: User, now=None) -> None:
    user.deletion_requested_at = now or timezone.now()
    user.save(update_fields=["deletion_requested_at"])


def cancel_deletion(*, user: User) -> bool:
    """Logging in during the grace period keeps the account."""
    if user.deletion_requested_at is None or user.erased_at is not None:
        return False
    user.deletion_requested_at = None
    user.save(update_fields=["deletion_requested_at"])
    return True


@transaction.atomic
def erase(*, user: User, now=None) -> None:
    """Remove or anonymise every piece of personal data. The row stays, emptied, so that counts of
    attendance stay true in aggregate without saying who."""
    now = now or timezone.now()
    for module in reversed(_modules()):
        module.erase(user)
    for session in Session.objects.filter(expire_date__gt=now):
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
    anonymous = f"erased-{uuid.uuid4().hex[:12]}@erased.invalid"
    User.objects.filter(pk=user.pk).update(
        email=anonymous,
        display_name="Former member",
        time_zone="UTC",
        password="!",  # noqa: S106 (an unusable password, not a secret)
        is_active=False,
        is_staff=False,
        is_superuser=False,
        calendar_token=None,
        last_login=None,
        erased_at=now,
        deletion_requested_at=None,
        extra_time=User.ExtraTime.NONE,
        prefers_typing=False,
        reflections_default=User.ReflectionsDefault.REFLECTIONS,
        audio_cues=True,
        read_aloud=False,
        large_controls=False,
        auto_unmute=False,
        theme=User.Theme.SYSTEM,
    )
    user.groups.clear()
    user.user_permissions.clear()


def erase_due(*, now=None) -> int:
    """Erase every account whose grace period has passed. Each account is claimed under its row lock
    and checked again there, so someone who logs in (and so keeps the account) while this runs is
    not erased, and two runs at once (a second beat) never erase the same account twice."""
    now = now or timezone.now()
    due = User.objects.filter(deletion_requested_at__lte=now - GRACE, erased_at__isnull=True)
    count = 0
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            user = due.select_for_update(skip_locked=True).filter(pk=pk).first()
            if user is None:
                continue  # kept meanwhile, or being erased by another run
            erase(user=user, now=now)
            count += 1
    return count
