"""The expiry floor's history rows: the same rows the job writes, as set-based SQL (PostgreSQL).

``benchmarks.expiry.floor_run`` calls these so that the floor does the work
the job does with history on: a ``changed`` row per record its step 1 marks
expired, per record a batch flags, and per mentor it pauses (with the pause
reason), each with the run's id as the reason and ``system:job`` as the actor.
The statement of step 1 writes its tally deltas too (``benchmarks.consequences``).
"""

from __future__ import annotations

import datetime as dt
import json

from benchmarks.consequences import TALLY_CTE
from certhub.api.fields import format_utc
from certifications.history.models import HistoryEntry
from certifications.models import Certification, ExpiryJobRun, Mentor

HISTORY = HistoryEntry._meta.db_table
CERT = Certification._meta.db_table
MENTOR = Mentor._meta.db_table
COLUMNS = "(object_pk, subject, at, actor, source, change, reason, changes)"

MARK_EXPIRED_SQL = f"""
WITH marked AS (
    UPDATE {CERT} SET status = 'expired', updated_at = %(now)s
    WHERE status = 'valid' AND expires_at <= %(now)s AND deleted_at IS NULL
    RETURNING id, certification_type_id, expires_at
),
history AS (
    INSERT INTO {HISTORY} {COLUMNS}
    SELECT id, 'certification', %(now)s, 'system:job', 'job', 'changed', %(run)s, %(status)s::jsonb FROM marked
),{TALLY_CTE}
SELECT id FROM marked
"""

BATCH_HISTORY_SQL = f"""
WITH flagged AS (
    INSERT INTO {HISTORY} {COLUMNS}
    SELECT id, 'certification', %(now)s, 'system:job', 'job', 'changed', %(run)s, %(flag)s::jsonb FROM bench_due
)
INSERT INTO {HISTORY} {COLUMNS}
SELECT m.id, 'mentor', %(now)s, 'system:job', 'job', 'changed', %(run)s,
       %(pause)s::jsonb || jsonb_build_object('pause_reason', jsonb_build_array(NULL, m.pause_reason))
FROM {MENTOR} m
WHERE m.id IN (SELECT mentor_id FROM bench_due) AND m.paused_by = 'auto' AND m.paused_at = %(now)s
"""


def floor_mark_expired(cursor, *, now: dt.datetime, run: ExpiryJobRun) -> list[int]:
    """The job's step 1 with its history rows, in one statement; the ids of the records it marked."""
    status = json.dumps({"status": ["valid", "expired"]})
    cursor.execute(MARK_EXPIRED_SQL, {"now": now, "run": run.job_run_id, "status": status})
    return [pk for (pk,) in cursor.fetchall()]


def floor_batch_history(cursor, *, now: dt.datetime, run: ExpiryJobRun) -> None:
    """History rows for the floor's flagged records (``bench_due``) and the mentors it paused, in one statement."""
    pause = {"status": ["active", "paused"], "paused_by": [None, "auto"], "paused_at": [None, format_utc(now)]}
    params = {
        "now": now,
        "run": run.job_run_id,
        "flag": json.dumps({"auto_pause_applied": [False, True]}),
        "pause": json.dumps(pause),
    }
    cursor.execute(BATCH_HISTORY_SQL, params)


RESULT_QUERY = f"SELECT subject, object_pk, at, actor, source, change, reason, changes::text FROM {HISTORY}"
