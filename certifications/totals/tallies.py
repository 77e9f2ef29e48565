"""The write side of the maintained totals: delta rows per write, set-based per job chunk, and the fold.

``certifications.services.effects`` calls these inside the write's own
transaction, so a total is never ahead of or behind the rows it counts. Only
inserts: concurrent writers never wait on each other here. ``tallies_fold``
(a periodic task) sums each key's rows into one; ``tallies_rebuild`` recounts
everything (after a bulk load that bypassed the services). Both do the mentors'
tally (``mentors``) and the registered tables' states (``states``) too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.db.models.functions import TruncDate

from certhub.sql import bigint_array, dialect, pk_in
from certifications.models import Certification, CertificationStatus
from certifications.totals import mentors, states
from certifications.totals.models import CertificationTally, Span

STATUSES = tuple(CertificationStatus.values)  # valid, expired, revoked: one column each
TABLE = CertificationTally._meta.db_table
KEY = "certification_type_id, deleted, span, expires_on"
COLUMNS = f"{KEY}, valid, expired, revoked"

Key = tuple[int, bool, dt.date]


def expires_on(expires_at: dt.datetime) -> dt.date:
    """The tally day of an expiry: its UTC date."""
    return expires_at.astimezone(dt.UTC).date()


def _key(fields: Mapping[str, Any]) -> tuple[Key, str]:
    deleted = fields["deleted_at"] is not None
    return (fields["certification_type_id"], deleted, expires_on(fields["expires_at"])), fields["status"]


def tally_certification_written(*, before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> None:
    """One record written: minus one under its old key and status, plus one under the new (nothing if unmoved).

    ``before`` and ``after`` hold at least ``certification_type_id``,
    ``deleted_at``, ``expires_at`` and ``status``; ``before`` is None for a new record.
    """
    moves = [(_key(after), 1)]
    if before is not None:
        if _key(before) == _key(after):
            return
        moves.append((_key(before), -1))
    _insert_moves(moves)


def tally_certifications_created(*, afters: Iterable[Mapping[str, Any]]) -> None:
    """New records (a bulk create): plus one each under its key and status, summed per key, in one ``INSERT``."""
    _insert_moves((_key(after), 1) for after in afters)


def tally_records_created(*, pks: Sequence[int]) -> None:
    """PostgreSQL: the rows ``tally_certifications_created`` writes for records ``pks``, in one statement."""
    if not pks:
        return
    counts = ", ".join(f"count(*) FILTER (WHERE c.status = '{status}')" for status in STATUSES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} ({COLUMNS}) "
            f"SELECT c.certification_type_id, c.deleted_at IS NOT NULL, s.span, s.on_day, {counts} "
            f"FROM {Certification._meta.db_table} c CROSS JOIN LATERAL (VALUES "
            f"(%s, (c.expires_at AT TIME ZONE 'UTC')::date), "
            f"(%s, date_trunc('month', c.expires_at AT TIME ZONE 'UTC')::date)) AS s (span, on_day) "
            f"WHERE c.id = ANY(%s::bigint[]) GROUP BY 1, 2, 3, 4",
            [Span.DAY, Span.MONTH, bigint_array(pks)],
        )


def _insert_moves(moves: Iterable[tuple[tuple[Key, str], int]]) -> None:
    """One delta row per day key and one per month key: the ``(key, status), sign`` moves summed, in one ``INSERT``."""
    rows: dict[tuple[str, Key], dict[str, int]] = {}
    for ((type_id, deleted, day), status), sign in moves:
        for span, on in ((Span.DAY, day), (Span.MONTH, day.replace(day=1))):
            rows.setdefault((span, (type_id, deleted, on)), dict.fromkeys(STATUSES, 0))[status] += sign
    dialect().insert_objects(
        [
            CertificationTally(certification_type_id=type_id, deleted=deleted, span=span, expires_on=on, **counts)
            for (span, (type_id, deleted, on)), counts in rows.items()
        ]
    )


def tally_records_expired(*, pks: Sequence[int]) -> None:
    """The job's step 1 moved live records ``pks`` from valid to expired: one ``INSERT … SELECT``, grouped by key."""
    if not pks:
        return
    groups = (
        Certification.objects.filter(pk_in(Certification, pks))
        .order_by()
        .annotate(day=TruncDate("expires_at", tzinfo=dt.UTC))
        .values("certification_type_id", "day")
        .annotate(n=Count("pk"))
    )
    sql, params = groups.query.sql_with_params()
    month = dialect().month_start("g.day")
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH g AS ({sql}) INSERT INTO {TABLE} ({COLUMNS}) "
            f"SELECT g.certification_type_id, %s, %s, g.day, -g.n, g.n, 0 FROM g UNION ALL "
            f"SELECT g.certification_type_id, %s, %s, {month}, -SUM(g.n), SUM(g.n), 0 FROM g "
            f"GROUP BY g.certification_type_id, {month}",
            [*params, False, Span.DAY, False, Span.MONTH],
        )


def tallies_fold() -> int:
    """Sum every key's delta rows into one row (dropping keys that sum to zero); return the rows removed.

    The dialect's fold: on PostgreSQL one statement, which leaves a writer's
    uncommitted delta for the next fold; elsewhere writes are serialised, and
    the same is done in this transaction by id.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        removed = dialect().fold(cursor, table=TABLE, key=KEY, values=STATUSES)
        removed += dialect().fold(cursor, table=mentors.TABLE, key=mentors.KEY, values=mentors.VALUES)
        removed += dialect().fold(cursor, table=states.TABLE, key=states.KEY, values=states.VALUES)
        # A lone row summing to zero counts for nothing.
        cursor.execute(f"DELETE FROM {TABLE} WHERE valid = 0 AND expired = 0 AND revoked = 0")
        removed += cursor.rowcount
        cursor.execute(f"DELETE FROM {mentors.TABLE} WHERE mentors = 0")
        removed += cursor.rowcount
        cursor.execute(f"DELETE FROM {states.TABLE} WHERE rows = 0")
        return removed + cursor.rowcount


def tallies_rebuild() -> int:
    """Recount every tally from the certifications and mentors themselves (after a bulk load); return the rows written.

    The day rows are counted from the records, the month rows summed from the day
    rows, the mentors' groups from the mentors, the registered tables' states from their rows.
    """
    groups = (
        Certification.objects.order_by()
        .annotate(
            day=TruncDate("expires_at", tzinfo=dt.UTC),
            gone=ExpressionWrapper(Q(deleted_at__isnull=False), output_field=BooleanField()),
        )
        .values("certification_type_id", "gone", "day")
        .annotate(
            n_valid=Count("pk", filter=Q(status=CertificationStatus.VALID)),
            n_expired=Count("pk", filter=Q(status=CertificationStatus.EXPIRED)),
            n_revoked=Count("pk", filter=Q(status=CertificationStatus.REVOKED)),
        )
    )
    sql, params = groups.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # Writers insert deltas meanwhile: wait for them, and hold them off until the recount commits.
        dialect().lock_table(cursor, TABLE)
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute(
            f"INSERT INTO {TABLE} ({COLUMNS}) "
            f"SELECT g.certification_type_id, g.gone, %s, g.day, g.n_valid, g.n_expired, g.n_revoked FROM ({sql}) g",
            [Span.DAY, *params],
        )
        written = cursor.rowcount
        month = dialect().month_start("expires_on")
        cursor.execute(
            f"INSERT INTO {TABLE} ({COLUMNS}) "
            f"SELECT certification_type_id, deleted, %s, {month}, SUM(valid), SUM(expired), SUM(revoked) "
            f"FROM {TABLE} WHERE span = %s GROUP BY certification_type_id, deleted, {month}",
            [Span.MONTH, Span.DAY],
        )
        written += cursor.rowcount
        dialect().lock_table(cursor, mentors.TABLE)
        cursor.execute(f"DELETE FROM {mentors.TABLE}")
        cursor.execute(*mentors.rebuild_sql())
        written += cursor.rowcount
        return written + states_rebuild(cursor)


def states_rebuild(cursor) -> int:
    """Recount the registered tables per state (``states``) under a lock of their tally; return the rows written.

    In the caller's transaction (benchmarks that empty a table of deliveries call it alone).
    """
    dialect().lock_table(cursor, states.TABLE)
    cursor.execute(f"DELETE FROM {states.TABLE}")
    written = 0
    for sql, params in states.rebuild_sql():
        cursor.execute(sql, params)
        written += cursor.rowcount
    return written
