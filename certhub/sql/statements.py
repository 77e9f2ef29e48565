"""A read built by the ORM and compiled once: each call swaps its own values into the parameters.

Compiling a queryset costs the client milliseconds when its expressions are rich
(the lifecycle's ``CASE`` and its ``EXISTS`` probes: about 3 ms for the
eligibility's records), the same work on every request. On PostgreSQL a
statement whose lists go as one array parameter (``field_in``) has the same text
whatever the values, so it is compiled once, from *samples* (values no caller
sends), and each call puts its values where the samples' went: a timestamp at
every place the sample timestamp took, a list as the one array ``field_in``
makes of it. ``Dialect.prepared`` gives this on PostgreSQL and, on SQLite
(where a list is as many placeholders as values), the queryset itself each time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db.models import QuerySet

Build = Callable[..., QuerySet]


def bigint_array(values: Iterable[int]) -> str:
    """``values`` as one PostgreSQL array literal (``{1,2,3}``), to be cast with ``::bigint[]``.

    Passed as a single string, the array costs the client one ``join``; as a
    Python list, psycopg quotes it element by element (a third of a second per
    10,000 due records).
    """
    return "{" + ",".join(str(int(value)) for value in values) + "}"


def _same(value: Any) -> Any:
    return value


def _placements(params: Sequence[Any], sample: Any) -> list[tuple[int, Callable[[Any], Any]]]:
    """Where ``sample`` went among ``params``, and how a value is made into what goes there."""
    if isinstance(sample, dt.datetime):
        return [(index, _same) for index, param in enumerate(params) if type(param) is type(sample) and param == sample]
    # ``field_in``'s one array parameter: an array literal for keys, a sorted list for anything else.
    for adapt in (bigint_array, sorted) if all(type(value) is int for value in sample) else (sorted,):
        found = [(index, adapt) for index, param in enumerate(params) if param == adapt(sample)]
        if len(found) == 1:
            return found
    return []


class CompiledEachTime:
    """A read built and compiled by the ORM on every call (any database)."""

    def __init__(self, build: Build):
        self.build = build

    def sql_with_params(self, **arguments: Any) -> tuple[str, list]:
        sql, params = self.build(**arguments).query.sql_with_params()
        return sql, list(params)

    def rows(self, **arguments: Any) -> list[tuple]:
        return list(self.build(**arguments))


class CompiledOnce:
    """A read compiled once, on first use, from samples of its arguments (timestamps, non-empty lists)."""

    def __init__(self, build: Build, fetch_rows: Callable[[str, Sequence[Any]], list[tuple]], **samples: Any):
        self.build, self.fetch_rows, self.samples = build, fetch_rows, samples
        self._compiled: tuple[str, list, list] | None = None

    def _compile(self) -> tuple[str, list, list]:
        sql, params = self.build(**self.samples).query.sql_with_params()
        slots = []
        for name, sample in self.samples.items():
            found = _placements(params, sample)
            if not found:
                raise ValueError(f"the sample {name!r} went to no parameter, or to several arrays")
            slots += [(index, name, adapt) for index, adapt in found]
        return sql, list(params), slots

    def sql_with_params(self, **arguments: Any) -> tuple[str, list]:
        if self._compiled is None:
            self._compiled = self._compile()
        sql, params, slots = self._compiled
        params = params.copy()
        for index, name, adapt in slots:
            params[index] = adapt(arguments[name])
        return sql, params

    def rows(self, **arguments: Any) -> list[tuple]:
        return self.fetch_rows(*self.sql_with_params(**arguments))
