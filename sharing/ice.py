"""ICE servers for the audio mesh, with short-lived TURN credentials.

ICE_SERVERS lists STUN/TURN servers (JSON as RTCPeerConnection takes it, or comma-separated URLs).
With TURN_SECRET set, every participant gets their own TURN credential in the REST style that
coturn's `use-auth-secret` expects: the username is "<expiry unix time>:<user id>" and the password
is base64(HMAC-SHA1(secret, username)). With nothing configured, browsers use host candidates,
which work on one machine or one local network.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime

from django.conf import settings


def turn_credential(secret: str, user_id: int, *, ttl: int, now: float | None = None) -> tuple[str, str, int]:
    expires = int((now if now is not None else time.time()) + ttl)
    username = f"{expires}:{user_id}"
    digest = hmac.new(secret.encode("utf-8"), username.encode("utf-8"), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii"), expires


def servers_for(user_id: int, *, now: float | None = None) -> dict:
    servers = [dict(server) for server in settings.ICE_SERVERS]
    expires_at = None
    if settings.TURN_SECRET and settings.TURN_URLS:
        username, credential, expires = turn_credential(
            settings.TURN_SECRET, user_id, ttl=settings.TURN_TTL_SECONDS, now=now
        )
        servers.append({"urls": list(settings.TURN_URLS), "username": username, "credential": credential})
        expires_at = datetime.fromtimestamp(expires, UTC).isoformat().replace("+00:00", "Z")
    return {"servers": servers, "expires_at": expires_at}
