"""Writes to certification records: create, update, renew, revoke, delete, restore.

Every write runs in one transaction that also applies auto-resume
(``mentors.mentor_auto_resume``), so API and admin behave identically, and
returns a ``CertificationWriteResult``: the record as written, the mentor it
resumed and the log rows it wrote. The rules of a create or an update are
checked by ``certification_validate_create`` / ``certification_validate_update``,
which the writes themselves call and which a form can call without writing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from certhub.errors import Conflict, NotFound, RuleViolation
from certhub.ids import create_with_unique_id
from certifications.dates import add_months
from certifications.history import Actor
from certifications.models import Certification, CertificationStatus, CertificationType, Mentor
from certifications.services import effects
from certifications.services.guards import check_not_erased
from certifications.services.lapse.pause import mentor_auto_resume
from certifications.services.locks import certification_locked
from certifications.services.mentors import mentor_get_or_create
from certifications.services.results import CertificationWriteResult, MentorWriteResult

UPDATABLE_FIELDS = ("issued_at", "expires_at", "status", "certification_type", "revocation_reason")


@dataclass(frozen=True)
class NewCertification:
    """A certification that passed every rule of a create and is not written yet."""

    mentor_id: str
    certification_type: CertificationType
    issued_at: dt.datetime
    expires_at: dt.datetime
    status: str


def resolve_type(code: CertificationType | str) -> CertificationType:
    """Return the active certification type for ``code``; unknown or inactive is a 400."""
    if isinstance(code, CertificationType):
        if not code.is_active:
            raise RuleViolation(
                "Certification type is inactive.",
                fields={"certification_type": [f"Certification type '{code.code}' is inactive."]},
            )
        return code
    cert_type = CertificationType.objects.filter(code=code).first()
    if cert_type is None:
        raise RuleViolation(
            "Unknown certification type.",
            fields={"certification_type": [f"Unknown certification type '{code}'."]},
        )
    return resolve_type(cert_type)


def _status_for(expires_at: dt.datetime, now: dt.datetime) -> str:
    return CertificationStatus.VALID if expires_at > now else CertificationStatus.EXPIRED


def _check_dates(issued_at: dt.datetime, expires_at: dt.datetime) -> None:
    if expires_at <= issued_at:
        raise RuleViolation(
            "expires_at must be later than issued_at.",
            fields={"expires_at": ["Must be later than issued_at."]},
        )


def _check_not_duplicate(
    *, mentor_id: str, cert_type: CertificationType, issued_at: dt.datetime, exclude_pk: int | None = None
) -> None:
    """A mentor holds at most one live record of a type per issue time (409 naming the one held)."""
    existing = Certification.objects.alive().filter(
        mentor__mentor_id=mentor_id, certification_type=cert_type, issued_at=issued_at
    )
    if exclude_pk is not None:
        existing = existing.exclude(pk=exclude_pk)
    found = existing.values_list("certification_id", flat=True).first()
    if found:
        raise Conflict(
            f"Mentor {mentor_id} already holds a {cert_type.code} certification issued at that time: {found}.",
            certification_id=found,
        )


def _check_fields(changes: dict[str, Any]) -> None:
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise RuleViolation("Unknown fields.", fields={name: ["Unknown field."] for name in sorted(unknown)})


def _written(cert: Certification, resume: MentorWriteResult) -> CertificationWriteResult:
    return CertificationWriteResult(
        certification=cert, resumed_mentor=resume.mentor if resume.changed else None, logs=resume.logs
    )


def certification_validate_create(
    *,
    mentor_id: str,
    certification_type: CertificationType | str,
    issued_at: dt.datetime,
    expires_at: dt.datetime | None = None,
    now: dt.datetime,
) -> NewCertification:
    """Check every rule of ``certification_create`` and return what it would write; writes nothing.

    ``expires_at`` defaults to ``issued_at`` plus the type's validity; the
    status is derived from ``expires_at`` and ``now``.
    """
    new = certification_prepare(
        mentor_id=mentor_id, certification_type=certification_type, issued_at=issued_at, expires_at=expires_at, now=now
    )
    _check_not_duplicate(mentor_id=mentor_id, cert_type=new.certification_type, issued_at=issued_at)
    return new


def certification_prepare(
    *,
    mentor_id: str,
    certification_type: CertificationType | str,
    issued_at: dt.datetime,
    expires_at: dt.datetime | None = None,
    now: dt.datetime,
) -> NewCertification:
    """The rules of a create that need no query beyond the type: the expiry, the dates, the status.

    ``certification_validate_create`` adds the duplicate check; a bulk create
    makes that check set-based for all its rows at once.
    """
    cert_type = resolve_type(certification_type)
    if expires_at is None:
        expires_at = _end_of_validity(issued_at, cert_type)
    _check_dates(issued_at, expires_at)
    return NewCertification(
        mentor_id=mentor_id,
        certification_type=cert_type,
        issued_at=issued_at,
        expires_at=expires_at,
        status=_status_for(expires_at, now),
    )


def certification_create(
    *,
    mentor_id: str,
    certification_type: CertificationType | str,
    issued_at: dt.datetime,
    expires_at: dt.datetime | None = None,
    now: dt.datetime,
    by: Actor,
    mentor: Mentor | None = None,
) -> CertificationWriteResult:
    """Record a certification (rules: ``certification_validate_create``), creating the mentor on first mention.

    ``mentor``: the mentor's row when the caller has just read it (a renewal
    request's), which spares the look-up; it must be ``mentor_id``'s.
    """
    if mentor is not None and mentor.mentor_id != mentor_id:
        raise ValueError(f"mentor {mentor.mentor_id} is not {mentor_id}")
    with transaction.atomic():
        new = certification_validate_create(
            mentor_id=mentor_id,
            certification_type=certification_type,
            issued_at=issued_at,
            expires_at=expires_at,
            now=now,
        )
        if mentor is None:
            mentor = mentor_get_or_create(mentor_id=mentor_id, now=now, by=by)
        try:
            cert = create_with_unique_id(
                Certification,
                field="certification_id",
                prefix="cert_",
                values={
                    "mentor": mentor,
                    "certification_type": new.certification_type,
                    "issued_at": new.issued_at,
                    "expires_at": new.expires_at,
                    "status": new.status,
                    "created_at": now,
                    "updated_at": now,
                },
            )
        except IntegrityError:
            # A concurrent insert of the same record won the race.
            _check_not_duplicate(mentor_id=mentor_id, cert_type=new.certification_type, issued_at=new.issued_at)
            raise
        change = effects.certification_written(before=None, after=cert, now=now, by=by)
        resume = mentor_auto_resume(mentor=mentor, now=now, cause=cert, change=change, by=by)
    return _written(cert, resume)


def _as_resumed(cert: Certification, resume: MentorWriteResult) -> None:
    """``cert`` as auto-resume left it, without reading it again unless it held a flag resume may have cleared.

    Auto-resume locks and reads the mentor afresh (its state is the one to show)
    and only ever clears ``auto_pause_applied``: a record without the flag is as written.
    """
    cert.mentor = resume.mentor
    if cert.auto_pause_applied:
        cert.refresh_from_db(fields=["auto_pause_applied", "auto_pause_applied_at", "updated_at"])


def _with_changes(cert: Certification, *, changes: dict[str, Any], now: dt.datetime) -> Certification:
    """``cert`` with ``changes`` applied in memory after every rule of an update is checked.

    A status must agree with the dates: ``valid`` needs ``expires_at > now``,
    ``expired`` needs ``expires_at <= now``; ``revoked`` sets ``revoked_at``.
    Moving ``expires_at`` without naming a status re-derives it, unless revoked.
    """
    if cert.deleted_at is not None:
        raise NotFound("Not found: the certification was deleted.")
    check_not_erased(cert.mentor)
    if "certification_type" in changes:
        cert.certification_type = resolve_type(changes["certification_type"])
    cert.issued_at = changes.get("issued_at", cert.issued_at)
    cert.expires_at = changes.get("expires_at", cert.expires_at)
    _check_dates(cert.issued_at, cert.expires_at)

    new_status = changes.get("status")
    if new_status is None:
        if "expires_at" in changes and cert.status != CertificationStatus.REVOKED:
            cert.status = _status_for(cert.expires_at, now)
    elif new_status == CertificationStatus.VALID and cert.expires_at <= now:
        raise RuleViolation(
            "A valid certification must expire in the future.",
            fields={"status": ["'valid' needs expires_at later than now; renew expires_at too."]},
        )
    elif new_status == CertificationStatus.EXPIRED and cert.expires_at > now:
        raise RuleViolation(
            "An expired certification must have expires_at in the past.",
            fields={
                "status": ["'expired' needs expires_at at or before now; use 'revoked' to withdraw a current record."]
            },
        )
    elif new_status == CertificationStatus.REVOKED:
        if cert.status != CertificationStatus.REVOKED:
            cert.revoked_at = now
        cert.status = CertificationStatus.REVOKED
    else:
        cert.status = new_status

    if cert.status != CertificationStatus.REVOKED:
        if changes.get("revocation_reason"):
            raise RuleViolation(
                "Only a revoked certification has a revocation reason.",
                fields={"revocation_reason": ["Only a revoked certification has a revocation reason."]},
            )
        cert.revoked_at = None
        cert.revocation_reason = ""
    elif "revocation_reason" in changes:
        cert.revocation_reason = changes["revocation_reason"] or ""

    _check_not_duplicate(
        mentor_id=cert.mentor.mentor_id, cert_type=cert.certification_type, issued_at=cert.issued_at, exclude_pk=cert.pk
    )
    cert.updated_at = now
    return cert


def certification_validate_update(
    *, certification: Certification, changes: dict[str, Any], now: dt.datetime
) -> Certification:
    """Check every rule of ``certification_update`` and return the record as it would be saved; writes nothing.

    The record is read afresh (without a lock); ``certification`` itself is left unchanged.
    """
    _check_fields(changes)
    cert = Certification.objects.select_related("mentor", "certification_type").get(pk=certification.pk)
    return _with_changes(cert, changes=changes, now=now)


def certification_update(
    *, certification: Certification | str, changes: dict[str, Any], now: dt.datetime, by: Actor
) -> CertificationWriteResult:
    """Apply a partial update (PUT and PATCH alike); the rules are ``certification_validate_update``'s.

    ``certification`` is the record or the ``certification_id`` of a live one
    (``certification_locked`` reads it once, under its lock).

    Renewing and revoking are updates too: the effects tell a renewal, a
    revocation or another change from the record before and after.
    """
    _check_fields(changes)
    with transaction.atomic():
        cert = certification_locked(certification)
        before = effects.certification_snapshot(cert)
        cert = _with_changes(cert, changes=changes, now=now)
        cert.save()
        change = effects.certification_written(before=before, after=cert, now=now, by=by)
        resume = mentor_auto_resume(mentor=cert.mentor, now=now, cause=cert, change=change, by=by)
        _as_resumed(cert, resume)
    return _written(cert, resume)


def _end_of_validity(start: dt.datetime, cert_type: CertificationType) -> dt.datetime:
    """``start`` plus the type's validity; a 400 naming ``expires_at`` when that is past the calendar's end."""
    try:
        return add_months(start, cert_type.validity_months)
    except (ValueError, OverflowError):
        message = f"{cert_type.validity_months} months from {start:%Y-%m-%d} is past the year 9999; give expires_at."
        raise RuleViolation(message, fields={"expires_at": [message]}) from None


def certification_renew(
    *, certification: Certification, now: dt.datetime, by: Actor, expires_at: dt.datetime | None = None
) -> CertificationWriteResult:
    """Renew to ``expires_at``, or by the type's validity from the later of today and the current expiry."""
    if expires_at is None:
        expires_at = _end_of_validity(max(certification.expires_at, now), certification.certification_type)
    if expires_at <= now:
        raise RuleViolation("A renewal must end in the future.", fields={"expires_at": ["Must be in the future."]})
    return certification_update(
        certification=certification,
        changes={"expires_at": expires_at, "status": CertificationStatus.VALID},
        now=now,
        by=by,
    )


def certification_revoke(
    *, certification: Certification, now: dt.datetime, by: Actor, reason: str = ""
) -> CertificationWriteResult:
    """Withdraw a record; the expiry job pauses the mentor if nothing else covers the type."""
    return certification_update(
        certification=certification,
        changes={"status": CertificationStatus.REVOKED, "revocation_reason": reason},
        now=now,
        by=by,
    )


def certification_delete(
    *, certification: Certification | str, now: dt.datetime, by: Actor
) -> CertificationWriteResult:
    """Soft-delete a record (repeat-safe; by ``certification_id``, a 404 once deleted); may resume a mentor."""
    with transaction.atomic():
        cert = certification_locked(certification)
        if cert.deleted_at is not None:
            return CertificationWriteResult(certification=cert)
        before = effects.certification_snapshot(cert)
        Certification.objects.filter(pk=cert.pk, deleted_at__isnull=True).update(deleted_at=now, updated_at=now)
        cert.deleted_at = cert.updated_at = now  # the locked row, as the UPDATE wrote it
        change = effects.certification_written(before=before, after=cert, now=now, by=by)
        resume = mentor_auto_resume(mentor=cert.mentor, now=now, cause=cert, change=change, by=by)
        _as_resumed(cert, resume)
    return _written(cert, resume)


def certification_restore(*, certification: Certification, now: dt.datetime, by: Actor) -> CertificationWriteResult:
    """Undo a soft delete, unless a live record now takes its place (409)."""
    with transaction.atomic():
        cert = certification_locked(certification)
        if cert.deleted_at is None:
            return CertificationWriteResult(certification=cert)
        _check_not_duplicate(
            mentor_id=cert.mentor.mentor_id,
            cert_type=cert.certification_type,
            issued_at=cert.issued_at,
            exclude_pk=cert.pk,
        )
        before = effects.certification_snapshot(cert)
        Certification.objects.filter(pk=cert.pk).update(deleted_at=None, updated_at=now)
        cert.deleted_at, cert.updated_at = None, now  # the locked row, as the UPDATE wrote it
        change = effects.certification_written(before=before, after=cert, now=now, by=by)
        resume = mentor_auto_resume(mentor=cert.mentor, now=now, cause=cert, change=change, by=by)
        _as_resumed(cert, resume)
    return _written(cert, resume)
