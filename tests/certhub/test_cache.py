"""The Redis cache's throttle step on its own connection: what redis-py would do when Redis forgets or hangs up."""

from __future__ import annotations

import pytest
from django.core.cache import cache


def test_the_one_step_window_survives_a_flushed_script_and_closed_connections():
    """The step goes on its own connection of the pool; a script Redis forgot or a connection it closed goes
    through redis-py again (load the script, reconnect) instead of leaving Redis for the per-process fallback."""
    if not hasattr(cache, "rate_window"):
        pytest.skip("the one-step window needs the Redis cache")
    client = cache._cache.get_client(write=True)
    assert cache.rate_window("survive", now=1000.0, duration=60, limit=3) == (True, 1, 1000.0)

    client.script_flush()  # as after a Redis restart: the next EVALSHA answers NOSCRIPT
    assert cache.rate_window("survive", now=1001.0, duration=60, limit=3) == (True, 2, 1000.0)

    for connected in client.client_list():  # the server drops every connection the pool holds
        client.client_kill_filter(_id=connected["id"])
    assert cache.rate_window("survive", now=1002.0, duration=60, limit=3) == (True, 3, 1000.0)
    assert cache.rate_window("survive", now=1003.0, duration=60, limit=3) == (False, 3, 1000.0)
    assert not cache.degraded
    assert client.llen(cache.make_key("survive:window")) == 3
