"""The batch engine's interface, and the locking reads every engine starts a batch with.

An engine applies auto-pause to one batch of listed certifications, inside the
caller's transaction: it locks the records, then their mentors (in the order
every write locks them, record then mentor, so the job and a concurrent
renewal never deadlock), re-checks which records are still due under those
locks, flags them, pauses their active mentors with the reason of each one's
lowest due record, and writes one ``auto_pause`` log row per flagged record.
How the writes are issued is the engine's business (``orm``, ``postgresql``).
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from certhub.sql import pk_in
from certifications.models import Certification, ExpiryJobRun, Mentor


@dataclass(frozen=True)
class BatchResult:
    """What one batch wrote."""

    flagged: int  # records still due under the locks, now flagged ``auto_pause_applied``
    paused: int  # mentors moved from active to paused (``auto_paused``)
    logged: int  # ``auto_pause`` log rows written, one per flagged record
    flagged_pks: tuple[int, ...] = field(default=(), compare=False)  # the flagged records' primary keys
    paused_pks: tuple[int, ...] = field(default=(), compare=False)  # the paused mentors' primary keys
    # The batch's statement wrote the consequences that are parts of it (``effects.job_batch_parts``).
    in_statement: bool = field(default=False, compare=False)


NOTHING = BatchResult(flagged=0, paused=0, logged=0)


@dataclass(frozen=True)
class LockedBatch:
    """The listed records that still exist, locked, and their mentors' statuses read under lock."""

    pks: list[int]
    mentor_status: dict[int, str]


class BatchEngine(abc.ABC):
    """Applies one batch; call ``apply`` inside a transaction (the job's batch transaction)."""

    name: str

    def apply(self, *, ids: Sequence[int], now: dt.datetime, run: ExpiryJobRun) -> BatchResult:
        """Lock the records among ``ids`` and their mentors, then write the batch (``apply_locked``)."""
        locked = lock_batch(ids)
        if not locked.pks:
            return NOTHING
        return self.apply_locked(batch=locked, now=now, run=run)

    @abc.abstractmethod
    def apply_locked(self, *, batch: LockedBatch, now: dt.datetime, run: ExpiryJobRun) -> BatchResult:
        """Flag the records of ``batch`` still due at ``now``, pause their active mentors, log each record."""


def lock_batch(ids: Sequence[int]) -> LockedBatch:
    """Lock the listed records, then their mentors, both in primary key order (two statements)."""
    locked = list(
        Certification.objects.filter(pk_in(Certification, ids))
        .order_by("pk")
        .select_for_update()
        .values_list("pk", "mentor_id")
    )
    if not locked:
        return LockedBatch(pks=[], mentor_status={})
    mentor_status = dict(
        Mentor.objects.filter(pk_in(Mentor, sorted({mentor_pk for _, mentor_pk in locked})))
        .order_by("pk")
        .select_for_update()
        .values_list("pk", "status")
    )
    return LockedBatch(pks=[pk for pk, _ in locked], mentor_status=mentor_status)
