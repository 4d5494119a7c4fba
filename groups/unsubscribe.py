"""One-click unsubscribe (RFC 8058): a signed address per person and kind of email, no login."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "attunement.unsubscribe"
REMINDERS = "reminders"
UPDATES = "updates"
SCOPES = {REMINDERS, UPDATES}


def token(user_id: int, scope: str) -> str:
    return signing.dumps({"u": user_id, "s": scope}, salt=SALT, compress=True)


def read(value: str) -> tuple[int, str] | None:
    try:
        data = signing.loads(value, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("s") not in SCOPES or not isinstance(data.get("u"), int):
        return None
    return data["u"], data["s"]


def url(user_id: int, scope: str) -> str:
    return settings.SITE_URL + reverse("unsubscribe", kwargs={"token": token(user_id, scope)})
