"""The dialect interface: each concern's SQL spelling, one method (or a few) per concern.

A ``Dialect`` knows no model of the domain: the callers pass tables, columns,
models and queries, and keep the meaning. Two implementations:
``certhub.sql.sqlite`` (SQLite, and the ORM where SQL differs) and
``certhub.sql.postgresql``; ``certhub.sql.dialect()`` picks one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from django.db.backends.utils import CursorWrapper
from django.db.models import Model, QuerySet

from certhub.sql.statements import CompiledEachTime, CompiledOnce

T = TypeVar("T")


class Dialect(ABC):
    """How this database spells what the set-based writes, the totals, the feed and the demo load need."""

    # -- a concern with two whole implementations (as the job's engines) --

    @abstractmethod
    def pick(self, *, postgresql: T, sqlite: T) -> T:
        """Of a concern's two implementations, the one for this database (SQLite's runs anywhere else)."""

    # -- filters --

    @abstractmethod
    def field_in(self, model: type[Model], field: str, values: Iterable[Any]):
        """``field IN values`` as a filter for ``model``'s queries."""

    @abstractmethod
    def prepared(self, build: Callable[..., QuerySet], **samples: Any) -> CompiledEachTime | CompiledOnce:
        """The read ``build(**arguments)`` (a ``values_list``) as ``rows(**arguments)`` and ``sql_with_params``.

        On PostgreSQL compiled once, from ``samples`` (a timestamp or a non-empty list
        per argument, values no caller sends), when the statement's text cannot depend
        on the values (lists through ``field_in``); elsewhere the queryset each call.
        """

    @abstractmethod
    def fetch_rows(self, sql: str, params: Sequence[Any]) -> list[tuple]:
        """Run one compiled statement and fetch its rows (on PostgreSQL, timestamps loaded by psycopg's C loader)."""

    @abstractmethod
    def listed_pks(self, queryset: QuerySet) -> array:
        """The primary keys ``queryset`` lists, in key order, as a compact array (8 bytes a key).

        On PostgreSQL they come back as one binary value read straight into the
        array: the process never holds the listing as rows and Python integers.
        """

    def listed_pk_chunks(self, queryset: QuerySet, *, size: int) -> Iterator[list[int]]:
        """The primary keys ``queryset`` lists, in key order, ``size`` at a time (inside a transaction).

        On PostgreSQL they are fetched from a cursor on the server, chunk by
        chunk, so the process holds one chunk whatever the listing's length
        (a ``FOR UPDATE`` listing locks each chunk's rows as it is fetched, and
        rows changed meanwhile are checked again then). Elsewhere the listing
        is read whole (``listed_pks``) and cut.
        """
        listed = self.listed_pks(queryset)
        for start in range(0, len(listed), size):
            yield listed[start : start + size].tolist()

    # -- JSON and dates in SQL --

    @abstractmethod
    def json_with_new_values(self, constant: dict[str, Any], per_row: dict[str, str]) -> tuple[str, list[Any]]:
        """SQL for a JSON object: ``constant`` merged with ``{field: [null, <column>]}`` for each of ``per_row``.

        ``per_row`` maps a field to a column of the queried table, already quoted.
        """

    @abstractmethod
    def json_key_replaced(self, column: str, key: str, value: Any) -> tuple[str, str, list[Any], list[Any]]:
        """``(expression, condition, expression params, condition params)``: the JSON ``column`` with its
        top-level ``key``'s value replaced by ``value``, and the condition that ``column`` holds ``key``."""

    @abstractmethod
    def month_start(self, column: str) -> str:
        """SQL for the first day of the month of the date ``column``."""

    # -- locks inside the caller's transaction --

    @abstractmethod
    def lock_transaction(self, cursor: CursorWrapper, key: int) -> None:
        """Hold the lock ``key`` until the transaction ends: one holder at a time (writers already are one)."""

    @abstractmethod
    def lock_table(self, cursor: CursorWrapper, table: str) -> None:
        """Wait for the table's writers, and hold new ones off until the transaction ends."""

    # -- delta rows --

    @abstractmethod
    def fold(self, cursor: CursorWrapper, *, table: str, key: str, values: Sequence[str]) -> int:
        """Sum the ``values`` of each ``key`` holding several rows into one row (none if all sums are zero).

        Returns the rows removed. Inside a transaction; a writer's uncommitted
        row is left for the next fold.
        """

    # -- bulk loading into empty tables --

    @abstractmethod
    def empty_tables(self, models: Sequence[type[Model]]) -> None:
        """Delete every row of ``models``' tables (given referencing tables first)."""

    @abstractmethod
    def deferred_indexes(self, models: Sequence[type[Model]]) -> AbstractContextManager[None]:
        """Inside the block, the tables may have lost their secondary indexes and constraints; rebuilt after it."""

    @abstractmethod
    def insert_objects(self, objs: Sequence[Model]) -> None:
        """Insert ``objs`` (new instances of one model) as ``bulk_create`` does, in as many statements; sets their pks.

        For the bulk writes of many rows: on PostgreSQL the values travel as one
        JSON parameter, which the client encodes in one pass, where a
        ``bulk_create`` has each value prepared by its field and quoted by the driver.
        """

    @abstractmethod
    def insert_rows(self, model: type[Model], rows: Sequence[dict[str, Any]]) -> list[int]:
        """Insert ``rows`` (a value per field ``attname`` of ``model`` but its pk) as ``insert_objects`` does; pks."""

    @abstractmethod
    def write_rows(self, model: type[Model], columns: Sequence[str], rows: list[tuple]) -> None:
        """Insert ``rows`` (values in COPY's text form, JSON as text) into ``model``'s ``columns``."""

    @abstractmethod
    def reset_sequences(self, models: Sequence[type[Model]]) -> None:
        """After rows were written with explicit ids: the next id drawn is above the highest."""

    @abstractmethod
    def analyze(self, models: Sequence[type[Model]]) -> None:
        """Refresh the planner's statistics of ``models``' tables."""


def fold_terms(key: str, values: Sequence[str]) -> tuple[str, str, str]:
    """The columns of a fold's rows, their sums, and the condition that a sum is not zero."""
    columns = ", ".join((key, *values))
    sums = ", ".join(f"SUM({value})" for value in values)
    nonzero = " OR ".join(f"SUM({value}) <> 0" for value in values)
    return columns, sums, nonzero
