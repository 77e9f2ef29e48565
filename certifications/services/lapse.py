"""The lapse rule's writes: the expiry job and its auto-pause (auto-resume and staff pauses: ``mentors``).

A certification is *lapsed* at ``now`` when it is live, revoked or past expiry,
and its mentor holds no current record of the same type
(``Certification.objects.lapsed``). It is *due* when lapsed and its
auto-pause is not applied yet (``Certification.objects.due``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import BooleanField, Case, CharField, F, Func, Q, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat
from django.utils import timezone

from certhub.errors import JobAlreadyRunning, ServiceUnavailable
from certhub.ids import ID_ATTEMPTS, IdSpaceExhausted, fresh_ids, new_id
from certifications.models import (
    AutoPauseLog,
    Certification,
    CertificationStatus,
    ExpiryJobRun,
    JobLock,
    JobState,
    JobTrigger,
    LogEvent,
    Mentor,
    MentorStatus,
    PausedBy,
)

logger = logging.getLogger("certhub.expiry")

LOCK_NAME = "expiry_job"
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


# --- Reasons ----------------------------------------------------------------------


class UTCDay(Func):
    """A timestamp's UTC day as ``YYYY-MM-DD`` text, computed by the database."""

    output_field = CharField()
    template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD')"

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores SQLite timestamps as UTC text, 'YYYY-MM-DD HH:MM:SS[.ffffff]'.
        return self.as_sql(compiler, connection, template="substr(%(expressions)s, 1, 10)", **extra_context)


def pause_reason() -> Concat:
    """A certification row's auto-pause reason, as an expression to annotate a certification query with.

    ``Certification <type> expired on <date>``, or ``revoked on <date>`` for a
    revoked record; dates are UTC days. The one definition of the text: the
    preview, the job's batches and their log rows all read it from here.
    """
    return Concat(
        Value("Certification "),
        F("certification_type__code"),
        Case(
            When(
                status=CertificationStatus.REVOKED,
                revoked_at__isnull=False,
                then=Concat(Value(" revoked on "), UTCDay("revoked_at")),
            ),
            default=Concat(Value(" expired on "), UTCDay("expires_at")),
            output_field=CharField(),
        ),
        output_field=CharField(),
    )


# --- The single-run lock -----------------------------------------------------------
#
# A lease on one JobLock row. The holder renews it in the first statement of every
# batch transaction, so on PostgreSQL a competing acquirer waits for the batch to
# commit and then sees a fresh lease; a holder whose process died stops renewing and
# the lock frees itself after EXPIRY_JOB_LOCK_TTL_SECONDS. A holder that finds its
# lease taken over rolls its batch back and stops (``LeaseLost``).


class LeaseLost(RuntimeError):
    """The run's lease expired and another run took the lock; this run must stop."""


def _lease_deadline() -> dt.datetime:
    # The lease is about real elapsed time, so it reads the wall clock, not the job's ``now``.
    return timezone.now() + dt.timedelta(seconds=settings.EXPIRY_JOB_LOCK_TTL_SECONDS)


def lock_holder() -> str | None:
    """The job run id holding a live lease on the expiry lock, if any."""
    lock = JobLock.objects.filter(name=LOCK_NAME, lease_until__gt=timezone.now()).exclude(holder="").first()
    return lock.holder if lock else None


def _lock_acquire(holder: str) -> str | None:
    """Take the lock for ``holder``; return the live holder's id when it is taken.

    A lease that ran out belonged to a run whose process died: that run is
    recorded as failed and the lock changes hands.
    """
    JobLock.objects.get_or_create(name=LOCK_NAME)
    with transaction.atomic():
        lock = JobLock.objects.select_for_update().get(name=LOCK_NAME)
        wall = timezone.now()
        if lock.holder and lock.lease_until is not None and lock.lease_until > wall:
            return lock.holder
        stale = lock.holder
        JobLock.objects.filter(name=LOCK_NAME).update(holder=holder, acquired_at=wall, lease_until=_lease_deadline())
        if stale:
            ExpiryJobRun.objects.filter(job_run_id=stale, state=JobState.RUNNING).update(
                state=JobState.FAILED, completed_at=wall, error="The worker stopped before the run completed."
            )
    return None


def _lock_renew(holder: str) -> None:
    """Extend ``holder``'s lease; raise ``LeaseLost`` when another run holds the lock now."""
    if not JobLock.objects.filter(name=LOCK_NAME, holder=holder).update(lease_until=_lease_deadline()):
        raise LeaseLost("The expiry lock was lost (its lease ran out and another run took it); stopping this run.")


def _lock_release(holder: str) -> None:
    JobLock.objects.filter(name=LOCK_NAME, holder=holder).update(holder="", lease_until=None)


# --- Runs ---------------------------------------------------------------------------


def _run_id_prefix(when: dt.datetime) -> str:
    when = when.astimezone(dt.UTC)
    return f"job_{when.day:02d}{MONTHS[when.month - 1]}{when.year}_"


def expiry_run_create(
    *, now: dt.datetime, dry_run: bool, trigger: str, requested_by=None, state: str = JobState.QUEUED
) -> ExpiryJobRun:
    """Create a run record with the next ``job_DDMONYYYY_NN`` id of ``now``'s UTC day."""
    prefix = _run_id_prefix(now)
    for _ in range(20):
        taken = ExpiryJobRun.objects.filter(job_run_id__startswith=prefix).values_list("job_run_id", flat=True)
        sequence = max((int(run_id[len(prefix) :]) for run_id in taken), default=0) + 1
        try:
            with transaction.atomic():
                return ExpiryJobRun.objects.create(
                    job_run_id=f"{prefix}{sequence:02d}",
                    trigger=trigger,
                    dry_run=dry_run,
                    requested_by=requested_by,
                    created_at=now,
                    state=state,
                )
        except IntegrityError:
            continue  # another process took that sequence number; take the next one
    raise RuntimeError("could not allocate a job run id")


def expiry_job_enqueue(*, now: dt.datetime, dry_run: bool, trigger: str, requested_by=None) -> ExpiryJobRun:
    """Record a queued run and hand it to the worker (``"async": true``).

    Refuses with 409 while a non-dry run holds the lock, and with 503 when the
    broker cannot take the task (the queued record is then marked failed).
    """
    from certifications.tasks import run_expiry_job

    if not dry_run:
        holder = lock_holder()
        if holder:
            raise JobAlreadyRunning(f"Expiry job {holder} is already running.", job_run_id=holder)
    run = expiry_run_create(now=now, dry_run=dry_run, trigger=trigger, requested_by=requested_by)
    try:
        run_expiry_job.apply_async(
            kwargs={"job_run_id": run.job_run_id},
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1},
        )
    except Exception as exc:
        ExpiryJobRun.objects.filter(pk=run.pk).update(
            state=JobState.FAILED, completed_at=timezone.now(), error=f"Broker unavailable: {type(exc).__name__}"
        )
        raise ServiceUnavailable("The task queue is unavailable; run the job synchronously or try again.") from exc
    return run


@dataclass(frozen=True)
class ExpiryPreviewItem:
    """One due certification and the mentor it would pause."""

    mentor_id: str
    mentor_name: str
    mentor_status: str
    certification_id: str
    reason: str


def expiry_job_preview(*, now: dt.datetime, limit: int = 200) -> list[ExpiryPreviewItem]:
    """The due certifications a run at ``now`` would apply (first ``limit``), with their reasons."""
    rows = (
        Certification.objects.due(now=now)
        .order_by("mentor__mentor_id", "certification_id")
        .annotate(reason=pause_reason())
        .values(
            "certification_id",
            "reason",
            "mentor__mentor_id",
            "mentor__name",
            "mentor__status",
        )[:limit]
    )
    return [
        ExpiryPreviewItem(
            mentor_id=row["mentor__mentor_id"],
            mentor_name=row["mentor__name"],
            mentor_status=row["mentor__status"],
            certification_id=row["certification_id"],
            reason=row["reason"],
        )
        for row in rows
    ]


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# What one bad record can raise while its batch is applied (a constraint, a trigger,
# a deadlock, bad data). Anything else -- a lost lease, a task time limit, an
# interrupt -- stops the run instead of being retried item by item.
ITEM_ERRORS = (DatabaseError, ValueError, TypeError, LookupError)


def _bigint_array(values: Iterable[int]) -> str:
    """``values`` as one PostgreSQL array literal (``{1,2,3}``), to be cast with ``::bigint[]``.

    Passed as a single string, the array costs the client one ``join``; as a
    Python list, psycopg quotes it element by element (a third of a second per
    10,000 due records).
    """
    return "{" + ",".join(str(int(value)) for value in values) + "}"


def _pk_in(model, pks: Sequence[int]):
    """``pk IN pks`` as a filter; on PostgreSQL ``pk = ANY(%s::bigint[])`` with one array parameter.

    A list of a thousand placeholders costs the client more to quote and send
    than the statement costs the server; one array parameter does not.
    """
    if connection.vendor == "postgresql":
        column = f'"{model._meta.db_table}"."{model._meta.pk.column}"'
        return RawSQL(f"{column} = ANY(%s::bigint[])", [_bigint_array(pks)], output_field=BooleanField())
    return Q(pk__in=pks)


def _log_ids(count: int) -> list[str]:
    """``count`` distinct fresh-drawn ``log_`` ids (not checked against the table)."""
    drawn: set[str] = set()
    while len(drawn) < count:
        drawn.add(new_id("log_"))
    return list(drawn)


def _log_rows_insert(*, rows: Sequence[dict], reasons: dict[int, str], run, now) -> None:
    """Append one ``auto_pause`` log row per record of ``rows`` (``pk``, ``mentor_id``), each with a fresh ``log_id``.

    On PostgreSQL, one ``INSERT ... SELECT FROM jsonb_to_recordset`` of one
    JSON parameter with ``ON CONFLICT (log_id) DO NOTHING``: a row whose drawn
    id is taken is left out and inserted again with a new id. Elsewhere,
    ``fresh_ids`` (which checks the drawn ids first) then ``bulk_create``.
    """
    if connection.vendor != "postgresql":
        log_ids = fresh_ids(AutoPauseLog, field="log_id", prefix="log_", count=len(rows))
        AutoPauseLog.objects.bulk_create(
            [
                AutoPauseLog(
                    log_id=log_id,
                    mentor_id=row["mentor_id"],
                    certification_id=row["pk"],
                    job_run=run,
                    event=LogEvent.AUTO_PAUSE,
                    reason=reasons[row["pk"]],
                    applied_at=now,
                )
                for log_id, row in zip(log_ids, rows, strict=True)
            ]
        )
        return
    pending = list(rows)
    for _ in range(ID_ATTEMPTS):
        batch = []
        for log_id, row in zip(_log_ids(len(pending)), pending, strict=True):
            pk, mentor_pk = row["pk"], row["mentor_id"]
            batch.append({"log_id": log_id, "mentor_id": mentor_pk, "certification_id": pk, "reason": reasons[pk]})
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {AutoPauseLog._meta.db_table} "
                "(log_id, mentor_id, certification_id, reason, job_run_id, event, applied_at) "
                "SELECT log_id, mentor_id, certification_id, reason, %s, %s, %s "
                "FROM jsonb_to_recordset(%s::jsonb) "
                "AS r(log_id text, mentor_id bigint, certification_id bigint, reason text) "
                "ON CONFLICT (log_id) DO NOTHING RETURNING certification_id",
                [run.pk, LogEvent.AUTO_PAUSE.value, now, json.dumps(batch)],
            )
            logged = {certification_pk for (certification_pk,) in cursor.fetchall()}
        pending = [row for row in pending if row["pk"] not in logged]
        if not pending:
            return
    raise IdSpaceExhausted(f"no free log ids for {len(pending)} rows after {ID_ATTEMPTS} rounds")


def _apply_locked(*, pks: Sequence[int], mentor_status: dict[int, str], now: dt.datetime, run: ExpiryJobRun) -> int:
    """The batch's writes through the ORM, on locked records and mentors: flag, pause, log. Returns mentors paused.

    Re-reads the records among ``pks`` still due, flags them, pauses their
    active mentors (each with the reason of its lowest due record) and logs
    each record.
    """
    rows = list(
        Certification.objects.due(now=now)
        .filter(_pk_in(Certification, pks))
        .order_by("pk")
        .annotate(reason=pause_reason())
        .values("pk", "mentor_id", "reason")
    )
    if not rows:
        return 0
    reasons = {row["pk"]: row["reason"] for row in rows}
    Certification.objects.filter(_pk_in(Certification, list(reasons))).update(
        auto_pause_applied=True, auto_pause_applied_at=now, updated_at=now
    )
    mentor_reason: dict[int, str] = {}
    for row in rows:
        if mentor_status.get(row["mentor_id"]) == MentorStatus.ACTIVE:
            mentor_reason.setdefault(row["mentor_id"], reasons[row["pk"]])
    paused = 0
    if mentor_reason:
        paused = Mentor.objects.filter(_pk_in(Mentor, list(mentor_reason)), status=MentorStatus.ACTIVE).update(
            status=MentorStatus.PAUSED,
            paused_by=PausedBy.AUTO,
            paused_at=now,
            updated_at=now,
            pause_reason=Case(*(When(pk=pk, then=Value(reason)) for pk, reason in mentor_reason.items())),
        )
    _log_rows_insert(rows=rows, reasons=reasons, run=run, now=now)
    return paused


def _apply_locked_postgresql(*, pks: Sequence[int], now: dt.datetime, run: ExpiryJobRun) -> int:
    """The batch's writes on PostgreSQL, on locked records and mentors: one statement. Returns mentors paused.

    Data-modifying CTEs: ``flagged`` flags the records among ``pks`` still due
    (Django's ``due()`` with ``pause_reason()``, compiled as the subquery) and
    returns each with its reason; ``paused`` pauses their active mentors with the reason of each
    one's lowest due record; ``logged`` inserts one log row per flagged
    record with a drawn id, skipping an id already taken. Nothing travels
    back per row but the rare record whose drawn id was taken, which is
    logged again with a new one.
    """
    cert, mentor = Certification._meta.db_table, Mentor._meta.db_table
    due = Certification.objects.due(now=now).filter(_pk_in(Certification, pks)).order_by()
    due_sql, due_params = due.annotate(reason=pause_reason()).values("pk", "reason").query.sql_with_params()
    sql = f"""
        WITH flagged AS (
            UPDATE "{cert}" c
            SET auto_pause_applied = true, auto_pause_applied_at = %s, updated_at = %s
            FROM ({due_sql}) due
            WHERE c.id = due.pk
            RETURNING c.id, c.mentor_id, due.reason
        ),
        paused AS (
            UPDATE "{mentor}" m
            SET status = %s, paused_by = %s, paused_at = %s, updated_at = %s, pause_reason = first.reason
            FROM (SELECT DISTINCT ON (mentor_id) mentor_id, reason FROM flagged ORDER BY mentor_id, id) first
            WHERE m.id = first.mentor_id AND m.status = %s
            RETURNING m.id
        ),
        logged AS (
            INSERT INTO "{AutoPauseLog._meta.db_table}"
                (log_id, mentor_id, certification_id, reason, job_run_id, event, applied_at)
            SELECT drawn.log_id, f.mentor_id, f.id, f.reason, %s, %s, %s
            FROM (SELECT flagged.*, row_number() OVER (ORDER BY id) AS n FROM flagged) f
            JOIN unnest(%s::text[]) WITH ORDINALITY AS drawn(log_id, n) USING (n)
            ON CONFLICT (log_id) DO NOTHING
            RETURNING certification_id
        )
        SELECT counts.paused, f.id, f.mentor_id, f.reason
        FROM (SELECT count(*) AS paused FROM paused) counts
        LEFT JOIN flagged f ON f.id NOT IN (SELECT certification_id FROM logged)
    """
    log_ids = _log_ids(len(pks))
    params = [
        now,
        now,
        *due_params,
        MentorStatus.PAUSED.value,
        PausedBy.AUTO.value,
        now,
        now,
        MentorStatus.ACTIVE.value,
        run.pk,
        LogEvent.AUTO_PAUSE.value,
        now,
        "{" + ",".join(log_ids) + "}",
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        result = cursor.fetchall()
    unlogged = [{"pk": pk, "mentor_id": mentor_pk} for _, pk, mentor_pk, _ in result if pk is not None]
    if unlogged:
        reasons = {pk: reason for _, pk, _, reason in result if pk is not None}
        _log_rows_insert(rows=unlogged, reasons=reasons, run=run, now=now)
    return result[0][0]


def _apply_batch(*, ids: Sequence[int], now: dt.datetime, run: ExpiryJobRun, holder: str) -> int:
    """Apply auto-pause to one batch of due certifications in one transaction; return mentors paused.

    Statements, whatever the batch size: renew the lease, lock the listed
    records, lock their mentors, then on PostgreSQL one statement that flags
    the records still due, pauses the active mentors and inserts the log rows
    (``_apply_locked_postgresql``); elsewhere a re-read of the due records,
    the flag, the pause, a check that the drawn log ids are free and the
    insert (``_apply_locked``).

    The records are locked before their mentors, in the order every write
    locks them (record, then mentor), so the job and a concurrent renewal never
    deadlock. The due condition is evaluated again after the mentor locks, so
    it sees any renewal committed while this batch waited: a record renewed
    since the batch was listed is skipped and its mentor is not paused.
    """
    with transaction.atomic():
        _lock_renew(holder)
        locked = list(
            Certification.objects.filter(_pk_in(Certification, ids))
            .order_by("pk")
            .select_for_update()
            .values_list("pk", "mentor_id")
        )
        if not locked:
            return 0
        mentor_status = dict(
            Mentor.objects.filter(_pk_in(Mentor, sorted({mentor_pk for _, mentor_pk in locked})))
            .order_by("pk")
            .select_for_update()
            .values_list("pk", "status")
        )
        pks = [pk for pk, _ in locked]
        if connection.vendor == "postgresql":
            return _apply_locked_postgresql(pks=pks, now=now, run=run)
        return _apply_locked(pks=pks, mentor_status=mentor_status, now=now, run=run)


def _failure(pk: int, error: Exception) -> dict[str, str]:
    ids = Certification.objects.filter(pk=pk).values_list("certification_id", "mentor__mentor_id").first()
    certification_id, mentor_id = ids if ids else ("", "")
    return {"mentor_id": mentor_id, "certification_id": certification_id, "error": f"{type(error).__name__}: {error}"}


def _apply_due(*, due_ids: Sequence[int], now: dt.datetime, run: ExpiryJobRun, batch_size: int) -> None:
    """Step 3: apply the due records batch by batch; isolate the items that fail."""
    holder = run.job_run_id
    for batch in _chunks(due_ids, batch_size):
        try:
            run.auto_paused += _apply_batch(ids=batch, now=now, run=run, holder=holder)
        except ITEM_ERRORS:
            # The batch rolled back as a whole; retry it item by item so one bad
            # record does not hold back the others.
            logger.exception("expiry job %s: a batch failed; retrying it item by item", holder)
            for pk in batch:
                try:
                    run.auto_paused += _apply_batch(ids=[pk], now=now, run=run, holder=holder)
                except ITEM_ERRORS as exc:
                    run.failures.append(_failure(pk, exc))


def expiry_job_run(
    *,
    now: dt.datetime,
    dry_run: bool = False,
    trigger: str = JobTrigger.API,
    requested_by=None,
    run: ExpiryJobRun | None = None,
    batch_size: int | None = None,
) -> ExpiryJobRun:
    """Run the expiry job at ``now`` and return its run record.

    1. Mark every live ``valid`` certification with ``expires_at <= now`` as
       ``expired`` (``marked_expired``), in one statement.
    2. Find the due certifications: lapsed at ``now`` with
       ``auto_pause_applied = false`` (``expired_found``); count the mentors
       holding a live record (``mentors_scanned``).
    3. In batches of ``EXPIRY_JOB_BATCH_SIZE``, one transaction and a fixed
       handful of statements each: pause the mentor unless already paused
       (``auto_paused`` counts active -> paused), flag the record applied at
       ``now``, append one ``auto_pause`` log row. A batch that fails is
       retried item by item; items that still fail are listed in ``failures``
       (``mentor_id``, ``certification_id``, ``error``) and the rest are applied.
    4. Record the counters and the outcome on the run.

    A dry run computes the same counters and writes only its run record. Only
    one non-dry run executes at a time (a lease lock renewed in every batch);
    another one raises ``JobAlreadyRunning`` naming the running job. Running
    twice at the same ``now`` changes nothing the second time. A run killed
    midway leaves its committed batches applied and the rest for the next run.
    """
    batch_size = batch_size or settings.EXPIRY_JOB_BATCH_SIZE
    created_here = run is None
    if run is None:
        run = expiry_run_create(now=now, dry_run=dry_run, trigger=trigger, requested_by=requested_by)
    holder = run.job_run_id
    if not run.dry_run:
        busy = _lock_acquire(holder)
        if busy:
            if created_here:
                run.delete()  # a refused trigger leaves no trace but the 409 / log line
            else:
                ExpiryJobRun.objects.filter(pk=run.pk).update(
                    state=JobState.FAILED, completed_at=timezone.now(), error=f"Expiry job {busy} was already running."
                )
            raise JobAlreadyRunning(f"Expiry job {busy} is already running.", job_run_id=busy)
    clock = time.monotonic()
    ExpiryJobRun.objects.filter(pk=run.pk).update(state=JobState.RUNNING, started_at=now)
    run.state, run.started_at, run.failures = JobState.RUNNING, now, []
    try:
        reaching_expiry = Certification.objects.alive().filter(status=CertificationStatus.VALID, expires_at__lte=now)
        if run.dry_run:
            run.marked_expired = reaching_expiry.count()
        else:
            run.marked_expired = reaching_expiry.update(status=CertificationStatus.EXPIRED, updated_at=now)
            _lock_renew(holder)

        due = Certification.objects.due(now=now)
        due_ids = list(due.order_by("pk").values_list("pk", flat=True))
        run.expired_found = len(due_ids)
        run.mentors_scanned = Certification.objects.alive().values("mentor_id").distinct().count()

        if run.dry_run:
            run.auto_paused = Mentor.objects.filter(status=MentorStatus.ACTIVE, pk__in=due.values("mentor_id")).count()
        else:
            _apply_due(due_ids=due_ids, now=now, run=run, batch_size=batch_size)
        run.state = JobState.SUCCEEDED
    except BaseException as exc:
        run.state = JobState.FAILED
        run.error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        run.completed_at = now + dt.timedelta(seconds=time.monotonic() - clock)
        try:
            run.save()
        finally:
            if not run.dry_run:
                _lock_release(holder)
    logger.info(
        "expiry job %s%s: scanned=%d due=%d paused=%d marked_expired=%d failures=%d",
        run.job_run_id,
        " (dry run)" if run.dry_run else "",
        run.mentors_scanned,
        run.expired_found,
        run.auto_paused,
        run.marked_expired,
        len(run.failures),
    )
    return run
