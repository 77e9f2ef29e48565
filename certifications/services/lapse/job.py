"""The expiry job: mark what expired, find what is due, apply it batch by batch, record the run.

A certification is *lapsed* at ``now`` when it is live, revoked or past expiry,
and its mentor holds no current record of the same type
(``Certification.objects.lapsed``). It is *due* when lapsed and its
auto-pause is not applied yet (``Certification.objects.due``). The batches'
writes are a batch engine's (``engines``); this module runs them under the
lock, isolates the records that fail, and keeps the counters.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import threading
import time
from collections.abc import Sequence

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import F
from django.utils import timezone

from certhub.errors import JobAlreadyRunning
from certhub.sql import dialect, pk_in
from certifications.models import (
    Certification,
    CertificationStatus,
    ExpiryJobRun,
    JobState,
    JobTrigger,
    Mentor,
    MentorStatus,
)
from certifications.services import effects
from certifications.services.lapse.engines import BatchEngine, BatchResult, batch_engine
from certifications.services.lapse.lock import lock_acquire, lock_release, lock_renew
from certifications.services.lapse.runs import expiry_run_create

logger = logging.getLogger("certhub.expiry")

# What one bad record can raise while its batch is applied: a database error (a
# constraint, a trigger, a deadlock, bad data). Anything else -- a code bug, a lost
# lease, a task time limit, an interrupt -- stops the run instead of being retried
# item by item.
ITEM_ERRORS = (DatabaseError,)


def _apply_batch(*, engine: BatchEngine, ids: Sequence[int], now: dt.datetime, run: ExpiryJobRun) -> BatchResult:
    """Apply auto-pause to one batch of due certifications in one transaction.

    Statements, whatever the batch size: renew the lease, then the engine's
    (lock the listed records, lock their mentors, then on PostgreSQL one
    statement that flags the records still due, pauses the active mentors and
    inserts the log rows; elsewhere a re-read of the due records, the flag,
    the pause, a check that the drawn log ids are free and the insert).

    The due condition is evaluated again after the locks, so it sees any
    renewal committed while this batch waited: a record renewed since the
    batch was listed is skipped and its mentor is not paused.
    """
    with transaction.atomic():
        lock_renew(run.job_run_id)
        result = engine.apply(ids=ids, now=now, run=run)
        if result.flagged:
            effects.job_batch_applied(
                flagged=result.flagged_pks,
                paused=result.paused_pks,
                now=now,
                run=run,
                in_statement=result.in_statement,
            )
        if result.paused:
            # Committed with the batch, so a run that dies later still shows what it applied.
            ExpiryJobRun.objects.filter(pk=run.pk).update(auto_paused=F("auto_paused") + result.paused)
        return result


def _mark_expired(reaching_expiry, *, now: dt.datetime, run: ExpiryJobRun, batch_size: int) -> int:
    """Step 1: move the live ``valid`` records past expiry to ``expired`` in one transaction; return how many.

    The records are listed and locked in chunks of ``batch_size`` (on PostgreSQL
    fetched from a cursor, so the process holds one chunk however many there are),
    each updated and reported to the effects: two statements per chunk besides the listing.
    """
    marked = 0
    with transaction.atomic():
        for chunk in dialect().listed_pk_chunks(reaching_expiry.select_for_update(), size=batch_size):
            marked += Certification.objects.filter(pk_in(Certification, chunk)).update(
                status=CertificationStatus.EXPIRED, updated_at=now
            )
            effects.job_records_expired(pks=chunk, now=now, run=run)
    return marked


def _failure(pk: int, error: Exception) -> dict[str, str]:
    ids = Certification.objects.filter(pk=pk).values_list("certification_id", "mentor__mentor_id").first()
    certification_id, mentor_id = ids if ids else ("", "")
    return {"mentor_id": mentor_id, "certification_id": certification_id, "error": f"{type(error).__name__}: {error}"}


def _apply_due(
    *, due_ids: Sequence[int], now: dt.datetime, run: ExpiryJobRun, batch_size: int, deadline: float | None = None
) -> Sequence[int]:
    """Step 3: apply the due records batch by batch; isolate the items that fail.

    With a ``deadline`` (a ``time.monotonic()`` value) it stops between batches once
    the deadline has passed and returns the ids it did not reach; otherwise it
    applies them all and returns nothing.
    """
    holder = run.job_run_id
    engine = batch_engine()
    for start in range(0, len(due_ids), batch_size):
        if deadline is not None and start and time.monotonic() >= deadline:
            return due_ids[start:]
        batch = list(due_ids[start : start + batch_size])
        run.batches += 1  # saved with the run's outcome (no statement of its own per batch)
        try:
            run.auto_paused += _apply_batch(engine=engine, ids=batch, now=now, run=run).paused
        except ITEM_ERRORS:
            # The batch rolled back as a whole; retry it item by item so one bad
            # record does not hold back the others.
            logger.exception("expiry job %s: a batch failed; retrying it item by item", holder)
            for pk in batch:
                try:
                    run.auto_paused += _apply_batch(engine=engine, ids=[pk], now=now, run=run).paused
                except ITEM_ERRORS as exc:
                    run.failures.append(_failure(pk, exc))
    return ()


def _finish(run: ExpiryJobRun, *, now: dt.datetime, clock: float) -> None:
    """Step 4: record the outcome and counters, give the lock up, and log the summary."""
    run.completed_at = now + dt.timedelta(seconds=time.monotonic() - clock)
    try:
        with transaction.atomic():
            run.save()
            if not run.dry_run:
                effects.job_run_finished(run=run)
    finally:
        if not run.dry_run:
            lock_release(run.job_run_id)
    logger.info(
        "expiry job %s%s: %s scanned=%d due=%d paused=%d marked_expired=%d failures=%d",
        run.job_run_id,
        " (dry run)" if run.dry_run else "",
        run.state,
        run.mentors_scanned,
        run.expired_found,
        run.auto_paused,
        run.marked_expired,
        len(run.failures),
    )


def _finish_in_background(
    *, run: ExpiryJobRun, due_ids: Sequence[int], now: dt.datetime, batch_size: int, clock: float
) -> None:
    """Apply ``due_ids`` and finish ``run`` in a thread of this process, after the caller has its answer.

    The thread holds the run's lock as the caller did (each batch renews the
    lease). If the process ends first, the committed batches stay, the lease
    runs out and the reaper records the run as failed; the next run applies the rest.
    """

    def work() -> None:
        try:
            _apply_due(due_ids=due_ids, now=now, run=run, batch_size=batch_size)
            run.state = JobState.SUCCEEDED
        except BaseException as exc:
            logger.exception("expiry job %s failed in the background", run.job_run_id)
            run.state = JobState.FAILED
            run.error = f"{type(exc).__name__}: {exc}"
        finally:
            try:
                _finish(run, now=now, clock=clock)
            finally:
                connections.close_all()  # this thread's own connections

    threading.Thread(target=work, name=f"expiry-{run.job_run_id}").start()


def expiry_job_run(
    *,
    now: dt.datetime,
    dry_run: bool = False,
    trigger: str = JobTrigger.API,
    requested_by=None,
    run: ExpiryJobRun | None = None,
    batch_size: int | None = None,
    wait_seconds: float | None = None,
) -> ExpiryJobRun:
    """Run the expiry job at ``now`` and return its run record.

    1. Mark every live ``valid`` certification with ``expires_at <= now`` as
       ``expired`` (``marked_expired``), in one statement.
    2. Find the due certifications: lapsed at ``now`` with
       ``auto_pause_applied = false`` (``expired_found``); count the mentors
       holding a live record (``mentors_scanned``). These counters are committed
       on the run before the first batch.
    3. In batches of ``EXPIRY_JOB_BATCH_SIZE``, one transaction and a fixed
       handful of statements each (the batch engine's, ``engines``): pause
       the mentor unless already paused (``auto_paused`` counts active ->
       paused, committed with each batch), flag the record applied at ``now``,
       append one ``auto_pause`` log row. A batch that fails with a database
       error is retried item by item; items that still fail are listed in
       ``failures`` (``mentor_id``, ``certification_id``, ``error``) and the rest
       are applied. Any other error (a code bug, a lost lease) stops the run.
    4. Record the counters and the outcome on the run.

    A dry run computes the same counters and writes only its run record. Only
    one non-dry run executes at a time (a lease lock renewed in every batch);
    another one raises ``JobAlreadyRunning`` naming the running job. Running
    twice at the same ``now`` changes nothing the second time. A run killed
    midway leaves its committed batches applied and the rest for the next run.

    With ``wait_seconds`` the caller waits at most that long (give or take one
    batch): past it, the remaining batches go on in a background thread of this
    process and the run is returned in state ``running``.
    """
    batch_size = batch_size or settings.EXPIRY_JOB_BATCH_SIZE
    created_here = run is None
    if run is None:
        run = expiry_run_create(now=now, dry_run=dry_run, trigger=trigger, requested_by=requested_by)
    holder = run.job_run_id
    if not run.dry_run:
        busy = lock_acquire(holder)
        if busy:
            if created_here:
                run.delete()  # a refused trigger leaves no trace but the 409 / log line
            else:
                ExpiryJobRun.objects.filter(pk=run.pk).update(
                    state=JobState.FAILED, completed_at=timezone.now(), error=f"Expiry job {busy} was already running."
                )
            raise JobAlreadyRunning(f"Expiry job {busy} is already running.", job_run_id=busy)
    clock = time.monotonic()
    deadline = None if wait_seconds is None else clock + wait_seconds
    ExpiryJobRun.objects.filter(pk=run.pk).update(state=JobState.RUNNING, started_at=now)
    run.state, run.started_at, run.failures = JobState.RUNNING, now, []
    handed_off = False
    try:
        reaching_expiry = Certification.objects.alive().filter(status=CertificationStatus.VALID, expires_at__lte=now)
        if run.dry_run:
            run.marked_expired = reaching_expiry.count()
        else:
            run.marked_expired = _mark_expired(reaching_expiry, now=now, run=run, batch_size=batch_size)
            lock_renew(holder)

        due = Certification.objects.due(now=now)
        due_ids = dialect().listed_pks(due)
        run.expired_found = len(due_ids)
        run.mentors_scanned = Certification.objects.alive().values("mentor_id").distinct().count()

        if run.dry_run:
            run.auto_paused = Mentor.objects.filter(status=MentorStatus.ACTIVE, pk__in=due.values("mentor_id")).count()
        else:
            # Steps 1 and 2 are committed: the run's record says so before the first batch.
            ExpiryJobRun.objects.filter(pk=run.pk).update(
                marked_expired=run.marked_expired, expired_found=run.expired_found, mentors_scanned=run.mentors_scanned
            )
            remaining = _apply_due(due_ids=due_ids, now=now, run=run, batch_size=batch_size, deadline=deadline)
            if remaining:
                answer = copy.copy(run)
                _finish_in_background(run=run, due_ids=remaining, now=now, batch_size=batch_size, clock=clock)
                handed_off = True
                return answer
        run.state = JobState.SUCCEEDED
    except BaseException as exc:
        run.state = JobState.FAILED
        run.error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if not handed_off:
            _finish(run, now=now, clock=clock)
    return run
