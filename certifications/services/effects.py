"""What a write implies beyond its own rows, in one place: every write path calls these inside its transaction.

A certification write, a mentor's pause or resume, and the expiry job's steps
each call one function here after writing, in the same transaction as the
change. The consequences that follow a change wherever it comes from are added
here, set-based for the job's batches, so that no entry point adds a side
effect of its own and the API, the admin, an import row, a command and the job
cannot disagree: first the domain's own (history, maintained totals), then
those of the apps that react to a write (outbox events, notifications), which
plug in at start-up as ``receivers`` (decision 0029) since the domain does not
import them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from certifications.changes import CertificationChange, MentorChange, certification_change, renewal_request_change
from certifications.history import Actor
from certifications.history import hooks as history
from certifications.history.models import Subject
from certifications.history.record import TRACKED
from certifications.history.record import snapshot as history_snapshot
from certifications.models import AutoPauseLog, Certification, CertificationType, ExpiryJobRun, Mentor, RenewalRequest
from certifications.services.receivers import BatchPart, receivers
from certifications.totals import mentors as mentor_tallies
from certifications.totals import tallies

# The fields of a certification, a mentor, whose change is a change of the object (as its history records it).
CERTIFICATION_FIELDS = TRACKED[Subject.CERTIFICATION]
MENTOR_FIELDS = TRACKED[Subject.MENTOR]
# The tally group of a mentor a bulk create makes: the defaults (active, not paused).
NEW_MENTOR = {"status": Mentor._meta.get_field("status").default, "paused_by": ""}


def certification_snapshot(cert: Certification) -> dict[str, Any]:
    """The tracked fields of ``cert`` as they are now: a write's ``before``."""
    return history_snapshot(cert)


def mentor_snapshot(mentor: Mentor) -> dict[str, Any]:
    """The tracked fields of ``mentor`` as they are now: a write's ``before``."""
    return history_snapshot(mentor)


def certification_type_snapshot(cert_type: CertificationType) -> dict[str, Any]:
    """The tracked fields of ``cert_type`` (its policy included) as they are now: a write's ``before``."""
    return history_snapshot(cert_type)


def certification_written(
    *, before: dict[str, Any] | None, after: Certification, now: dt.datetime, by: Actor
) -> CertificationChange:
    """A certification was created (``before`` is None) or changed from ``before`` to ``after`` by ``by``.

    The write's kind is derived here, once, from ``before`` and ``after``
    (``certification_change``), whatever door the write came through; the
    history row, the event and the auto-resume that follows (the kind is
    returned for it) all tell the same kind.
    """
    snapshot = certification_snapshot(after)
    change = certification_change(before=before, after=snapshot)
    history.certification_written(change=change, before=before, after=after, now=now, by=by)
    tallies.tally_certification_written(before=before, after=snapshot)
    for receiver in receivers():
        receiver.certification_written(change=change, before=before, after=after, now=now)
    return change


def certifications_created(
    *, certs: Sequence[Certification], mentors: Sequence[Mentor], now: dt.datetime, by: Actor
) -> None:
    """A bulk create wrote ``certs`` and, on their first mention, ``mentors``; set-based, as many rows as one by one.

    The rows are those ``mentor_written`` (created) and ``certification_written``
    (created) write for each object: a history row each, one tally delta per
    key (certifications and mentors), one ``certification.created`` event per record (with its deliveries).
    A mentor's creation has no event and no notice.
    """
    history.objects_created(objs=mentors, now=now, by=by)
    history.objects_created(objs=certs, now=now, by=by)
    mentor_tallies.tally_mentors_created(afters=[mentor_snapshot(mentor) for mentor in mentors])
    tallies.tally_certifications_created(afters=[certification_snapshot(cert) for cert in certs])
    for receiver in receivers():
        receiver.certifications_created(pks=[cert.pk for cert in certs], now=now)


def rows_created(*, cert_pks: Sequence[int], mentor_pks: Sequence[int], now: dt.datetime, by: Actor) -> None:
    """PostgreSQL: what ``certifications_created`` writes, built in the database from the rows just inserted.

    ``mentor_pks`` are mentors created with the records, each active and not
    paused (as a bulk create makes them); a fixed number of statements, no
    Python object per row.
    """
    history.rows_created(model=Mentor, pks=mentor_pks, now=now, by=by)
    history.rows_created(model=Certification, pks=cert_pks, now=now, by=by)
    mentor_tallies.tally_mentors_created(afters=[NEW_MENTOR] * len(mentor_pks))
    tallies.tally_records_created(pks=cert_pks)
    for receiver in receivers():
        receiver.certifications_created(pks=cert_pks, now=now)


def mentor_written(
    *,
    change: MentorChange,
    before: dict[str, Any] | None,
    after: Mentor,
    now: dt.datetime,
    by: Actor,
    log: AutoPauseLog | None = None,
) -> None:
    """A mentor was created (``before`` is None), edited, paused or resumed by ``by``.

    ``log`` is the ``auto_resume`` log row of an automatic resume.
    """
    history.mentor_written(change=change, before=before, after=after, now=now, by=by, log=log)
    mentor_tallies.tally_mentor_written(before=before, after=mentor_snapshot(after))
    for receiver in receivers():
        receiver.mentor_written(change=change, before=before, after=after, now=now, log=log)


def certification_type_written(
    *, before: dict[str, Any] | None, after: CertificationType, now: dt.datetime, by: Actor
) -> None:
    """A certification type was created (``before`` is None) or edited (its policy included) by ``by``."""
    history.certification_type_written(before=before, after=after, now=now, by=by)


def renewal_request_written(*, before_state: str | None, after: RenewalRequest, now: dt.datetime, by: Actor) -> None:
    """A renewal request was submitted (``before_state`` None) or decided by ``by``.

    No history row of its own: the request keeps who decided it and when, and an
    approval's certification has its history through ``certification_written``.
    The kind (submitted, approved, rejected, withdrawn) is derived here, once.
    """
    change = renewal_request_change(before_state=before_state, after_state=after.state)
    for receiver in receivers():
        receiver.renewal_request_written(change=change, request=after, now=now)


def records_unflagged(*, pks: Sequence[int], now: dt.datetime, by: Actor) -> None:
    """Auto-resume cleared ``auto_pause_applied`` on the certifications ``pks``: they are no longer lapsed."""
    history.records_unflagged(pks=pks, now=now, by=by)


def job_records_expired(*, pks: Sequence[int], now: dt.datetime, run: ExpiryJobRun) -> None:
    """The job's step 1 moved the certifications ``pks`` from ``valid`` to ``expired`` (one chunk of them)."""
    tallies.tally_records_expired(pks=pks)
    history.job_records_expired(pks=pks, now=now, run=run)
    for receiver in receivers():
        receiver.job_records_expired(pks=pks, now=now, run=run)


def job_batch_parts(*, now: dt.datetime, run: ExpiryJobRun) -> list[BatchPart]:
    """A job batch's consequences that its own statement writes on PostgreSQL (decision 0051).

    The mentors' tally moves and the history rows (the domain's, decision 0053),
    then each receiver's parts (the notifications' notices and their tally, the
    events and their deliveries); ``job_batch_applied`` is then called with
    ``in_statement`` and writes the rest.
    """
    parts = [
        BatchPart(ctes=f"mentors_tallied AS ({mentor_tallies.auto_paused_sql('paused')})", params={}),
        history.job_batch_part(now=now, run=run),
    ]
    for receiver in receivers():
        parts.extend(receiver.job_batch_parts(now=now, run=run))
    return parts


def job_batch_applied(
    *, flagged: Sequence[int], paused: Sequence[int], now: dt.datetime, run: ExpiryJobRun, in_statement: bool = False
) -> None:
    """A job batch flagged the certifications ``flagged`` and paused the mentors ``paused`` (primary keys).

    Each flagged record has its ``auto_pause`` log row (``job_run=run``, ``applied_at=now``)
    and each paused mentor its new ``pause_reason``: consequences are written
    set-based from those, a fixed number of statements whatever the batch size.
    With ``in_statement`` the batch's statement wrote ``job_batch_parts``
    already (the mentors' tally, the history, the notices, the events): the rest is written here.
    """
    if not in_statement:
        history.job_batch_applied(flagged=flagged, paused=paused, now=now, run=run)
        mentor_tallies.tally_mentors_auto_paused(count=len(paused))
    for receiver in receivers():
        receiver.job_batch_applied(flagged=flagged, paused=paused, now=now, run=run, in_statement=in_statement)


def job_run_finished(*, run: ExpiryJobRun) -> None:
    """A non-dry run ended (succeeded or failed) and its record is saved."""
    for receiver in receivers():
        receiver.job_run_finished(run=run)
