"""The heap a process holds once started, frozen out of the garbage collector's way (decision 0049).

A full collection walks every tracked object the process holds, and a started
Django process holds about 150,000 (modules, classes, URL patterns, serializers'
fields) that live as long as it does. Every few dozen requests a full
collection runs and pauses the request it falls in for tens of milliseconds
(about 20 ms of CPU on the development machine, several times that when the
machine is busy): that is a request's p99. ``gc.freeze`` moves the objects alive
at start into a permanent generation no collection walks; what requests
create is collected as before.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from django.urls import get_resolver


def freeze_startup_heap() -> int:
    """Load every view (the URLconf), collect once, then freeze what is alive; returns how many objects."""
    get_resolver().url_patterns  # noqa: B018 -- imports the URLconf and, through it, the views it routes to
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


@contextmanager
def startup_heap_frozen(*, freeze: bool = True) -> Iterator[int]:
    """A block run with the start-up heap frozen, as a server process has it, then unfrozen (benchmarks, tests).

    Yields how many objects were frozen (0 with ``freeze=False``).
    """
    frozen = freeze_startup_heap() if freeze else 0
    try:
        yield frozen
    finally:
        gc.unfreeze()
