"""The throttles' step: Redis's on its own connection (what redis-py would do when Redis forgets or hangs up), its
leases, and the windows in process memory of the embedded default (``LocalCache``)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from django.conf import settings
from django.core.cache import cache, caches

from certhub.cache import LocalCache, RedisCache


def test_the_one_step_window_survives_a_flushed_script_and_closed_connections():
    """The step goes on its own connection of the pool; a script Redis forgot or a connection it closed goes
    through redis-py again (load the script, reconnect) instead of leaving Redis for the per-process fallback."""
    if not isinstance(caches["default"], RedisCache):  # ``cache`` is a proxy
        pytest.skip("needs the Redis cache")
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


# --- Leases: a few slots of the shared window taken in one step ---------------------------


def _window(cache_, key: str) -> list[str]:
    client = cache_._cache.get_client()
    return [value.decode() for value in client.lrange(cache_.make_key(f"{key}:window"), 0, -1)]


def _another_process_cache():
    """A second cache on the same Redis with leases of its own, as another server process has."""
    from django.core.cache import caches

    return caches.create_connection("default")


# A process of its own (started fresh, not forked): take slots of the shared window until refused.
SPEND_UNTIL_REFUSED = """
import sys, time, django
django.setup()
from django.core.cache import cache
key, limit, duration = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
allowed = 0
while cache.rate_window(key, now=time.time(), duration=duration, limit=limit)[0]:
    allowed += 1
print(allowed)
"""


@pytest.mark.redis
def test_a_client_busy_here_far_from_the_limit_takes_a_lease_recorded_at_its_end():
    """A first step takes one slot; a step a moment after it takes 8 (a 16th of what is left, at most 8)
    recorded at the lease's end, and the next 7 requests of this process spend them without a step."""
    limit = 1000
    assert cache.rate_window("lease", now=1000.0, duration=60, limit=limit) == (True, 1, 1000.0)
    assert cache.rate_window("lease", now=1000.01, duration=60, limit=limit) == (True, 9, 1000.0)
    assert _window(cache, "lease") == [repr(1000.01 + 0.1)] * 8 + [repr(1000.0)]
    for i in range(2, 9):
        assert cache.rate_window("lease", now=1000.0 + i / 100, duration=60, limit=limit)[0]
    assert len(_window(cache, "lease")) == 9  # spent here: nothing more was sent
    assert cache.rate_window("lease", now=1000.09, duration=60, limit=limit) == (True, 17, 1000.0)
    assert len(_window(cache, "lease")) == 17


@pytest.mark.redis
def test_occasional_requests_take_one_slot_each_at_their_own_time():
    steps = [cache.rate_window("calm", now=1000.0 + i, duration=60, limit=1000) for i in range(5)]
    assert steps == [(True, i + 1, 1000.0) for i in range(5)]
    assert _window(cache, "calm") == [repr(1000.0 + i) for i in reversed(range(5))]


@pytest.mark.redis
def test_a_lease_is_spent_only_before_its_end_and_its_unspent_slots_are_given_back():
    assert cache.rate_window("back", now=1000.0, duration=60, limit=1000)[:2] == (True, 1)
    assert cache.rate_window("back", now=1000.01, duration=60, limit=1000)[:2] == (True, 9)
    assert cache.rate_window("back", now=1000.05, duration=60, limit=1000)[0]  # one of the lease: 6 left
    # Past the lease's end its 6 unspent slots leave the window in the next step, which takes one slot.
    assert cache.rate_window("back", now=1000.2, duration=60, limit=1000)[:2] == (True, 4)
    assert _window(cache, "back") == [repr(1000.2), repr(1000.01 + 0.1), repr(1000.01 + 0.1), repr(1000.0)]


@pytest.mark.redis
def test_near_the_limit_a_step_takes_one_slot_recorded_at_its_request():
    limit = 40  # 39 left: a 16th is 2; then 37, 35, 33, then fewer than 32: one slot at a time
    times = [1000.0 + i * 0.001 for i in range(limit + 1)]
    steps = [cache.rate_window("near", now=t, duration=3600, limit=limit) for t in times]
    assert [allowed for allowed, _, _ in steps] == [True] * limit + [False]
    window = _window(cache, "near")
    assert len(window) == limit
    assert window[:31] == [repr(t) for t in reversed(times[9:40])]  # one by one at its own time


@pytest.mark.redis
def test_clearing_the_cache_drops_the_leases_held():
    assert cache.rate_window("dropped", now=1000.0, duration=60, limit=1000)[:2] == (True, 1)
    assert cache.rate_window("dropped", now=1000.01, duration=60, limit=1000)[:2] == (True, 9)
    cache.clear()
    assert cache.rate_window("dropped", now=1000.02, duration=60, limit=1000)[:2] == (True, 1)
    assert _window(cache, "dropped") == [repr(1000.02)]


@pytest.mark.redis
def test_two_processes_sharing_the_window_are_never_allowed_more_than_the_limit_between_them():
    """Each server process holds leases of its own: between them they get the limit, never one more."""
    first, second, limit = cache, _another_process_cache(), 200
    allowed = {"first": 0, "second": 0}
    now = 1000.0
    for i in range(400):  # the two alternate, a millisecond apart, each spending its own leases
        now += 0.001
        name, process = ("first", first) if i % 2 == 0 else ("second", second)
        allowed[name] += process.rate_window("shared", now=now, duration=3600, limit=limit)[0]
        assert sum(allowed.values()) <= limit
    assert sum(allowed.values()) == limit and min(allowed.values()) > 0
    assert len(_window(cache, "shared")) == limit


@pytest.mark.redis
@pytest.mark.slow
def test_two_real_processes_spending_leases_get_the_limit_exactly():
    """Two server-like processes, each with its own cache and leases, take slots as fast as they can until refused."""
    limit, duration = 600, 3600
    command = [sys.executable, "-c", SPEND_UNTIL_REFUSED, "forked", str(limit), str(duration)]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    processes = [
        subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, text=True) for _ in "ab"
    ]
    counts = [int(process.communicate(timeout=120)[0].split()[-1]) for process in processes]
    assert sum(counts) == limit
    assert len(_window(cache, "forked")) == limit


@pytest.mark.redis
def test_the_anon_throttle_in_two_processes_allows_its_rate_between_them_then_says_how_long_to_wait():
    """DRF's throttle class over two caches (two server processes) on one Redis: the rate holds across both."""
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from certhub.api.throttling import AnonRateThrottle

    rate = 200
    throttles = []
    for process_cache in (cache, _another_process_cache()):
        throttle = AnonRateThrottle()
        throttle.cache, throttle.rate = process_cache, f"{rate}/hour"
        throttle.num_requests, throttle.duration = throttle.parse_rate(throttle.rate)
        throttles.append(throttle)
    request = Request(APIRequestFactory().get("/api/v1/certifications", REMOTE_ADDR="10.3.3.3"))
    allowed = sum(throttles[i % 2].allow_request(request, None) for i in range(2 * rate))
    assert allowed == rate
    assert not throttles[0].allow_request(request, None)
    assert 0 < throttles[0].wait() <= 3600


# --- Windows in process memory (no Redis) -------------------------------------------------


def test_in_process_memory_threads_racing_for_a_window_are_admitted_up_to_its_limit_exactly():
    """Checked and recorded under one lock: DRF's ``get`` then ``set`` on a cache lets two threads take one slot."""
    local = LocalCache("windows-race", {})
    start = threading.Barrier(8)
    admitted = []

    def take() -> None:
        start.wait()
        admitted.extend(local.rate_window("race", now=1000.0 + n / 1000, duration=60, limit=50)[0] for n in range(20))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(True) == 50 and len(admitted) == 160


def test_in_process_memory_a_refused_request_is_not_recorded_and_clear_empties_the_windows():
    local = LocalCache("windows-clear", {})
    assert [local.rate_window("k", now=t, duration=10, limit=1)[0] for t in (0.0, 5.0, 10.0)] == [True, False, True]
    local.clear()
    assert local.rate_window("k", now=10.5, duration=10, limit=1) == (True, 1, 10.5)


def test_in_process_memory_windows_that_emptied_are_let_go_once_there_are_many(monkeypatch):
    monkeypatch.setattr(LocalCache, "MAX_WINDOWS", 3)
    local = LocalCache("windows-many", {})
    for n, key in enumerate("abc"):
        local.rate_window(key, now=float(n), duration=10, limit=5)
    local.rate_window("d", now=11.5, duration=10, limit=5)  # a's and b's last requests left their windows
    assert sorted(local._windows) == ["c", "d"]
    assert local.rate_window("c", now=11.6, duration=10, limit=5) == (True, 2, 2.0)


def test_while_redis_is_down_the_step_answers_from_the_windows_in_process_memory():
    """The Redis cache's fallback is a ``LocalCache``: the throttle's step still holds the limit, per process."""
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gone = RedisCache(f"redis://127.0.0.1:{port}/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})
    steps = [gone.rate_window("down", now=t, duration=60, limit=2) for t in (1000.0, 1001.0, 1002.0)]
    assert steps == [(True, 1, 1000.0), (True, 2, 1000.0), (False, 2, 1000.0)]
    assert gone.degraded
