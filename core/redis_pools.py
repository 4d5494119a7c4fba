"""One Redis connection pool per process for Django's cache.

Django makes a cache object for each thread and each async context. In a web process the database
work of each socket runs in its own context, so every socket that touched the cache got a client
with a pool of its own, and kept a Redis connection open for as long as the socket lived: 1,600
sockets, 1,600 connections. With this pool class every cache object in the process shares one pool,
which opens only as many connections as commands run at once. redis-py's pool is thread-safe and
starts afresh in a forked child.
"""

from __future__ import annotations

import threading

from redis import ConnectionPool


class SharedConnectionPool(ConnectionPool):
    _shared: dict[tuple, ConnectionPool] = {}
    _lock = threading.Lock()

    @classmethod
    def from_url(cls, url, **kwargs):
        key = (url, tuple(sorted((name, repr(value)) for name, value in kwargs.items())))
        with cls._lock:
            pool = cls._shared.get(key)
            if pool is None:
                pool = cls._shared[key] = super().from_url(url, **kwargs)
            return pool
