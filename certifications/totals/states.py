"""Maintained totals of rows per state, for the tables of the apps that react to the domain (deliveries, notices).

A reacting app registers each model with a ``state`` column from its ``ready()``
(``register``); ``certifications`` never imports the app. Its writes then add the
deltas of what they did, in their own transaction: ``tally_states`` for moves known
in Python (one ``INSERT`` of a row or two), ``insert_sql`` inside the set-based
statements (a data-modifying ``WITH`` over the rows the statement wrote: no statement
added), ``tally_rows_deleted`` before a delete. As the other tallies, only inserts:
no hot row; ``tallies_fold`` folds them, ``tallies_rebuild`` recounts the registered
tables. A read sums a table of a few rows per state (decision 0044).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.db.models import Count, Model, QuerySet, Sum

from certhub.metrics.gauges import once_per_scrape
from certifications.totals.models import StateTally

TABLE = StateTally._meta.db_table
KEY = "counted, state"
VALUES = ("rows",)
COLUMNS = f"{KEY}, rows"

_counted: dict[str, type[Model]] = {}


def label(model: type[Model]) -> str:
    """The name a model's rows are tallied under (its label, ``events.webhookdelivery``)."""
    return model._meta.label_lower


def register(model: type[Model]) -> None:
    """Keep ``model``'s rows per ``state`` (called from its app's ``ready()``)."""
    _counted[label(model)] = model


def counted_models() -> list[type[Model]]:
    return list(_counted.values())


def tally_states(model: type[Model], moves: Mapping[str, int]) -> None:
    """Rows of ``model`` that entered (+n) or left (-n) each state: one ``INSERT`` (nothing when all are zero)."""
    rows = [StateTally(counted=label(model), state=state, rows=n) for state, n in moves.items() if n]
    if rows:
        StateTally.objects.bulk_create(rows)


def tally_moved(model: type[Model], *, before: str, after: str, count: int = 1) -> None:
    """``count`` rows of ``model`` moved from state ``before`` to ``after`` (nothing when unmoved)."""
    if before != after and count:
        tally_states(model, {after: count, before: -count})


def insert_sql(model: type[Model], source: str, *, sign: str = "") -> str:
    """The ``INSERT`` adding per state the rows of ``source`` (a ``WITH`` name with a ``state`` column).

    For a data-modifying ``WITH`` of the statement that inserted (or, ``sign``
    ``-``, deleted) them: PostgreSQL runs it whether or not the statement reads it.
    """
    return (
        f"INSERT INTO {TABLE} ({COLUMNS}) "
        f"SELECT '{label(model)}', {source}.state, {sign}COUNT(*) FROM {source} GROUP BY {source}.state"
    )


def tally_rows_deleted(queryset: QuerySet) -> None:
    """Lock the rows of ``queryset`` and subtract them per state: call it right before deleting them, atomically."""
    rows = queryset.order_by().select_for_update().values("state")
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"WITH gone AS ({sql}) {insert_sql(queryset.model, 'gone', sign='-')}", params)


def state_totals() -> dict[str, dict[str, int]]:
    """Rows per state of every registered table, by label (states with none left out); one query of a small table."""
    found: dict[str, dict[str, int]] = {}
    rows = StateTally.objects.order_by().values_list("counted", "state").annotate(n=Sum("rows"))
    for counted, state, n in rows:
        if n:
            found.setdefault(counted, {})[state] = n
    return found


@once_per_scrape
def _scraped(now: dt.datetime) -> dict[str, dict[str, int]]:
    return state_totals()


def state_gauge(model: type[Model]):
    """A gauge's read of ``model``'s rows per state, ``{(state,): n}``; the gauges of one scrape share one query."""

    def read(now: dt.datetime) -> dict[tuple[str], int]:
        return {(state,): n for state, n in _scraped(now).get(label(model), {}).items()}

    return read


def rebuild_sql() -> list[tuple[str, list[Any]]]:
    """The ``INSERT … SELECT`` statements that recount every registered table per state (into an emptied tally)."""
    statements = []
    for counted, model in _counted.items():
        groups = model._default_manager.order_by().values("state").annotate(n=Count("*"))
        sql, params = groups.query.sql_with_params()
        insert = f"INSERT INTO {TABLE} ({COLUMNS}) SELECT %s, g.state, g.n FROM ({sql}) g"
        statements.append((insert, [counted, *params]))
    return statements
