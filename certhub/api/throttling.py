"""API throttles: the ``anon`` rate for anonymous clients, the ``user`` rate for authenticated ones."""

from __future__ import annotations

from rest_framework.throttling import UserRateThrottle as DRFUserRateThrottle


class UserRateThrottle(DRFUserRateThrottle):
    """The ``user`` rate, counted for authenticated clients only.

    DRF's own class also counts anonymous requests, by address: two more cache
    round trips on every anonymous request, for a limit that the ``anon`` rate
    (``AnonRateThrottle``) already sets.
    """

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)
