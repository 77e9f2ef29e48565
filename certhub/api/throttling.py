"""API throttles: the ``anon`` rate for anonymous clients, the ``user`` rate for authenticated ones.

Both keep DRF's sliding window, checked and recorded in one atomic step
(``rate_window``) instead of DRF's ``get`` then ``set`` (which two concurrent
requests could interleave). On the Redis cache (``certhub.cache.RedisCache``)
the step is one round trip, and far from the limit it leases a few slots that
the process's next requests spend (``certhub.cache.RateLeases``); without
Redis, and while Redis is down, the window is in the process's memory
(``certhub.cache.LocalCache``). On any other cache DRF's own steps run.
"""

from __future__ import annotations

from rest_framework.throttling import AnonRateThrottle as DRFAnonRateThrottle
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.throttling import UserRateThrottle as DRFUserRateThrottle


class WindowThrottle(SimpleRateThrottle):
    """DRF's sliding-window throttle, checked and recorded in one cache round trip where the cache can."""

    def allow_request(self, request, view) -> bool:
        rate_window = getattr(self.cache, "rate_window", None)
        if self.rate is None or rate_window is None:
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        allowed, count, oldest = rate_window(self.key, now=self.now, duration=self.duration, limit=self.num_requests)
        if allowed:
            return True
        self.history = [oldest] * count  # what DRF's ``wait`` reads: the window's length and its oldest time
        return self.throttle_failure()


class AnonRateThrottle(WindowThrottle, DRFAnonRateThrottle):
    """The ``anon`` rate, by client address."""


class UserRateThrottle(WindowThrottle, DRFUserRateThrottle):
    """The ``user`` rate, counted for authenticated clients only.

    DRF's own class also counts anonymous requests, by address: two more cache
    round trips on every anonymous request, for a limit that the ``anon`` rate
    (``AnonRateThrottle``) already sets.
    """

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)
