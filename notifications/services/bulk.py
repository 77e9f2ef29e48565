"""Set-based creation of notification rows from a query of candidates, a fixed number of statements.

The candidates are a query annotated with the new rows' values (``ntf_mentor``,
``ntf_certification``, ``ntf_cycle``, ``ntf_offset``, ``ntf_recipient``,
``ntf_subject``, ``ntf_state``, ``ntf_error``). On PostgreSQL one
``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` writes them with ids drawn in
SQL, and adds what it inserted to the states' tally (``totals.states``) in the same
statement; elsewhere the ORM lists the candidates, draws ids checked free,
inserts them in one ``bulk_create`` that skips conflicts, and the tally's rows in
one more ``INSERT``. Either way the database constraints decide: a reminder
window already recorded, by this scan or a concurrent one, is never written twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet

from certhub.ids import ID_ATTEMPTS, drawn_id_sql, fresh_ids
from certhub.sql import dialect
from certifications.totals.states import insert_sql, tally_states
from notifications.models import Notification, NotificationState

logger = logging.getLogger("certhub.notifications")

FIELDS = ("ntf_mentor", "ntf_certification", "ntf_cycle", "ntf_offset", "ntf_recipient", "ntf_subject", "ntf_state")
TABLE = Notification._meta.db_table


def draw_id_sql(row: str) -> str:
    """A fresh ``ntf_`` id per row (``certhub.ids.drawn_id_sql``; ``row``: an expression of the row)."""
    return drawn_id_sql("ntf_", 8, row=row)


_DRAW_ID = draw_id_sql("cand.ntf_mentor")

INSERT_SQL = f"""
    WITH cand AS MATERIALIZED ({{candidates}}),
    inserted AS (
        INSERT INTO "{TABLE}" (notification_id, kind, mentor_id, certification_id, cycle_expires_at, offset_days,
                               recipient, subject, state, attempts, last_error, created_at)
        SELECT {_DRAW_ID}, %(kind)s, ntf_mentor::bigint, ntf_certification::bigint, ntf_cycle::timestamptz,
               ntf_offset::integer, ntf_recipient, left(ntf_subject, 255), ntf_state, 0, ntf_error, %(now)s
        FROM cand
        {{again}}
        ON CONFLICT DO NOTHING
        RETURNING notification_id, state
    ),
    tallied AS ({insert_sql(Notification, "inserted")})
    SELECT
        (SELECT count(*) FROM cand) AS candidates,
        (SELECT count(*) FROM inserted) AS inserted,
        (SELECT coalesce(array_agg(notification_id), '{{}}') FROM inserted WHERE state = %(queued)s) AS queued
"""


# On a second pass, the rows the first pass wrote are not candidates any more.
AGAIN_SQL = f"""
        WHERE NOT EXISTS (
            SELECT 1 FROM "{TABLE}" n
            WHERE n.kind = %(kind)s AND n.created_at = %(now)s AND n.mentor_id IS NOT DISTINCT FROM cand.ntf_mentor
              AND n.certification_id IS NOT DISTINCT FROM cand.ntf_certification
              AND n.offset_days IS NOT DISTINCT FROM cand.ntf_offset
        )
"""


@dataclass(frozen=True)
class Inserted:
    """What an insert wrote: how many rows, and the ids of those to send (the others were ``skipped``)."""

    count: int
    queued: list[str]


def notifications_insert(*, candidates: QuerySet, kind: str, now: dt.datetime) -> Inserted:
    """Insert one ``kind`` notification per candidate row, skipping conflicts."""
    insert = dialect().pick(postgresql=_insert_postgresql, sqlite=_insert_orm)
    return insert(candidates, kind=kind, now=now)


def candidates_values(candidates: QuerySet) -> QuerySet:
    """The candidate query reduced to the new rows' values (what both paths read)."""
    return candidates.order_by().values(*FIELDS, "ntf_error")


def _insert_postgresql(candidates: QuerySet, *, kind: str, now: dt.datetime) -> Inserted:
    sql, params = candidates_values(candidates).query.sql_with_params()
    # The compiled query's positional placeholders, then this statement's named ones: psycopg takes one style.
    sql, named = _named_placeholders(sql, params)
    queued: list[str] = []
    count = 0
    for attempt in range(ID_ATTEMPTS):
        statement = INSERT_SQL.replace("{candidates}", sql).replace("{again}", AGAIN_SQL if attempt else "")
        with connection.cursor() as cursor:
            cursor.execute(
                statement,
                {**named, "kind": kind, "now": now, "queued": NotificationState.QUEUED.value},
            )
            total, inserted, ids = cursor.fetchone()
        queued += ids
        count += inserted
        if inserted == total:
            break
        # A drawn id was taken, or a concurrent writer recorded the same window first:
        # ask again (a window now recorded is no longer a candidate).
        logger.info("%s notifications: %d of %d candidates not inserted; asking again", kind, total - inserted, total)
    return Inserted(count=count, queued=queued)


def _named_placeholders(sql: str, params) -> tuple[str, dict]:
    """A compiled query's positional ``%s`` as ``%(cN)s``, with its parameters by name (``%%`` kept)."""
    named: dict = {}

    def name(match: re.Match) -> str:
        if match.group(1) == "%":
            return "%%"
        key = f"c{len(named)}"
        named[key] = params[len(named)]
        return f"%({key})s"

    return re.sub(r"%([%s])", name, sql), named


def _insert_orm(candidates: QuerySet, *, kind: str, now: dt.datetime) -> Inserted:
    rows = list(candidates_values(candidates))
    if not rows:
        return Inserted(count=0, queued=[])
    ids = fresh_ids(Notification, field="notification_id", prefix="ntf_", count=len(rows))
    Notification.objects.bulk_create(
        [
            Notification(
                notification_id=notification_id,
                kind=kind,
                mentor_id=row["ntf_mentor"],
                certification_id=row["ntf_certification"],
                cycle_expires_at=row["ntf_cycle"],
                offset_days=row["ntf_offset"],
                recipient=row["ntf_recipient"],
                subject=row["ntf_subject"][:255],
                state=row["ntf_state"],
                last_error=row["ntf_error"],
                created_at=now,
            )
            for notification_id, row in zip(ids, rows, strict=True)
        ],
        ignore_conflicts=True,  # a window a concurrent scan recorded first stays recorded once
    )
    queued = [
        notification_id
        for notification_id, row in zip(ids, rows, strict=True)
        if row["ntf_state"] == NotificationState.QUEUED
    ]
    # Writes are serialised here (decision 0014): no concurrent scan took a window since the candidates were read.
    tally_states(Notification, Counter(row["ntf_state"] for row in rows))
    return Inserted(count=len(rows), queued=queued)
