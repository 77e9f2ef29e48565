"""A worker raises its CPU niceness to ``WORKER_NICE`` at start, and never lowers it (decision 0054)."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from config.celery import lower_cpu_priority


def _niceness_after_start(queue) -> None:
    lower_cpu_priority()
    queue.put(os.getpriority(os.PRIO_PROCESS, 0))


def niceness_of_a_started_worker() -> int:
    """The niceness a forked process has after the worker's start handler (this process is left as it was)."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_niceness_after_start, args=(queue,))
    process.start()
    process.join(30)
    return queue.get(timeout=5)


@pytest.mark.skipif(os.getpriority(os.PRIO_PROCESS, 0) > 17, reason="the tests already run at the lowest priority")
def test_a_worker_raises_its_niceness_to_the_setting_and_never_lowers_it(monkeypatch):
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    monkeypatch.setenv("WORKER_NICE", str(mine + 2))
    assert niceness_of_a_started_worker() == mine + 2
    monkeypatch.setenv("WORKER_NICE", str(0 if mine > 0 else mine - 1))  # lower than now: left as it was
    assert niceness_of_a_started_worker() == mine


def test_a_worker_nice_that_is_not_a_number_is_refused_by_name(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from config.celery import lower_cpu_priority

    monkeypatch.setenv("WORKER_NICE", "high")
    with pytest.raises(ImproperlyConfigured, match="WORKER_NICE"):
        lower_cpu_priority()
