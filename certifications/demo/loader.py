"""Writing the demo data set into the database: streamed chunk by chunk, COPY on PostgreSQL, bulk inserts elsewhere.

``seed`` checks the sizes, then (with ``replace``) empties the domain tables,
then writes each chunk of rows as ``DatasetStream`` generates it, so that
memory holds one chunk at a time whatever the size of the set. How rows are
written fast is the dialect's (``certhub.sql``): ``COPY`` into tables whose
secondary indexes and constraints are rebuilt after the load on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from certhub.sql import dialect
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
    dialect().empty_tables((*referencing_models(), *DOMAIN_MODELS))


def load(chunks: Iterable[tuple[str, list[tuple]]]) -> None:
    """Write each ``(table, rows)`` chunk as it comes into empty tables, in one transaction; then analyze.

    On PostgreSQL the tables' secondary indexes, unique and foreign-key
    constraints are dropped for the load and rebuilt after it, and rows go by
    ``COPY``; elsewhere by bulk inserts (the dialect's bulk load).
    """
    sql = dialect()
    loaded = [model for model, _ in TABLES.values()]
    with transaction.atomic(), sql.deferred_indexes(loaded):
        for table, rows in chunks:
            model, columns = TABLES[table]
            sql.write_rows(model, columns, rows)
        sql.reset_sequences(loaded)
        # The load bypassed the services, which keep the totals: count them once, set-based.
        tallies_rebuild()
    analyze()


def analyze() -> None:
    """Refresh the planner's statistics of the domain tables."""
    dialect().analyze(DOMAIN_MODELS)


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
