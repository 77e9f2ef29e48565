"""Django's Redis cache backend: one ``redis.Redis`` client per pool, and a fallback while Redis is down.

The cache holds the API's throttle counters. Losing Redis must not take the
API down with it: while Redis is unreachable every cache call goes to a cache
in this process's memory (throttles then count per process, as on the embedded
default), ``/healthz`` says so, and a warning is logged once per outage. Redis
is tried again ``RETRY_SECONDS`` after the failure that took it out of use.

Django's own client builds a new ``redis.Redis`` object for every cache call,
and redis-py fills a few hundred response callbacks in that constructor: about
0.2 ms per call, and a throttled API request makes two calls per throttle.
The client objects are thread-safe and share the pool, so one per pool will do.

``rate_window`` is the API throttles' step in one round trip instead of a
``get`` and a ``set`` (``certhub.api.throttling``).
"""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("certhub.cache")

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
RETRY_SECONDS = 30


# DRF's sliding window (``SimpleRateThrottle``: the request times of the last ``duration``
# seconds, newest first) as a Redis list, read, trimmed and appended to in one atomic step.
RATE_WINDOW = """
local now, duration, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local oldest = redis.call('LINDEX', KEYS[1], -1)
while oldest and tonumber(oldest) <= now - duration do
    redis.call('RPOP', KEYS[1])
    oldest = redis.call('LINDEX', KEYS[1], -1)
end
local count = redis.call('LLEN', KEYS[1])
if count >= limit then
    return {0, count, oldest}
end
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], duration)
return {1, count + 1, oldest or ARGV[1]}
"""


class ReusedClientRedisCacheClient(RedisCacheClient):
    """``RedisCacheClient`` whose ``get_client`` returns the same client for the same pool."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._pool_at(index))
        return client

    def _pool_at(self, index: int):
        if index not in self._pools:
            self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
        return self._pools[index]


class RedisCache(DjangoRedisCache):
    """Django's ``RedisCache`` with :class:`ReusedClientRedisCacheClient`, falling back while Redis is down."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
        self._fallback = LocMemCache(f"certhub-fallback-{id(self)}", {})
        self._down_until = 0.0

    @property
    def degraded(self) -> bool:
        """Whether calls go to the per-process fallback (Redis failed less than RETRY_SECONDS ago)."""
        return time.monotonic() < self._down_until

    def _call(self, name: str, *args, **kwargs):
        return self._on_redis(
            lambda: getattr(super(RedisCache, self), name)(*args, **kwargs),
            lambda: getattr(self._fallback, name)(*args, **kwargs),
        )

    def rate_window(self, key: str, *, now: float, duration: int, limit: int) -> tuple[bool, int, float] | None:
        """A sliding-window throttle's step in one round trip (``RATE_WINDOW``), or None while Redis is down.

        Answers whether a request at ``now`` is allowed (and records it if so),
        how many requests the window then holds and the oldest one's time.
        """
        script = self.__dict__.get("_rate_window")
        if script is None:
            script = self._rate_window = self._cache.get_client(write=True).register_script(RATE_WINDOW)
        window_key = self.make_and_validate_key(f"{key}:window")
        args = (window_key, repr(now), duration, limit)

        def step() -> tuple[bool, int, float]:
            reply = _evalsha_on_a_connection(script, args)
            if reply is None:  # the script unknown to Redis, or a connection that failed: redis-py's own call
                reply = script(keys=args[:1], args=args[1:])
            allowed, count, oldest = reply
            return bool(allowed), int(count), float(oldest) if oldest is not None else now

        return self._on_redis(step, lambda: None)

    def _on_redis(self, call, fallback):
        """``call()`` on Redis, or ``fallback()`` while Redis is unreachable (logged once per outage)."""
        if not self.degraded:
            try:
                result = call()
            except UNREACHABLE as exc:
                if not self._down_until:
                    logger.warning(
                        "Redis cache unreachable (%s); throttles count per process until it is back",
                        type(exc).__name__,
                    )
                self._down_until = time.monotonic() + RETRY_SECONDS
            else:
                if self._down_until:
                    logger.warning("Redis cache reachable again; throttles are shared again")
                    self._down_until = 0.0
                return result
        return fallback()


def _evalsha_on_a_connection(script, args: tuple):
    """``EVALSHA script key *args`` sent on a connection of the client's pool, or None when redis-py must retry it.

    The client's own call (``script(...)``) costs about twice the CPU: its
    retry wrapper, command-name lookups and observability hooks run on every
    call. A connection error here (a connection the server closed while idle)
    or a script Redis no longer holds answers None, and the caller goes through
    redis-py, which reconnects, retries and loads the script as it always did.
    """
    pool = script.registered_client.connection_pool
    connection = pool.get_connection()
    try:
        connection.send_command("EVALSHA", script.sha, 1, *args)
        return connection.read_response()
    except UNREACHABLE:
        connection.disconnect()
        return None
    except NoScriptError:
        return None
    except BaseException:
        connection.disconnect()  # nothing half-read stays on a connection that goes back to the pool
        raise
    finally:
        pool.release(connection)


def _with_fallback(name: str):
    """``RedisCache.<name>``, answered from the per-process fallback while Redis is unreachable."""

    def method(self, *args, **kwargs):
        return self._call(name, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"Django's ``{name}``, falling back to process memory while Redis is unreachable."
    return method


# Every call a cache user makes (the rest of BaseCache's API is built on these).
FALLBACK_METHODS = ("add", "get", "set", "touch", "delete", "get_many", "has_key", "incr", "set_many", "delete_many")
for _name in (*FALLBACK_METHODS, "clear"):
    setattr(RedisCache, _name, _with_fallback(_name))
