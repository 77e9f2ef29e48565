"""Retention: kept data goes once its window has passed, in batches of bounded size (DESIGN "Personal data").

Each app registers the kinds of data it keeps (``retention_register`` in its
``ready()``): a model, the setting that holds the window in days, which rows of
a stretch of ids have gone past it, and what is done to them (deleted, or their
personal fields blanked). ``retention_apply`` walks each kind's table by its
primary key, ``batch_size`` ids at a time, from the lowest id to the highest
one present when the walk starts; each stretch is one short transaction of a
few set-based statements, so no lock on a busy table is held for longer than
one batch, on PostgreSQL as on SQLite. A dry run counts what each batch would
take instead. Decision 0042; docs/personal-data.md "Retention".
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.db import models, transaction

Selector = Callable[[models.QuerySet, dt.datetime], models.QuerySet]
Action = Callable[[models.QuerySet], int]


@dataclass(frozen=True)
class RetentionKind:
    """One kind of kept data: whose rows, how long (a key of ``settings.RETENTION``), which go, and how."""

    name: str
    model: type[models.Model]
    window: str  # e.g. "EVENTS_DAYS"
    action: str  # what happens to a row that goes: "deleted" or "blanked"
    select: Selector  # the rows of a stretch of ids that have gone past the cutoff
    apply: Action  # deletes or blanks the selected rows; returns how many (runs inside the batch's transaction)


@dataclass
class KindReport:
    kind: str
    action: str
    window_days: int
    cutoff: str
    rows: int = 0
    batches: int = 0


@dataclass
class RetentionReport:
    dry_run: bool
    batch_size: int
    kinds: list[KindReport] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


_KINDS: dict[str, RetentionKind] = {}


def retention_register(*kinds: RetentionKind) -> None:
    """Add kinds of kept data to the retention run (called from an app's ``ready()``; repeat-safe)."""
    for kind in kinds:
        _KINDS[kind.name] = kind


def retention_kinds() -> list[RetentionKind]:
    return list(_KINDS.values())


def retention_apply(
    *,
    now: dt.datetime,
    dry_run: bool = False,
    batch_size: int | None = None,
    pause_ms: int | None = None,
    rest_factor: float | None = None,
) -> RetentionReport:
    """Apply every registered kind's window at ``now``; with ``dry_run``, only count what would go.

    After each batch that changed rows the run rests ``pause_ms`` (``RETENTION_BATCH_PAUSE_MS``)
    plus ``rest_factor`` (``RETENTION_BATCH_REST_FACTOR``) times as long as the batch took: with
    a factor of 3 it works at most a quarter of the time, whatever the machine's speed.
    """
    batch_size = batch_size or settings.RETENTION["BATCH_SIZE"]
    pause = (settings.RETENTION["BATCH_PAUSE_MS"] if pause_ms is None else pause_ms) / 1000
    factor = settings.RETENTION["BATCH_REST_FACTOR"] if rest_factor is None else rest_factor
    report = RetentionReport(dry_run=dry_run, batch_size=batch_size)
    for kind in _KINDS.values():
        days = settings.RETENTION[kind.window]
        cutoff = now - dt.timedelta(days=days)
        kind_report = KindReport(kind=kind.name, action=kind.action, window_days=days, cutoff=cutoff.isoformat())
        started = time.monotonic()
        for selected in _batches(kind, cutoff, batch_size):
            if dry_run:
                kind_report.rows += selected.count()
            else:
                with transaction.atomic():
                    changed = kind.apply(selected)
                kind_report.rows += changed
                rest = pause + factor * (time.monotonic() - started)
                if changed and rest > 0:
                    time.sleep(rest)
            kind_report.batches += 1
            started = time.monotonic()
        report.kinds.append(kind_report)
    return report


def _batches(kind: RetentionKind, cutoff: dt.datetime, batch_size: int):
    """The selected rows of each stretch of ``batch_size`` ids, lowest first; empty stretches are skipped."""
    rows = kind.model._default_manager.order_by("pk").values_list("pk", flat=True)
    low, last = rows.first(), rows.last()
    while low is not None and low <= last:
        high = low + batch_size
        yield kind.select(kind.model._default_manager.filter(pk__gte=low, pk__lt=high), cutoff)
        # The next id present: a stretch of deleted ids costs one index lookup, not a batch.
        low = rows.filter(pk__gte=high).first()


def delete_rows(selected: models.QuerySet) -> int:
    """``DELETE FROM <its table> WHERE <selected's own conditions>``: one statement, no rows fetched, no cascade.

    The stretch's conditions stay on the table itself (its primary key's range
    first), so the rows are found by index: never a join of the table with
    itself, which the planner may answer with a scan of the whole table per
    batch. The caller deletes the rows that refer to these first (their foreign
    keys are checked at commit).
    """
    return selected.order_by()._raw_delete(selected.db)  # Django's own fast delete, without the collector


def locked_ids(selected: models.QuerySet) -> list[int]:
    """Lock the ``selected`` rows until the batch commits and return their ids (at most one batch of them)."""
    return list(selected.order_by().select_for_update().values_list("pk", flat=True))


def _login_failures(rows: models.QuerySet, cutoff: dt.datetime) -> models.QuerySet:
    return rows.filter(window_ends_at__lt=cutoff)


def login_failure_kind() -> RetentionKind:
    """The login limits' counters (``certhub.login_limits``) whose window ended before the cutoff."""
    from certhub.models import LoginFailure

    return RetentionKind(
        name="login_failures",
        model=LoginFailure,
        window="LOGIN_FAILURES_DAYS",
        action="deleted",
        select=_login_failures,
        apply=delete_rows,
    )
