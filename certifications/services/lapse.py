"""The lapse rule's writes: the expiry job, auto-pause, auto-resume and staff pauses.

A certification is *lapsed* at ``now`` when it is live, revoked or past expiry,
and its mentor holds no current record of the same type
(``Certification.objects.lapsed``). It is *due* when lapsed and its
auto-pause is not applied yet (``Certification.objects.due``).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from certhub.errors import JobAlreadyRunning, ServiceUnavailable
from certhub.ids import create_with_unique_id, fresh_ids
from certifications.models import (
    AutoPauseLog,
    Certification,
    CertificationStatus,
    CertificationType,
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


def pause_reason(*, type_code: str, status: str, expires_at: dt.datetime, revoked_at: dt.datetime | None) -> str:
    """``Certification <type> expired on <date>`` (or ``revoked on <date>``)."""
    if status == CertificationStatus.REVOKED and revoked_at is not None:
        return f"Certification {type_code} revoked on {revoked_at.astimezone(dt.UTC):%Y-%m-%d}"
    return f"Certification {type_code} expired on {expires_at.astimezone(dt.UTC):%Y-%m-%d}"


def resume_reason(cause: Certification, *, now: dt.datetime) -> str:
    """Why a write resumed a mentor, named after the record it wrote."""
    code = cause.certification_type.code
    if cause.deleted_at is not None:
        return f"Certification {code} record {cause.certification_id} deleted on {cause.deleted_at:%Y-%m-%d}"
    if cause.status == CertificationStatus.VALID and cause.expires_at > now:
        return f"Certification {code} renewed until {cause.expires_at.astimezone(dt.UTC):%Y-%m-%d}"
    return f"Certification {code} no longer lapsed"


# --- Pause and resume ---------------------------------------------------------------


def mentor_auto_resume(*, mentor: Mentor, now: dt.datetime, cause: Certification) -> bool:
    """After a write to ``cause``, undo auto-pauses that no longer hold. Returns True if resumed.

    Records of the mentor flagged ``auto_pause_applied`` that are no longer
    lapsed get the flag cleared; a mentor paused by ``auto`` who holds no lapsed
    record is resumed with an ``auto_resume`` log row. A staff pause stays.
    Call inside the write's transaction.
    """
    mentor = Mentor.objects.select_for_update().get(pk=mentor.pk)
    lapsed = Certification.objects.filter(mentor=mentor).lapsed(now=now)
    Certification.objects.filter(mentor=mentor, auto_pause_applied=True).exclude(pk__in=lapsed.values("pk")).update(
        auto_pause_applied=False, auto_pause_applied_at=None, updated_at=now
    )
    if not (mentor.status == MentorStatus.PAUSED and mentor.paused_by == PausedBy.AUTO) or lapsed.exists():
        return False
    resumed = Mentor.objects.filter(pk=mentor.pk, status=MentorStatus.PAUSED, paused_by=PausedBy.AUTO).update(
        status=MentorStatus.ACTIVE, paused_by="", paused_at=None, pause_reason="", updated_at=now
    )
    if resumed:
        create_with_unique_id(
            AutoPauseLog,
            field="log_id",
            prefix="log_",
            values={
                "mentor": mentor,
                "certification": cause,
                "job_run": None,
                "event": LogEvent.AUTO_RESUME,
                "reason": resume_reason(cause, now=now),
                "applied_at": now,
            },
        )
    return bool(resumed)


def mentor_pause(*, mentor: Mentor, now: dt.datetime, reason: str) -> Mentor:
    """Pause a mentor by staff decision (never lifted automatically); repeat-safe."""
    reason = reason.strip() or "Paused by staff"
    Mentor.objects.filter(pk=mentor.pk).exclude(status=MentorStatus.PAUSED, paused_by=PausedBy.STAFF).update(
        status=MentorStatus.PAUSED, paused_by=PausedBy.STAFF, paused_at=now, pause_reason=reason[:255], updated_at=now
    )
    mentor.refresh_from_db()
    return mentor


def mentor_resume(*, mentor: Mentor, now: dt.datetime) -> Mentor:
    """Resume a paused mentor by staff decision (a staff or an auto pause); repeat-safe."""
    Mentor.objects.filter(pk=mentor.pk, status=MentorStatus.PAUSED).update(
        status=MentorStatus.ACTIVE, paused_by="", paused_at=None, pause_reason="", updated_at=now
    )
    mentor.refresh_from_db()
    return mentor


# --- The single-run lock -----------------------------------------------------------


def _lease_deadline() -> dt.datetime:
    # The lease is about real elapsed time, so it reads the wall clock, not the job's ``now``.
    return timezone.now() + dt.timedelta(seconds=settings.EXPIRY_JOB_LOCK_TTL_SECONDS)


def lock_holder() -> str | None:
    """The job run id holding a live lease on the expiry lock, if any."""
    lock = JobLock.objects.filter(name=LOCK_NAME, lease_until__gt=timezone.now()).exclude(holder="").first()
    return lock.holder if lock else None


def _lock_acquire(holder: str) -> str | None:
    """Take the lock for ``holder``; return the live holder's id when it is taken."""
    JobLock.objects.get_or_create(name=LOCK_NAME)
    wall = timezone.now()
    stale = JobLock.objects.filter(name=LOCK_NAME, lease_until__lte=wall).exclude(holder="").first()
    taken = (
        JobLock.objects.filter(name=LOCK_NAME)
        .filter(Q(holder="") | Q(lease_until__lte=wall))
        .update(holder=holder, acquired_at=wall, lease_until=_lease_deadline())
    )
    if not taken:
        return lock_holder() or "unknown"
    if stale is not None:
        # The previous holder stopped renewing its lease: its process died.
        ExpiryJobRun.objects.filter(job_run_id=stale.holder, state=JobState.RUNNING).update(
            state=JobState.FAILED, completed_at=wall, error="The worker stopped before the run completed."
        )
    return None


def _lock_renew(holder: str) -> bool:
    return bool(JobLock.objects.filter(name=LOCK_NAME, holder=holder).update(lease_until=_lease_deadline()))


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
    codes = dict(CertificationType.objects.values_list("pk", "code"))
    rows = (
        Certification.objects.due(now=now)
        .order_by("mentor__mentor_id", "certification_id")
        .values(
            "certification_id",
            "certification_type_id",
            "status",
            "expires_at",
            "revoked_at",
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
            reason=pause_reason(
                type_code=codes[row["certification_type_id"]],
                status=row["status"],
                expires_at=row["expires_at"],
                revoked_at=row["revoked_at"],
            ),
        )
        for row in rows
    ]


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _apply_batch(*, ids: Sequence[int], now: dt.datetime, run: ExpiryJobRun, codes: dict[int, str]) -> int:
    """Apply auto-pause to one batch of due certifications in one transaction; return mentors paused.

    The due condition is re-checked under row locks, so a record renewed since
    the batch was listed is skipped. Statements: lock the due records, lock the
    active mentors, flag the records, pause the mentors, check log ids, insert logs.
    """
    with transaction.atomic():
        rows = list(
            Certification.objects.due(now=now)
            .filter(pk__in=ids)
            .order_by("pk")
            .select_for_update()
            .values("pk", "mentor_id", "certification_type_id", "status", "expires_at", "revoked_at")
        )
        if not rows:
            return 0
        reasons = {
            row["pk"]: pause_reason(
                type_code=codes[row["certification_type_id"]],
                status=row["status"],
                expires_at=row["expires_at"],
                revoked_at=row["revoked_at"],
            )
            for row in rows
        }
        mentor_reason: dict[int, str] = {}
        for row in rows:
            mentor_reason.setdefault(row["mentor_id"], reasons[row["pk"]])
        to_pause = list(
            Mentor.objects.filter(pk__in=list(mentor_reason), status=MentorStatus.ACTIVE)
            .order_by("pk")
            .select_for_update()
            .values_list("pk", flat=True)
        )
        Certification.objects.filter(pk__in=[row["pk"] for row in rows]).update(
            auto_pause_applied=True, auto_pause_applied_at=now, updated_at=now
        )
        if to_pause:
            Mentor.objects.filter(pk__in=to_pause, status=MentorStatus.ACTIVE).update(
                status=MentorStatus.PAUSED,
                paused_by=PausedBy.AUTO,
                paused_at=now,
                updated_at=now,
                pause_reason=Case(*(When(pk=pk, then=Value(mentor_reason[pk])) for pk in to_pause)),
            )
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
    return len(to_pause)


def _failure(pk: int, error: Exception) -> dict[str, str]:
    ids = Certification.objects.filter(pk=pk).values_list("certification_id", "mentor__mentor_id").first()
    certification_id, mentor_id = ids if ids else ("", "")
    return {"mentor_id": mentor_id, "certification_id": certification_id, "error": f"{type(error).__name__}: {error}"}


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
       ``expired`` (``marked_expired``).
    2. Find the due certifications: lapsed at ``now`` with
       ``auto_pause_applied = false`` (``expired_found``).
    3. In batches of ``EXPIRY_JOB_BATCH_SIZE``, one transaction each: pause the
       mentor unless already paused (``auto_paused`` counts active -> paused),
       flag the record applied at ``now``, append one ``auto_pause`` log row.
       A batch that fails is retried item by item; items that still fail are
       listed in ``failures`` and the rest are applied.
    4. Record the counters, ``mentors_scanned`` (mentors holding a live record) included.

    A dry run computes the same counters and writes only its run record. Only
    one non-dry run executes at a time (a lease lock renewed per batch);
    a second one raises ``JobAlreadyRunning``. Running twice at the same ``now``
    changes nothing the second time.
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
    run.state, run.started_at = JobState.RUNNING, now
    try:
        expired_now = Certification.objects.filter(status=CertificationStatus.VALID, expires_at__lte=now).alive()
        if run.dry_run:
            run.marked_expired = expired_now.count()
        else:
            run.marked_expired = expired_now.update(status=CertificationStatus.EXPIRED, updated_at=now)

        due = Certification.objects.due(now=now)
        due_ids = list(due.order_by("pk").values_list("pk", flat=True))
        run.expired_found = len(due_ids)
        run.mentors_scanned = Certification.objects.alive().values("mentor_id").distinct().count()

        if run.dry_run:
            run.auto_paused = Mentor.objects.filter(status=MentorStatus.ACTIVE, pk__in=due.values("mentor_id")).count()
        else:
            codes = dict(CertificationType.objects.values_list("pk", "code"))
            failures: list[dict[str, str]] = []
            for batch in _chunks(due_ids, batch_size):
                try:
                    run.auto_paused += _apply_batch(ids=batch, now=now, run=run, codes=codes)
                except Exception:
                    logger.exception("expiry batch failed; retrying item by item")
                    for pk in batch:
                        try:
                            run.auto_paused += _apply_batch(ids=[pk], now=now, run=run, codes=codes)
                        except Exception as exc:
                            failures.append(_failure(pk, exc))
                if not _lock_renew(holder):
                    raise RuntimeError("The expiry lock was lost (lease expired); stopping this run.")
            run.failures = failures
        run.state = JobState.SUCCEEDED
    except Exception as exc:
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
