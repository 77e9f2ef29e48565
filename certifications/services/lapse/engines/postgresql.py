"""The PostgreSQL batch engine: the batch's writes in one statement of data-modifying CTEs.

After the locking reads, one statement flags the records still due, pauses
their active mentors, inserts the log rows and writes the consequences that
are parts of it (``effects.job_batch_parts``: the mentors' tally, the notices
and theirs, decision 0051; the history rows, the events and their deliveries,
decision 0053); the reasons are computed in SQL and nothing
travels back per row but the rare record whose drawn log id was taken, which
is logged again with a new one, and each part's answer.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection

from certhub.ids import ID_ATTEMPTS, IdSpaceExhausted, new_id
from certhub.sql import pk_in
from certifications.models import AutoPauseLog, Certification, ExpiryJobRun, LogEvent, Mentor, MentorStatus, PausedBy
from certifications.services import effects
from certifications.services.lapse.engines.base import BatchEngine, BatchResult, LockedBatch
from certifications.services.lapse.reasons import pause_reason
from certifications.services.receivers import BatchPart

CERT, MENTOR, LOG = Certification._meta.db_table, Mentor._meta.db_table, AutoPauseLog._meta.db_table

# ``due`` is Django's ``due()`` query with ``pause_reason()``, compiled and spliced in; ``parts`` are the
# consequences' ``WITH`` items (``BatchPart``), ``answers`` their answers' columns.
BATCH_SQL = f"""
    WITH flagged AS (
        UPDATE "{CERT}" c
        SET auto_pause_applied = true, auto_pause_applied_at = %(now)s, updated_at = %(now)s
        FROM ({{due}}) due
        WHERE c.id = due.pk
        RETURNING c.id, c.mentor_id, due.reason
    ),
    paused AS (
        UPDATE "{MENTOR}" m
        SET status = %(paused)s, paused_by = %(auto)s, paused_at = %(now)s, updated_at = %(now)s,
            pause_reason = first.reason
        FROM (SELECT DISTINCT ON (mentor_id) mentor_id, id, reason FROM flagged ORDER BY mentor_id, id) first
        WHERE m.id = first.mentor_id AND m.status = %(active)s
        RETURNING m.id, m.mentor_id AS public_id, m.email, m.pause_reason AS reason, first.id AS cert_id
    ),
    logged AS (
        INSERT INTO "{LOG}" (log_id, mentor_id, certification_id, reason, job_run_id, event, applied_at)
        SELECT drawn.log_id, f.mentor_id, f.id, f.reason, %(run)s, %(event)s, %(now)s
        FROM (SELECT flagged.*, row_number() OVER (ORDER BY id) AS n FROM flagged) f
        JOIN unnest(%(log_ids)s::text[]) WITH ORDINALITY AS drawn(log_id, n) USING (n)
        ON CONFLICT (log_id) DO NOTHING
        RETURNING certification_id
    ){{parts}}
    SELECT
        (SELECT count(*) FROM flagged) AS flagged,
        (SELECT count(*) FROM paused) AS paused,
        (SELECT count(*) FROM logged) AS logged,
        (SELECT coalesce(array_agg(id ORDER BY id), '{{}}') FROM flagged) AS flagged_pks,
        (SELECT coalesce(array_agg(id ORDER BY id), '{{}}') FROM paused) AS paused_pks,
        (
            SELECT coalesce(json_agg(json_build_object('pk', f.id, 'mentor_id', f.mentor_id, 'reason', f.reason)), '[]')
            FROM flagged f WHERE f.id NOT IN (SELECT certification_id FROM logged)
        )::text AS unlogged{{answers}}
"""

# Retry of the records whose drawn log id was taken: one JSON parameter, a taken id skipped again.
RELOG_SQL = f"""
    INSERT INTO "{LOG}" (log_id, mentor_id, certification_id, reason, job_run_id, event, applied_at)
    SELECT log_id, mentor_id, certification_id, reason, %(run)s, %(event)s, %(now)s
    FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(log_id text, mentor_id bigint, certification_id bigint, reason text)
    ON CONFLICT (log_id) DO NOTHING
    RETURNING certification_id
"""

_PLACEHOLDER = re.compile(r"%([%s])")


@dataclass(frozen=True)
class Unlogged:
    """A flagged record whose drawn log id was already taken: it is logged again with a new id."""

    pk: int
    mentor_id: int
    reason: str


@dataclass(frozen=True)
class StatementResult:
    """The batch statement's one answer row."""

    flagged: int
    paused: int
    logged: int
    unlogged: list[Unlogged]
    flagged_pks: tuple[int, ...]
    paused_pks: tuple[int, ...]

    @classmethod
    def from_row(cls, columns: Sequence[str], row: Sequence) -> StatementResult:
        """Decode the answer row by column name."""
        values = dict(zip(columns, row, strict=True))
        return cls(
            flagged=values["flagged"],
            paused=values["paused"],
            logged=values["logged"],
            unlogged=[Unlogged(**item) for item in json.loads(values["unlogged"])],
            flagged_pks=tuple(values["flagged_pks"]),
            paused_pks=tuple(values["paused_pks"]),
        )


class PostgreSQLEngine(BatchEngine):
    """Flag, pause and log in one statement of data-modifying CTEs (PostgreSQL only)."""

    name = "postgresql"

    def apply_locked(self, *, batch: LockedBatch, now: dt.datetime, run: ExpiryJobRun) -> BatchResult:
        """Data-modifying CTEs: flag the records still due, pause their active mentors, log each record.

        ``flagged`` flags the records of ``batch`` still due and returns each
        with its reason; ``paused`` pauses their active mentors with the reason
        of each one's lowest due record; ``logged`` inserts one log row per
        flagged record with a drawn id, skipping an id already taken; then the
        consequences' parts (``effects.job_batch_parts``). The answer is one
        row of counters, the records left unlogged and each part's answer,
        which goes to its ``done``.
        """
        due = Certification.objects.due(now=now).filter(pk_in(Certification, batch.pks)).order_by()
        due_sql, due_params = due.annotate(reason=pause_reason()).values("pk", "reason").query.sql_with_params()
        due_sql, params = named_placeholders(due_sql, due_params, prefix="due_")
        params.update(
            now=now,
            paused=MentorStatus.PAUSED.value,
            auto=PausedBy.AUTO.value,
            active=MentorStatus.ACTIVE.value,
            run=run.pk,
            event=LogEvent.AUTO_PAUSE.value,
            log_ids="{" + ",".join(log_ids(len(batch.pks))) + "}",
        )
        parts = effects.job_batch_parts(now=now, run=run)
        for part in parts:
            if taken := params.keys() & part.params.keys():
                raise ValueError(f"a batch part reuses the parameters {sorted(taken)}")
            params.update(part.params)
        with connection.cursor() as cursor:
            cursor.execute(batch_statement(due_sql, parts), params)
            columns = [column.name for column in cursor.description]
            row = cursor.fetchone()
        own = len(columns) - len(parts)  # the statement's own columns, then one answer per part
        result = StatementResult.from_row(columns[:own], row[:own])
        for part, answer in zip(parts, row[own:], strict=True):
            if part.done is not None:
                part.done(answer)
        relogged = _relog(result.unlogged, run=run, now=now) if result.unlogged else 0
        return BatchResult(
            flagged=result.flagged,
            paused=result.paused,
            logged=result.logged + relogged,
            flagged_pks=result.flagged_pks,
            paused_pks=result.paused_pks,
            in_statement=True,
        )


def batch_statement(due_sql: str, parts: Sequence[BatchPart]) -> str:
    """The batch statement with ``due_sql`` and ``parts`` spliced in.

    Every part's items follow the statement's own; each part adds one answer
    column after the statement's own ones, in order (NULL when it has no ``answer``).
    """
    items = "".join(f",\n{part.ctes}" for part in parts)
    columns = "".join(f",\n        ({part.answer or 'NULL'}) AS part_{index}" for index, part in enumerate(parts))
    return BATCH_SQL.replace("{due}", due_sql).replace("{parts}", items).replace("{answers}", columns)


def named_placeholders(sql: str, params: Sequence, *, prefix: str) -> tuple[str, dict]:
    """Rewrite a compiled query's positional ``%s`` as ``%(<prefix>N)s``; return the SQL and its named parameters.

    psycopg takes one style per statement; ``%%`` (a literal percent) is kept.
    """
    named: dict = {}

    def name(match: re.Match) -> str:
        if match.group(1) == "%":
            return "%%"
        index = len(named)
        named[f"{prefix}{index}"] = params[index]
        return f"%({prefix}{index})s"

    sql = _PLACEHOLDER.sub(name, sql)
    if len(named) != len(params):
        raise ValueError(f"{len(params)} parameters for {len(named)} placeholders")
    return sql, named


def log_ids(count: int) -> list[str]:
    """``count`` distinct fresh-drawn ``log_`` ids (not checked against the table)."""
    drawn: set[str] = set()
    while len(drawn) < count:
        drawn.add(new_id("log_"))
    return list(drawn)


def _relog(pending: Sequence[Unlogged], *, run: ExpiryJobRun, now: dt.datetime) -> int:
    """Log ``pending`` with newly drawn ids, again skipping a taken id, until all are in; return how many."""
    pending = list(pending)
    total = len(pending)
    for _ in range(ID_ATTEMPTS):
        rows = [
            {"log_id": log_id, "mentor_id": item.mentor_id, "certification_id": item.pk, "reason": item.reason}
            for log_id, item in zip(log_ids(len(pending)), pending, strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                RELOG_SQL, {"run": run.pk, "event": LogEvent.AUTO_PAUSE.value, "now": now, "rows": json.dumps(rows)}
            )
            logged = {certification_pk for (certification_pk,) in cursor.fetchall()}
        pending = [item for item in pending if item.pk not in logged]
        if not pending:
            return total
    raise IdSpaceExhausted(f"no free log ids for {len(pending)} rows after {ID_ATTEMPTS} rounds")
