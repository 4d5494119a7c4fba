"""ICE servers for the audio mesh, with short-lived TURN credentials.

ICE_SERVERS lists STUN/TURN servers (JSON as RTCPeerConnection takes it, or comma-separated URLs).
With TURN_SECRET set, each person admitted to a call gets a TURN credential for that call alone,
in the REST style that coturn's `use-auth-secret` expects: the username is
"<expiry unix time>:<call id>-<user id>" and the password is base64(HMAC-SHA1(secret, username)).
Credentials last minutes (TURN_TTL_SECONDS) and the socket renews them while the person stays in
the circle, so a removal or a ban ends a person's TURN access within that time. With nothing
configured, browsers use host candidates, which work on one machine or one local network.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime

from django.conf import settings


def turn_credential(secret: str, holder: str, *, ttl: int, now: float | None = None) -> tuple[str, str, int]:
    expires = int((now if now is not None else time.time()) + ttl)
    username = f"{expires}:{holder}"
    digest = hmac.new(secret.encode("utf-8"), username.encode("utf-8"), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii"), expires


def servers_for(call_id: int, user_id: int, *, now: float | None = None) -> dict:
    """The `ice` message for one person in one call; `expires_unix` is for the socket, not the browser."""
    servers = [dict(server) for server in settings.ICE_SERVERS]
    expires_at = expires = None
    if settings.TURN_SECRET and settings.TURN_URLS:
        username, credential, expires = turn_credential(
            settings.TURN_SECRET, f"{call_id}-{user_id}", ttl=settings.TURN_TTL_SECONDS, now=now
        )
        servers.append({"urls": list(settings.TURN_URLS), "username": username, "credential": credential})
        expires_at = datetime.fromtimestamp(expires, UTC).isoformat().replace("+00:00", "Z")
    return {"servers": servers, "expires_at": expires_at, "expires_unix": expires}
