"""The dialect seam: SQL written for one database, behind one interface, chosen here once.

``dialect()`` is the only place outside the job's engine chooser (decision
0001) that asks which database CertHub runs on; every caller takes its SQL
spelling from the ``Dialect`` it returns (``certhub.sql.base``): a filter, a
JSON object, a month, a lock, a fold of delta rows, a bulk load, or one of a
concern's two whole implementations (``pick``). Decision 0031.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from certhub.sql.base import Dialect
from certhub.sql.postgresql import PostgreSQL, bigint_array
from certhub.sql.sqlite import SQLite

__all__ = ["Dialect", "bigint_array", "dialect", "pk_in"]

_POSTGRESQL = PostgreSQL()
_SQLITE = SQLite()


def dialect() -> Dialect:
    """The default database's dialect: PostgreSQL's, or SQLite's (which any other database runs)."""
    return _POSTGRESQL if connection.vendor == "postgresql" else _SQLITE


def pk_in(model, pks: Sequence[int]):
    """``pk IN pks`` as a filter; on PostgreSQL ``pk = ANY(%s::bigint[])`` with one array parameter.

    (This is how a filter is spelled, whatever the engine.)
    """
    return dialect().field_in(model, model._meta.pk.name, pks)
