"""Fresh copies of the seeded database for each contender: ``CREATE DATABASE ... TEMPLATE`` (PostgreSQL).

The seeded database is never written by a contender: before each one,
``fresh_copy`` drops the work database and creates it again as a file copy of
the seeded one (``STRATEGY FILE_COPY``: the files are copied as they are,
without writing every page to the WAL), and ``on_database`` points this
process's connection (and so the contender's process, ``expiry.postgres_url``)
at it. A copy takes about as long as the disk takes to copy the files: seconds
at a million records, a minute or two at ten million, where putting a snapshot
back with ``INSERT ... SELECT`` and rebuilding the indexes took several.

The job's result tables are made in its copy; ``results_transfer`` streams
them (``COPY ... TO STDOUT`` into ``COPY ... FROM STDIN``, in chunks, so the
memory stays flat) into the floor's copy, where they are compared.

Needs a user that may create databases (``CREATEDB``) and a source database
nobody else is connected to while it is copied.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import psycopg
from django.db import connection

# The work databases are named after the seeded one.
SUFFIXES = ("_bench_a", "_bench_b")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _connect(dbname: str, *, autocommit: bool = True) -> psycopg.Connection:
    """A connection of its own (not Django's) to ``dbname`` with the configured user, host and port."""
    db = connection.settings_dict
    params = {"dbname": dbname, "host": db.get("HOST") or "127.0.0.1", "port": db.get("PORT") or "5432"}
    params |= {key: db[name] for key, name in (("user", "USER"), ("password", "PASSWORD")) if db.get(name)}
    return psycopg.connect(autocommit=autocommit, **params)


def seeded_name() -> str:
    """The configured (seeded) database's name."""
    return connection.settings_dict["NAME"]


def work_names() -> tuple[str, str]:
    """The two work databases: the job's (and the per-row loop's) and the floor's."""
    seeded = seeded_name()
    return tuple(seeded + suffix for suffix in SUFFIXES)


def fresh_copy(name: str, *, source: str) -> None:
    """Drop ``name`` if it exists and create it again as a copy of ``source``.

    Django's connection is closed first (``source`` must have no session while it is copied).
    """
    connection.close()
    with _connect("postgres") as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {_quoted(name)} TEMPLATE {_quoted(source)} STRATEGY FILE_COPY")


def drop(names: Iterable[str]) -> None:
    """Drop the work databases (those that exist)."""
    connection.close()
    with _connect("postgres") as admin:
        for name in names:
            admin.execute(f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)")


@contextmanager
def on_database(name: str) -> Iterator[None]:
    """Inside the block, this process's default connection (and ``postgres_url()``) is on ``name``."""
    settings_dict = connection.settings_dict
    seeded = settings_dict["NAME"]
    connection.close()
    settings_dict["NAME"] = name
    try:
        yield
    finally:
        connection.close()
        settings_dict["NAME"] = seeded


def results_transfer(tables: dict[str, str], *, source: str) -> None:
    """Copy the result tables ``tables`` (name -> the query they were made from) from ``source`` into this database.

    Each table is created empty from its own query here (same columns and
    types), then filled by streaming ``COPY`` between the two servers' sessions.
    """
    with _connect(source, autocommit=False) as src, connection.cursor() as cursor:
        for table, query in tables.items():
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(f"CREATE UNLOGGED TABLE {table} AS {query} WITH NO DATA")
            with (
                src.cursor().copy(f"COPY {table} TO STDOUT") as out,
                cursor.cursor.copy(f"COPY {table} FROM STDIN") as into,
            ):
                for data in out:
                    into.write(data)
