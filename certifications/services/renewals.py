"""Renewal requests: a mentor's proof of a new certificate, submitted, then approved, rejected or withdrawn.

Every rule of a submission is checked before anything is stored, the file
included; a write that fails after the file was stored deletes it, so a
refused request leaves nothing behind. Approval is a renewal: it records the
new certification through ``certification_create`` in the same transaction,
so the new record supersedes the old one and every consequence of a create
follows (history naming the reviewer, auto-resume, events, totals), then
marks the request decided. Each write ends with ``effects.renewal_request_written``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.core.files import File
from django.db import IntegrityError, transaction

from certhub.errors import AlreadyDecided, PendingRequestExists, RuleViolation
from certhub.ids import create_with_unique_id, new_id
from certifications.history import Actor, Source
from certifications.models import Certification, CertificationType, Mentor, RenewalRequest, RenewalState, SubmittedVia
from certifications.renewals.evidence import evidence_kind, evidence_name, evidence_storage
from certifications.services import effects
from certifications.services.guards import check_not_erased
from certifications.services.records import certification_create, certification_prepare, resolve_type

ID_PREFIX = "rnw_"
ID_LENGTH = 10
NOTE_MAX = 2000
REASON_MAX = 500
# Where a request came from follows from who sent it.
VIA = {
    Source.API: SubmittedVia.API,
    Source.ADMIN: SubmittedVia.ADMIN,
    Source.CLI: SubmittedVia.ADMIN,  # staff at the command line
    Source.MENTOR: SubmittedVia.MENTOR_LINK,
}


@dataclasses.dataclass(frozen=True)
class NewRenewalRequest:
    """A submission that passed every rule and is not written yet."""

    mentor: Mentor
    certification_type: CertificationType
    issued_at: dt.datetime
    expires_at: dt.datetime | None
    note: str


def new_renewal_request_id(prefix: str) -> str:
    return new_id(prefix, ID_LENGTH)


def _check_renewal_dates(
    *, mentor_id: str, cert_type: CertificationType, issued_at: dt.datetime, expires_at: dt.datetime | None, now
) -> None:
    """An issue date not in the future, an expiry after it and after ``now`` (a renewal is a current record)."""
    if issued_at > now:
        raise RuleViolation(
            "issued_at is in the future.", fields={"issued_at": ["A certificate cannot be issued in the future."]}
        )
    new = certification_prepare(
        mentor_id=mentor_id, certification_type=cert_type, issued_at=issued_at, expires_at=expires_at, now=now
    )
    if new.expires_at <= now:
        raise RuleViolation(
            "This certificate has already expired.",
            fields={"expires_at": ["The renewed certificate must expire in the future."]},
        )


def _pending_conflict(mentor: Mentor, cert_type: CertificationType) -> None:
    found = (
        RenewalRequest.objects.filter(mentor=mentor, certification_type=cert_type, state=RenewalState.PENDING)
        .values_list("renewal_request_id", flat=True)
        .first()
    )
    if found:
        raise PendingRequestExists(
            f"Mentor {mentor.mentor_id} already has a pending {cert_type.code} renewal request: {found}.",
            renewal_request_id=found,
        )


def renewal_request_validate(
    *,
    mentor_id: str,
    certification_type: CertificationType | str,
    issued_at: dt.datetime,
    expires_at: dt.datetime | None = None,
    note: str = "",
    now: dt.datetime,
) -> NewRenewalRequest:
    """Check every rule of a submission but the file's; writes nothing.

    The mentor must exist and have held the type (a first certification is
    recorded by staff); the dates those of a current record; no other request
    of the mentor and type pending (409 ``pending_request_exists``).
    """
    mentor = Mentor.objects.filter(mentor_id=mentor_id).first()
    if mentor is None:
        raise RuleViolation("Unknown mentor.", fields={"mentor_id": [f"No mentor {mentor_id}."]})
    check_not_erased(mentor)
    cert_type = resolve_type(certification_type)
    if not Certification.objects.alive().filter(mentor=mentor, certification_type=cert_type).exists():
        raise RuleViolation(
            "The mentor has never held this certification type.",
            fields={
                "certification_type": [
                    f"{mentor_id} holds no {cert_type.code} certification to renew; a first one is recorded by staff."
                ]
            },
        )
    if len(note) > NOTE_MAX:
        raise RuleViolation("The note is too long.", fields={"note": [f"At most {NOTE_MAX} characters."]})
    _check_renewal_dates(mentor_id=mentor_id, cert_type=cert_type, issued_at=issued_at, expires_at=expires_at, now=now)
    _pending_conflict(mentor, cert_type)
    return NewRenewalRequest(
        mentor=mentor, certification_type=cert_type, issued_at=issued_at, expires_at=expires_at, note=note
    )


def renewal_request_submit(
    *,
    mentor_id: str,
    certification_type: CertificationType | str,
    issued_at: dt.datetime,
    expires_at: dt.datetime | None = None,
    note: str = "",
    evidence: File,
    now: dt.datetime,
    by: Actor,
) -> RenewalRequest:
    """Store ``evidence`` and record a pending request (rules: ``renewal_request_validate`` and the file's kind)."""
    new = renewal_request_validate(
        mentor_id=mentor_id,
        certification_type=certification_type,
        issued_at=issued_at,
        expires_at=expires_at,
        note=note,
        now=now,
    )
    kind = evidence_kind(evidence)
    storage = evidence_storage()
    evidence.seek(0)
    name = storage.save(evidence_name(kind, now=now), evidence)
    try:
        with transaction.atomic():
            try:
                request = create_with_unique_id(
                    RenewalRequest,
                    field="renewal_request_id",
                    prefix=ID_PREFIX,
                    generate=new_renewal_request_id,
                    values={
                        "mentor": new.mentor,
                        "certification_type": new.certification_type,
                        "issued_at": new.issued_at,
                        "expires_at": new.expires_at,
                        "evidence": name,
                        "evidence_content_type": kind.content_type,
                        "evidence_size": storage.size(name),
                        "note": new.note,
                        "submitted_via": VIA[by.source],
                        "created_at": now,
                    },
                )
            except IntegrityError:
                _pending_conflict(new.mentor, new.certification_type)  # a concurrent submission won the race
                raise
            effects.renewal_request_written(before_state=None, after=request, now=now, by=by)
    except BaseException:
        storage.delete(name)
        raise
    return request


def _locked_pending(renewal_request: RenewalRequest) -> RenewalRequest:
    """The request read afresh under a row lock, with its mentor and type; 409 ``already_decided`` unless pending."""
    locked = (
        RenewalRequest.objects.select_for_update(of=("self",))
        .select_related("mentor", "certification_type")
        .get(pk=renewal_request.pk)
    )
    if locked.state != RenewalState.PENDING:
        raise AlreadyDecided(
            f"Renewal request {locked.renewal_request_id} is already {locked.state}.", state=locked.state
        )
    return locked


def _decide(request: RenewalRequest, *, state: str, now: dt.datetime, by: Actor, **fields) -> RenewalRequest:
    before_state = request.state
    request.state = state
    request.decided_by = by.user
    request.decided_at = now
    for name, value in fields.items():
        setattr(request, name, value)
    request.save(update_fields=["state", "decided_by", "decided_at", *fields])
    effects.renewal_request_written(before_state=before_state, after=request, now=now, by=by)
    return request


def renewal_request_approve(
    *,
    renewal_request: RenewalRequest,
    issued_at: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
    now: dt.datetime,
    by: Actor,
) -> RenewalRequest:
    """Record the renewal the request asks for (the reviewer may correct the dates) and mark it approved.

    The new certification is written by ``certification_create`` with ``by`` as
    its author (the history names the reviewer, its reason the request), so
    every consequence of a create follows in this transaction.
    """
    with transaction.atomic():
        request = _locked_pending(renewal_request)
        issued = issued_at or request.issued_at
        expires = expires_at if expires_at is not None else request.expires_at
        mentor_id = request.mentor.mentor_id
        _check_renewal_dates(
            mentor_id=mentor_id, cert_type=request.certification_type, issued_at=issued, expires_at=expires, now=now
        )
        written = certification_create(
            mentor_id=mentor_id,
            certification_type=request.certification_type,
            issued_at=issued,
            expires_at=expires,
            now=now,
            by=dataclasses.replace(by, reason=f"Renewal request {request.renewal_request_id}"),
            mentor=request.mentor,
        )
        return _decide(request, state=RenewalState.APPROVED, now=now, by=by, certification=written.certification)


def renewal_request_reject(
    *, renewal_request: RenewalRequest, reason: str, now: dt.datetime, by: Actor
) -> RenewalRequest:
    """Refuse the request, saying why (the mentor's notice carries the reason)."""
    reason = reason.strip()
    if not reason:
        raise RuleViolation("A rejection needs a reason.", fields={"reason": ["Say why the request is rejected."]})
    if len(reason) > REASON_MAX:
        raise RuleViolation("The reason is too long.", fields={"reason": [f"At most {REASON_MAX} characters."]})
    with transaction.atomic():
        request = _locked_pending(renewal_request)
        return _decide(request, state=RenewalState.REJECTED, now=now, by=by, decision_reason=reason)


def renewal_request_withdraw(*, renewal_request: RenewalRequest, now: dt.datetime, by: Actor) -> RenewalRequest:
    """Withdraw a pending request (the mentor sent the wrong file, say); its evidence stays until retention."""
    with transaction.atomic():
        request = _locked_pending(renewal_request)
        return _decide(request, state=RenewalState.WITHDRAWN, now=now, by=by)
