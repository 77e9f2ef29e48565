"""Gauges read from the database at scrape time, registered by the app that owns the data.

Each app lists its gauges (``certifications/metrics.py``, ``events/metrics.py``,
``notifications/metrics.py``) and registers them in its ``AppConfig.ready()``, as the
reacting apps register their write receivers (decision 0029): ``certhub`` reads no
other app's tables. A gauge reads through an index or a maintained total, never by
counting a big table. A labelled gauge names every value of its labels, so a series
is 0, never missing, while nothing is in that state.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily


@dataclass(frozen=True)
class Gauge:
    """One gauge: ``read(now)`` answers a number, or (labelled) a mapping from label values to numbers."""

    name: str
    help: str
    read: Callable[[dt.datetime], float | Mapping[tuple[str, ...], float]]
    labels: Sequence[str] = ()
    # Every combination of label values, each shown (0 when ``read`` does not name it).
    values: Iterable[tuple[str, ...]] = ()


_gauges: dict[str, Gauge] = {}
# The answers of ``once_per_scrape`` reads during one scrape (None outside a scrape).
_scrape_answers: ContextVar[dict | None] = ContextVar("scrape_answers", default=None)


def register(*gauges: Gauge) -> None:
    """Add gauges to every scrape (called from an app's ``ready()``; registering a name again replaces it)."""
    for gauge in gauges:
        _gauges[gauge.name] = gauge


def registered() -> list[Gauge]:
    return list(_gauges.values())


def once_per_scrape(read: Callable[[dt.datetime], object]) -> Callable[[dt.datetime], object]:
    """``read(now)`` run once per scrape, however many gauges ask (several figures of one row, one query)."""

    @functools.wraps(read)
    def shared(now: dt.datetime):
        answers = _scrape_answers.get()
        if answers is None:
            return read(now)
        if read not in answers:
            answers[read] = read(now)
        return answers[read]

    return shared


def age_seconds(oldest: dt.datetime | None, now: dt.datetime) -> float:
    """Seconds since ``oldest`` (0 when there is nothing waiting)."""
    return max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0


class DatabaseGauges:
    """The prometheus_client collector of the registered gauges, read once per scrape at one ``now``."""

    def collect(self):
        now = timezone.now()
        token = _scrape_answers.set({})
        try:
            answers = [(gauge, gauge.read(now)) for gauge in _gauges.values()]
        finally:
            _scrape_answers.reset(token)
        for gauge, answer in answers:
            family = GaugeMetricFamily(gauge.name, gauge.help, labels=list(gauge.labels) or None)
            if gauge.labels:
                counts = dict(answer)
                for key in gauge.values:
                    family.add_metric(list(key), float(counts.get(key, 0)))
            else:
                family.add_metric([], float(answer))
            yield family
