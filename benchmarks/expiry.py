"""The expiry job against its floor and against a per-row loop, on identical copies of one data set (PostgreSQL).

- Each contender runs on a fresh copy of the seeded (and vacuumed) database
  (``benchmarks.copies``: ``CREATE DATABASE ... TEMPLATE``), so each starts
  from the same rows and freshly vacuumed tables; ``checkpoint`` then keeps
  the copy's own writes out of the contender's time.
- ``floor_run`` is hand-written set-based SQL making the job's changes in one
  pass, in one transaction: the job's step 1, the due set computed once, then
  one statement of data-modifying CTEs that pauses mentors, flags records,
  appends log rows, writes a notice per paused mentor and the mentors' tally
  deltas from it (step 1's statement writes the certifications' tally deltas,
  ``benchmarks.consequences``); the run record gets the same counters, and the
  same events and webhook deliveries are written (``benchmarks.webhooks``). Log ids are
  drawn as the product draws them: in Python, sent as one array, inserted with
  ``ON CONFLICT (log_id) DO NOTHING``, and the rows whose id was taken are
  inserted again with new ids.
  With history on, the floor writes the job's history rows too
  (``benchmarks.history``): step 1 and the apply statement each add theirs.
- ``naive_run`` is the usual per-row ORM loop with ``save()`` over (a sample of) the due set.
- ``keep_result``/``compare_results`` check that two contenders left the same rows
  (the job's result tables are carried into the floor's copy, ``copies.results_transfer``).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.test.utils import override_settings

from benchmarks import consequences, webhooks
from benchmarks import history as bench_history
from benchmarks.children import production_env
from certhub.ids import CROCKFORD_ALPHABET, ID_ATTEMPTS, IdSpaceExhausted, new_id
from certifications.demo.loader import DOMAIN_MODELS
from certifications.models import (
    AutoPauseLog,
    Certification,
    CertificationStatus,
    CertificationType,
    ExpiryJobRun,
    JobTrigger,
    LogEvent,
    Mentor,
    MentorStatus,
    PausedBy,
)
from certifications.services.lapse import expiry_run_create, pause_reason

RESULT = "bench_result_"
CERT = Certification._meta.db_table
MENTOR = Mentor._meta.db_table
LOG = AutoPauseLog._meta.db_table
RUN = ExpiryJobRun._meta.db_table
CTYPE = CertificationType._meta.db_table


def _execute(sql: str, params: dict | list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def checkpoint() -> bool:
    """``CHECKPOINT``, so that no contender runs while one started by the last copy's writes is writing.

    After it, every contender pays the same full-page images on its first
    write to each page (as a daily job does, long after the last write to
    them). Needs a superuser or the ``pg_checkpoint`` role; returns False
    (and changes nothing) without one.
    """
    try:
        _execute("CHECKPOINT")
    except DatabaseError:
        return False
    return True


def vacuum() -> None:
    """VACUUM ANALYZE the domain tables (outside a transaction, as PostgreSQL requires)."""
    tables = ", ".join(model._meta.db_table for model in DOMAIN_MODELS)
    _execute(f"VACUUM ANALYZE {tables}")


def drop_result_tables() -> None:
    """Drop the result copies (``keep_result``) of this database."""
    for name in RESULT_QUERIES:
        _execute(f"DROP TABLE IF EXISTS {RESULT}{name}")


# --- (a) and (b), each in a process of its own --------------------------------------------


def postgres_url() -> str:
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    return f"postgres://{auth}{host}:{port}/{quote(db['NAME'], safe='')}"


def run_in_subprocess(*, now: dt.datetime, contender: str) -> dict:
    """Run the ``job`` or the ``floor`` in a fresh process on this database; its timing, peak RSS and counters."""
    env = production_env(DATABASE_URL=postgres_url())
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run_job", "--now", now.isoformat(), "--contender", contender],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {contender} process failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- (b) the floor --------------------------------------------------------------------------


def draw_log_ids(count: int, *, rng: random.Random | None = None) -> list[str]:
    """``count`` distinct ``log_`` ids, not checked against the table (as the job draws them).

    From ``rng`` when given (a seeded generator, for tests), else from
    ``certhub.ids.new_id`` as the product does.
    """
    drawn: dict[str, None] = {}
    while len(drawn) < count:
        if rng is None:
            drawn[new_id("log_")] = None
        else:
            bits = rng.getrandbits(40)
            drawn["log_" + "".join(CROCKFORD_ALPHABET[(bits >> (5 * i)) & 31] for i in range(8))] = None
    return list(drawn)


# The due set is computed once into a temporary table and analyzed, so that the
# planner knows it holds thousands of rows, not a guessed hundred thousand, and
# joins it to the big tables by index.
FLOOR_DUE_SQL = f"""
CREATE TEMPORARY TABLE bench_due ON COMMIT DROP AS
SELECT c.id, c.mentor_id,
       'Certification ' || t.code || CASE
           WHEN c.status = 'revoked' AND c.revoked_at IS NOT NULL
           THEN ' revoked on ' || to_char(c.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')
           ELSE ' expired on ' || to_char(c.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')
       END AS reason
FROM {CERT} c JOIN {CTYPE} t ON t.id = c.certification_type_id
WHERE c.deleted_at IS NULL AND c.auto_pause_applied = false
  AND (c.status = 'revoked'
       OR (c.expires_at <= %(now)s AND c.expires_at + t.grace_days * INTERVAL '1 day' <= %(now)s))
  AND NOT EXISTS (
      SELECT 1 FROM {CERT} r
      WHERE r.mentor_id = c.mentor_id AND r.certification_type_id = c.certification_type_id
        AND r.status = 'valid' AND r.expires_at > %(now)s AND r.deleted_at IS NULL)
"""

FLOOR_APPLY_SQL = f"""
WITH paused AS (
    UPDATE {MENTOR} m
    SET status = 'paused', paused_by = 'auto', paused_at = %(now)s, updated_at = %(now)s, pause_reason = first.reason
    FROM (SELECT DISTINCT ON (mentor_id) mentor_id, id AS cert_id, reason FROM bench_due ORDER BY mentor_id, id) first
    WHERE m.id = first.mentor_id AND m.status = 'active'
    RETURNING m.id, m.email, m.pause_reason, first.cert_id
),{consequences.PAUSE_CTES},
flagged AS (
    UPDATE {CERT} c SET auto_pause_applied = true, auto_pause_applied_at = %(now)s, updated_at = %(now)s
    FROM bench_due due WHERE c.id = due.id
    RETURNING c.id
),
logged AS (
    INSERT INTO {LOG} (log_id, mentor_id, certification_id, job_run_id, event, reason, applied_at)
    SELECT drawn.log_id, r.mentor_id, r.id, %(run)s, 'auto_pause', r.reason, %(now)s
    FROM (SELECT due.*, row_number() OVER (ORDER BY id) AS n FROM bench_due due) r
    JOIN unnest(%(log_ids)s::text[]) WITH ORDINALITY AS drawn(log_id, n) USING (n)
    ON CONFLICT (log_id) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM flagged), (SELECT count(*) FROM paused), (SELECT count(*) FROM logged),
       (SELECT count(*) FROM noticed)
"""

# The due records left without a log row (their drawn id was taken), each with a new id.
FLOOR_RELOG_SQL = f"""
INSERT INTO {LOG} (log_id, mentor_id, certification_id, job_run_id, event, reason, applied_at)
SELECT drawn.log_id, r.mentor_id, r.id, %(run)s, 'auto_pause', r.reason, %(now)s
FROM (SELECT due.*, row_number() OVER (ORDER BY id) AS n FROM bench_due due
      WHERE NOT EXISTS (SELECT 1 FROM {LOG} l WHERE l.certification_id = due.id AND l.job_run_id = %(run)s)) r
JOIN unnest(%(log_ids)s::text[]) WITH ORDINALITY AS drawn(log_id, n) USING (n)
ON CONFLICT (log_id) DO NOTHING
"""


@dataclass(frozen=True)
class FloorResult:
    seconds: float
    marked_expired: int
    expired_found: int
    auto_paused: int
    mentors_scanned: int
    redrawn: int = 0  # log rows inserted again because their first drawn id was taken


def floor_run(*, now: dt.datetime, rng: random.Random | None = None) -> FloorResult:
    """The job's changes as set-based SQL in one transaction, with its run record; timed.

    Statements: create the run, mark reaching expiry, compute the due set
    (and analyze it, and count it to draw as many log ids), then one statement
    pausing mentors, flagging records and appending log rows, count the mentors
    scanned, record the counters. A log row whose drawn id was taken (``ON
    CONFLICT DO NOTHING``) is inserted again with a new id, as the job does;
    ``rng`` seeds the ids (tests), else they are drawn as the product draws them. JIT
    compilation is off (it costs more than it saves on statements this short)
    and random page reads are costed as on an SSD, so that the few thousand due
    rows are joined to the big tables by index rather than by scanning them.
    """
    started = time.perf_counter()
    with transaction.atomic():
        run = expiry_run_create(now=now, dry_run=False, trigger=JobTrigger.CLI, state="running")
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL random_page_cost = 1.1")
            expired = bench_history.floor_mark_expired(cursor, now=now, run=run)
            marked = len(expired)
            cursor.execute(FLOOR_DUE_SQL, {"now": now})
            cursor.execute("ANALYZE bench_due")
            cursor.execute("SELECT count(*) FROM bench_due")
            (due,) = cursor.fetchone()
            params = {"now": now, "run": run.pk, "log_ids": draw_log_ids(due, rng=rng)}
            cursor.execute(FLOOR_APPLY_SQL, params)
            flagged, paused, logged, noticed = cursor.fetchone()
            if noticed != paused:  # a drawn notice id was taken: vanishingly rare, and then measured again
                raise RuntimeError(f"the floor wrote {noticed} notices for {paused} paused mentors")
            bench_history.floor_batch_history(cursor, now=now, run=run)
            redrawn, attempts = 0, 1
            while logged < flagged:
                if attempts == ID_ATTEMPTS:
                    raise IdSpaceExhausted(f"the floor found no free log ids for {flagged - logged} rows")
                attempts += 1
                params["log_ids"] = draw_log_ids(flagged - logged, rng=rng)
                cursor.execute(FLOOR_RELOG_SQL, params)
                logged += cursor.rowcount
                redrawn += cursor.rowcount
            # Not count(DISTINCT ...): PostgreSQL runs that as a sequential scan and a sort
            # (0.38 s at 1M); over a DISTINCT subquery it reads cert_unique_live_issue (0.23 s).
            cursor.execute(
                f"SELECT count(*) FROM (SELECT DISTINCT mentor_id FROM {CERT} WHERE deleted_at IS NULL) AS scanned"
            )
            (scanned,) = cursor.fetchone()
            webhooks.floor_events(cursor, now=now, run=run, expired=expired)
        if logged != flagged:
            raise RuntimeError("the floor wrote a different number of log rows than records it flagged")
        ExpiryJobRun.objects.filter(pk=run.pk).update(
            state="succeeded",
            started_at=now,
            completed_at=now + dt.timedelta(seconds=time.perf_counter() - started),
            marked_expired=marked,
            expired_found=flagged,
            auto_paused=paused,
            mentors_scanned=scanned,
        )
        webhooks.floor_completed(run=run)
    return FloorResult(time.perf_counter() - started, marked, flagged, paused, scanned, redrawn)


# --- (c) the per-row loop --------------------------------------------------------------------


def due_sample(*, now: dt.datetime, size: int) -> list[int]:
    """The first ``size`` due records by primary key."""
    return list(Certification.objects.due(now=now).order_by("pk").values_list("pk", flat=True)[:size])


def naive_run(*, now: dt.datetime, ids: list[int]) -> float:
    """The usual peer code: one record at a time, ``save()`` per change, autocommit; returns seconds.

    DEBUG off while it runs, as for the job's and the floor's processes (``production_env``).
    """
    with override_settings(DEBUG=False):
        return _naive_loop(now=now, ids=ids)


def _naive_loop(*, now: dt.datetime, ids: list[int]) -> float:
    started = time.perf_counter()
    run = ExpiryJobRun.objects.create(
        job_run_id=new_id("job_naive_"), trigger=JobTrigger.CLI, started_at=now, created_at=now, state="running"
    )
    for pk in ids:
        cert = (
            Certification.objects.select_related("mentor", "certification_type")
            .annotate(reason=pause_reason())
            .get(pk=pk)
        )
        if cert.status == CertificationStatus.VALID and cert.expires_at <= now:
            cert.status = CertificationStatus.EXPIRED
            cert.updated_at = now
            cert.save()
        renewed = Certification.objects.filter(
            mentor=cert.mentor,
            certification_type=cert.certification_type,
            status=CertificationStatus.VALID,
            expires_at__gt=now,
            deleted_at__isnull=True,
        ).exists()
        if renewed or cert.auto_pause_applied or cert.deleted_at is not None:
            continue
        reason = cert.reason
        mentor = cert.mentor
        if mentor.status == MentorStatus.ACTIVE:
            mentor.status, mentor.paused_by, mentor.paused_at = MentorStatus.PAUSED, PausedBy.AUTO, now
            mentor.pause_reason, mentor.updated_at = reason, now
            mentor.save()
        cert.auto_pause_applied, cert.auto_pause_applied_at, cert.updated_at = True, now, now
        cert.save()
        AutoPauseLog.objects.create(
            log_id=new_id("log_"),
            mentor=mentor,
            certification=cert,
            job_run=run,
            event=LogEvent.AUTO_PAUSE,
            reason=reason,
            applied_at=now,
        )
    elapsed = time.perf_counter() - started
    applied = Certification.objects.filter(pk__in=ids, auto_pause_applied=True).count()
    if applied != len(ids):
        raise RuntimeError(f"the per-row loop applied {applied} of {len(ids)} sampled records")
    return elapsed


# --- Same results? -------------------------------------------------------------------------------

RESULT_QUERIES = {
    "cert": f"""SELECT certification_id, status, auto_pause_applied, auto_pause_applied_at, updated_at, deleted_at
                FROM {CERT}""",
    "mentor": f"SELECT mentor_id, status, paused_by, paused_at, pause_reason, updated_at FROM {MENTOR}",
    "log": f"""SELECT m.mentor_id, c.certification_id, j.job_run_id, l.event, l.reason, l.applied_at,
                      l.log_id ~ '^log_[0-9A-HJKMNP-TV-Z]{{8}}$' AS id_well_formed
               FROM {LOG} l JOIN {MENTOR} m ON m.id = l.mentor_id JOIN {CERT} c ON c.id = l.certification_id
               LEFT JOIN {RUN} j ON j.id = l.job_run_id""",
    "run": f"""SELECT job_run_id, trigger, dry_run, state, mentors_scanned, expired_found, auto_paused,
                      marked_expired, failures::text FROM {RUN}""",
    "history": bench_history.RESULT_QUERY,
    **webhooks.RESULT_QUERIES,  # the events and their deliveries
    **consequences.RESULT_QUERIES,  # the notices and the tallies' sums
}


def keep_result() -> None:
    """Copy what the last contender left (the compared columns only) aside."""
    for name, query in RESULT_QUERIES.items():
        _execute(f"DROP TABLE IF EXISTS {RESULT}{name}")
        _execute(f"CREATE UNLOGGED TABLE {RESULT}{name} AS {query}")


def compare_results() -> dict[str, int]:
    """Rows that differ, per table, between the kept result and the current tables (0 everywhere = identical)."""
    differences = {}
    for name, query in RESULT_QUERIES.items():
        (count,) = _execute(
            f"""SELECT (SELECT count(*) FROM (SELECT * FROM {RESULT}{name} EXCEPT ALL ({query})) a)
                     + (SELECT count(*) FROM (({query}) EXCEPT ALL SELECT * FROM {RESULT}{name}) b)"""
        )[0]
        differences[name] = count
    return differences
