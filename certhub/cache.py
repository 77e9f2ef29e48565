"""The caches: Django's Redis backend (one client per pool, a fallback while Redis is down), and process memory.

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
``get`` and a ``set`` (``certhub.api.throttling``); far from the limit a step
leases a few slots of the shared window that this process's next requests
spend without a round trip (``RateLeases``, decision 0052).

Without Redis (the embedded default) the cache is ``LocalCache``: Django's
cache in process memory, whose ``rate_window`` keeps each throttle's window in
the process as a queue of times, checked and recorded under a lock, instead of
a pickled list read and written again by every request. The Redis cache's
fallback is one too, so while Redis is down the throttles' step runs there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("certhub.cache")

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
RETRY_SECONDS = 30

# A throttle's lease (``RateLeases``): at most LEASE_SLOTS slots, at most a LEASE_SHARE-th of
# what the window has left, spent within LEASE_SECONDS (and a tenth of the window) of the step
# that granted it; asked for only by a process whose previous step on the window was less than
# LEASE_SECONDS before (a client busy there), so a client's occasional requests take one slot each.
LEASE_SLOTS = 8
LEASE_SHARE = 16
LEASE_SECONDS = 0.1


# DRF's sliding window (``SimpleRateThrottle``: the request times of the last ``duration``
# seconds, newest first) as a Redis list, read, trimmed and appended to in one atomic step.
# The step may grant a lease of several slots (``RateLeases``): ARGV[4] slots at most, recorded
# at ARGV[5] (the lease's end, so each slot counts at least as long as the request it admits),
# never more than an ARGV[8]-th (LEASE_SHARE) of what the window has left, and one (recorded at ``now``)
# near the limit. ARGV[6] slots recorded at ARGV[7] that an earlier lease did not spend are
# taken out of the window first.
RATE_WINDOW = """
local now, duration, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local want, returned, share = tonumber(ARGV[4]), tonumber(ARGV[6]), tonumber(ARGV[8])
if returned > 0 then
    redis.call('LREM', KEYS[1], returned, ARGV[7])
end
local oldest = redis.call('LINDEX', KEYS[1], -1)
while oldest and tonumber(oldest) <= now - duration do
    redis.call('RPOP', KEYS[1])
    oldest = redis.call('LINDEX', KEYS[1], -1)
end
local count = redis.call('LLEN', KEYS[1])
if count >= limit then
    return {0, count, oldest}
end
local granted = math.min(want, math.floor((limit - count) / share))
if granted <= 1 then
    redis.call('LPUSH', KEYS[1], ARGV[1])
    redis.call('EXPIRE', KEYS[1], duration)
    return {1, count + 1, oldest or ARGV[1]}
end
for _ = 1, granted do
    redis.call('LPUSH', KEYS[1], ARGV[5])
end
redis.call('EXPIRE', KEYS[1], duration + math.ceil(tonumber(ARGV[5]) - now))
return {granted, count + granted, oldest or ARGV[5]}
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


@dataclass
class Lease:
    """Slots of one window granted to this process: ``left`` of them, recorded at ``until``, spendable before it.

    A step that took one slot is kept too (``left`` 0): its time says whether the next step asks for a lease."""

    window: tuple[str, int, int]  # the key, the duration and the limit it was granted under
    stepped_at: float  # the time of the step that granted it
    left: int
    count: int  # the window's count after the step that granted it
    until: float
    stamp: str  # ``until`` as the window's list holds it


class RateLeases:
    """The slots of shared windows this process holds: spent locally, what is left given back at the next step.

    A step of ``RATE_WINDOW`` may grant several slots at once (asked for when
    this process's previous step on the window was a moment before, and
    granted far from the limit only: never more than a LEASE_SHARE-th of what
    the window has left, and one at a time near it). Every granted slot is in
    the shared window from the step on, recorded at the lease's end, which is
    no earlier than the request that spends it: the window's count is never below the requests it
    admitted, in any process, and it keeps each of them at least as long as
    DRF's own window would. A slot is spent only before that end; the slots a
    lease did not spend are taken out of the window by this process's next step
    on the same window. Threads share the leases (a lock around the table).
    """

    def __init__(self) -> None:
        self._leases: dict[str, Lease] = {}
        self._lock = threading.Lock()

    def spend(self, window: tuple[str, int, int], now: float) -> int | None:
        """Spend one slot of the lease held on ``window`` at ``now``: the window's count when it was granted, or
        None when no slot is left or it is no longer spendable."""
        with self._lock:
            lease = self._leases.get(window[0])
            if lease is None or lease.window != window or lease.left <= 0 or now >= lease.until:
                return None
            lease.left -= 1
            return lease.count

    def unspent(self, window: tuple[str, int, int], now: float) -> tuple[int, str, bool]:
        """Take back the lease held on ``window``: how many slots it did not spend, what they are recorded at,
        and whether the step that granted it was less than LEASE_SECONDS before ``now`` (the client is busy here)."""
        with self._lock:
            lease = self._leases.pop(window[0], None)
        if lease is None or lease.window != window:
            return 0, "", False
        return max(lease.left, 0), lease.stamp, now - lease.stepped_at < LEASE_SECONDS

    def hold(self, lease: Lease, now: float) -> None:
        """Keep ``lease`` for the requests that follow (expired leases of other windows are let go)."""
        with self._lock:
            if len(self._leases) >= 1024:  # many clients: their expired slots simply age out of the window
                self._leases = {key: held for key, held in self._leases.items() if held.until > now}
            self._leases[lease.window[0]] = lease

    def clear(self) -> None:
        with self._lock:
            self._leases.clear()


class RedisCache(DjangoRedisCache):
    """Django's ``RedisCache`` with :class:`ReusedClientRedisCacheClient`, falling back while Redis is down."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
        self._fallback = LocalCache(f"certhub-fallback-{id(self)}", {})
        self._down_until = 0.0
        self._leases = RateLeases()

    @property
    def degraded(self) -> bool:
        """Whether calls go to the per-process fallback (Redis failed less than RETRY_SECONDS ago)."""
        return time.monotonic() < self._down_until

    def _call(self, name: str, *args, **kwargs):
        return self._on_redis(
            lambda: getattr(super(RedisCache, self), name)(*args, **kwargs),
            lambda: getattr(self._fallback, name)(*args, **kwargs),
        )

    def rate_window(self, key: str, *, now: float, duration: int, limit: int) -> tuple[bool, int, float]:
        """A sliding-window throttle's step (``RATE_WINDOW``); while Redis is down, the fallback's, in this process.

        Answers whether a request at ``now`` is allowed (and records it if so),
        how many requests the window then holds and the oldest one's time. Far
        from the limit, for a client whose previous request here was a moment
        before, the step takes a lease of a few slots (``RateLeases``), and the
        requests that follow spend them here without a round trip.
        """
        window = (key, duration, limit)
        leased = self._leases.spend(window, now)
        if leased is not None:  # a leased slot: the window counts it already
            return True, leased, now
        script = self.__dict__.get("_rate_window")
        if script is None:
            script = self._rate_window = self._cache.get_client(write=True).register_script(RATE_WINDOW)
        window_key = self.make_and_validate_key(f"{key}:window")
        until = now + min(LEASE_SECONDS, duration / 10)
        stamp = repr(until)

        def step() -> tuple[bool, int, float]:
            returned, returned_stamp, busy = self._leases.unspent(window, now)
            want = LEASE_SLOTS if busy else 1
            args = (window_key, repr(now), duration, limit, want, stamp, returned, returned_stamp, LEASE_SHARE)
            reply = _evalsha_on_a_connection(script, args)
            if reply is None:  # the script unknown to Redis, or a connection that failed: redis-py's own call
                reply = script(keys=args[:1], args=args[1:])
            granted, count, oldest = reply
            # One slot for this request, the rest (if any) for the next ones.
            lease = Lease(window=window, stepped_at=now, left=granted - 1, count=int(count), until=until, stamp=stamp)
            self._leases.hold(lease, now)
            return bool(granted), int(count), float(oldest) if oldest is not None else now

        return self._on_redis(step, lambda: self._fallback.rate_window(key, now=now, duration=duration, limit=limit))

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
for _name in FALLBACK_METHODS:
    setattr(RedisCache, _name, _with_fallback(_name))


class LocalCache(LocMemCache):
    """Django's cache in process memory, with the API throttles' step (``rate_window``) on windows of its own.

    A window is the times of the requests it admitted in its last ``duration``
    seconds, oldest first, as DRF's ``SimpleRateThrottle`` keeps them: checked,
    trimmed and appended to under one lock, so two threads of a process cannot
    both be admitted on the window's last slot (DRF's ``get`` then ``set`` can
    be interleaved), and nothing is pickled. Throttles count per process, as
    they did on Django's ``LocMemCache``. ``clear`` empties the windows too.
    """

    # Windows kept before the ones that are empty by now are let go.
    MAX_WINDOWS = 1024

    def __init__(self, name, params) -> None:
        super().__init__(name, params)
        self._windows: dict[str, tuple[float, deque]] = {}
        self._windows_lock = threading.Lock()

    def rate_window(self, key: str, *, now: float, duration: int, limit: int) -> tuple[bool, int, float]:
        """Whether a request at ``now`` is allowed (recorded if so), the window's count then and its oldest time."""
        with self._windows_lock:
            held = self._windows.get(key)
            if held is None:
                if len(self._windows) >= self.MAX_WINDOWS:
                    self._windows = {k: w for k, w in self._windows.items() if w[1] and w[1][-1] > now - w[0]}
                held = self._windows[key] = (duration, deque())
            times = held[1]
            while times and times[0] <= now - duration:
                times.popleft()
            if len(times) >= limit:
                return False, len(times), times[0]
            times.append(now)
            return True, len(times), times[0]

    def clear(self) -> None:
        with self._windows_lock:
            self._windows.clear()
        super().clear()


def _clear(self) -> None:
    """Django's ``clear`` (falling back to process memory while Redis is unreachable), and the leases held go too."""
    self._leases.clear()
    self._call("clear")


RedisCache.clear = _clear
