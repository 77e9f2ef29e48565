"""Writing the demo data set into the database: streamed chunk by chunk, COPY on PostgreSQL, bulk inserts elsewhere.

``seed`` checks the sizes, then (with ``replace``) empties the domain tables,
then writes each chunk of rows as ``DatasetStream`` generates it, so that
memory holds one chunk at a time whatever the size of the set. On PostgreSQL
the tables' secondary indexes, unique and foreign-key constraints are dropped
for the load and rebuilt after it (``deferred_indexes``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from django.db import connection, models, transaction

from certifications.demo.dataset import (
    CERT_COLUMNS,
    LOG_COLUMNS,
    MENTOR_COLUMNS,
    RUN_COLUMNS,
    DatasetStream,
    SeedSummary,
)
from certifications.demo.layout import SeedError, SeedSpec
from certifications.demo.progress import Progress
from certifications.models import AutoPauseLog, Certification, ExpiryJobRun, HistoryEntry, JobLock, Mentor
from certifications.totals.models import CertificationTally
from certifications.totals.tallies import tallies_rebuild

# The tallies are derived from the certifications: emptied with them, recounted after a load.
DOMAIN_MODELS = (HistoryEntry, AutoPauseLog, CertificationTally, Certification, Mentor, ExpiryJobRun, JobLock)
# The stream's table keys: the model and the order of the columns in its rows.
TABLES = {
    "mentors": (Mentor, MENTOR_COLUMNS),
    "certifications": (Certification, CERT_COLUMNS),
    "runs": (ExpiryJobRun, RUN_COLUMNS),
    "logs": (AutoPauseLog, LOG_COLUMNS),
}


def is_empty() -> bool:
    """True when there are no mentors, certifications or runs yet."""
    return not (Mentor.objects.exists() or Certification.objects.exists() or ExpiryJobRun.objects.exists())


def referencing_models() -> list[type]:
    """Models outside the domain tables whose rows point at them (notifications, ...): flushed with them."""
    found: list[type] = []
    for model in DOMAIN_MODELS:
        # Reverse relations, hidden ones (related_name="+") included.
        for relation in model._meta.get_fields(include_hidden=True):
            if not (relation.is_relation and relation.auto_created and not relation.concrete):
                continue
            if relation.related_model not in (*DOMAIN_MODELS, *found):
                found.append(relation.related_model)
    return found


def flush() -> None:
    """Delete every mentor, certification, log row, run and lock (the domain data, not types or users).

    Rows of other tables that point at them (``referencing_models``) go too.
    """
    if connection.vendor == "postgresql":
        tables = ", ".join(model._meta.db_table for model in (*referencing_models(), *DOMAIN_MODELS))
        with connection.cursor() as cursor:
            # Rows written earlier in this transaction leave deferred foreign-key checks
            # pending, and TRUNCATE refuses a table with pending checks: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY")
        return
    with transaction.atomic():
        for model in (*referencing_models(), *DOMAIN_MODELS):
            model.objects.all()._raw_delete(using=connection.alias)


@contextmanager
def deferred_indexes(models: Sequence[type]) -> Iterator[None]:
    """On PostgreSQL, drop the tables' secondary indexes, unique and foreign-key constraints, then rebuild them.

    Bulk loading then writes bare heaps, and each index is built once, sorted,
    instead of taking a million random insertions. Use inside a transaction;
    elsewhere this does nothing.
    """
    if connection.vendor != "postgresql":
        yield
        return
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
            "WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('u', 'f') ORDER BY contype DESC",
            [tables],
        )
        constraints = cursor.fetchall()  # foreign keys first: they depend on the unique ones
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x'))",
            [tables],
        )
        indexes = cursor.fetchall()
        for table, name, _, _ in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition, _ in reversed(constraints):
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def load(chunks: Iterable[tuple[str, list[tuple]]]) -> None:
    """Write each ``(table, rows)`` chunk as it comes into empty tables, in one transaction; then analyze."""
    write = _copy if connection.vendor == "postgresql" else _bulk_insert
    with transaction.atomic(), deferred_indexes([model for model, _ in TABLES.values()]):
        for table, rows in chunks:
            model, columns = TABLES[table]
            write(model, columns, rows)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model, _ in TABLES.values():
                    table = model._meta.db_table
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                    )
        # The load bypassed the services, which keep the totals: count them once, set-based.
        tallies_rebuild()
    analyze()


def _copy(model, columns: Sequence[str], rows: list[tuple]) -> None:
    table = model._meta.db_table
    # The Django cursor wraps psycopg 3's, whose copy() streams rows in COPY's text format.
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _bulk_insert(model, columns: Sequence[str], rows: list[tuple]) -> None:
    attnames = [_field(model, column).attname for column in columns]
    # Rows carry JSON columns as COPY text ('[]'); a model instance needs the value itself,
    # or the field would store the JSON *string* "[]".
    json_at = [i for i, column in enumerate(columns) if isinstance(_field(model, column), models.JSONField)]

    def instance(row: tuple):
        values = list(row)
        for i in json_at:
            if isinstance(values[i], str):
                values[i] = json.loads(values[i])
        return model(**dict(zip(attnames, values, strict=True)))

    model.objects.bulk_create([instance(row) for row in rows], batch_size=len(rows))


def _field(model, column: str):
    for fld in model._meta.concrete_fields:
        if fld.column == column:
            return fld
    raise LookupError(column)


def analyze() -> None:
    """Refresh the planner's statistics of the domain tables."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tables = ", ".join(model._meta.db_table for model in DOMAIN_MODELS)
            cursor.execute(f"ANALYZE {tables}")
        else:
            cursor.execute("ANALYZE")


def seed(spec: SeedSpec, *, show_progress: bool = False, replace: bool = False, chunk: int = 20_000) -> SeedSummary:
    """Generate ``spec``'s data set and write it as it is generated; returns its summary.

    Refuses a database holding domain data unless ``replace``. The sizes are
    checked (``SeedError``) before anything is deleted or written.
    """
    bar = Progress("seeding", spec.certs, enabled=show_progress)
    stream = DatasetStream(spec, chunk=chunk, progress=bar.advance)
    if not is_empty():
        if not replace:
            raise SeedError("The database already holds mentors, certifications or runs (use --flush to replace them).")
        flush()
    load(stream)
    bar.finish()
    return stream.summary
