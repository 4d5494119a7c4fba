"""A small fixed-window rate limit on the cache, for actions people could repeat to harm others:
reports, invites and join requests, and guesses of a password (account deletion). (allauth limits
logins and sign-ups itself.)"""

from django.core.cache import cache


def allow(key: str, *, limit: int, period: int) -> bool:
    """Count one more use of `key`; False once more than `limit` uses fall in one `period` (seconds)."""
    cache_key = f"ratelimit:{key}"
    if cache.add(cache_key, 1, timeout=period):
        return True
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=period)
        return True
    return count <= limit
