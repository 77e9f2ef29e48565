"""Applying an import: each row through the same write services as the API, in one transaction.

A row's record is the live one with the same ``(mentor_id, certification_type,
issued_at)``: updated if the row differs from it, skipped if identical,
created otherwise. Mentor name and email columns create or update the mentor.
Every row runs in its own savepoint; a row a service refuses is ``invalid``
with the service's message. Without ``partial`` one invalid row applies
nothing; a ``dry_run`` runs every row the same way and rolls everything back,
so its answer is exactly what the import would do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from certhub.api.fields import parse_timestamp
from certhub.errors import DomainError
from certhub.ids import MENTOR_ID_RE
from certifications.bulk.rows import ACTIONS, ImportRow
from certifications.history import Actor
from certifications.models import Certification, CertificationStatus, CertificationType, Mentor
from certifications.services.mentors import mentor_get_or_create, mentor_update
from certifications.services.records import (
    certification_create,
    certification_revoke,
    certification_update,
)

NEW, UPDATED, SKIPPED, INVALID = "new", "updated", "skipped", "invalid"


@dataclass
class RowResult:
    line: int
    action: str
    certification_id: str | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class ImportResult:
    dry_run: bool
    applied: bool
    rows: list[RowResult]

    @property
    def totals(self) -> dict[str, int]:
        counts = {NEW: 0, UPDATED: 0, SKIPPED: 0, INVALID: 0}
        for row in self.rows:
            counts[row.action] += 1
        return counts


@dataclass(frozen=True)
class _Parsed:
    mentor_id: str
    cert_type: CertificationType
    issued_at: dt.datetime
    expires_at: dt.datetime | None
    name: str | None
    email: str | None
    action: str
    reason: str

    @property
    def key(self) -> tuple:
        return (self.mentor_id, self.cert_type.pk, self.issued_at)


class _RowInvalid(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


class _Rollback(Exception):
    """Leaves the import's transaction without committing (a dry run, or an invalid row without ``partial``)."""


def _timestamp(cells: dict[str, str], name: str, errors: dict[str, list[str]]) -> dt.datetime | None:
    raw = cells.get(name, "")
    if not raw:
        return None
    try:
        return parse_timestamp(raw)
    except ValueError as exc:
        errors[name] = [str(exc)]
        return None


def _parse(row: ImportRow, types: dict[str, CertificationType]) -> _Parsed:
    """The row's values, each cell checked; ``_RowInvalid`` lists every cell at fault."""
    cells, errors = row.cells, {}
    if "__extra__" in cells:
        errors["row"] = ["More cells than the header has columns."]
    mentor_id = cells.get("mentor_id", "")
    if not MENTOR_ID_RE.match(mentor_id):
        errors["mentor_id"] = ["A mentor id is 'mntr_' followed by 8 to 26 upper-case Crockford base32 characters."]
    code = cells.get("certification_type", "")
    cert_type = types.get(code)
    if cert_type is None:
        errors["certification_type"] = [f"Unknown certification type '{code}'."]
    elif not cert_type.is_active:
        errors["certification_type"] = [f"Certification type '{code}' is inactive."]
    if not cells.get("issued_at"):
        errors["issued_at"] = ["Required."]
    issued_at = _timestamp(cells, "issued_at", errors)
    expires_at = _timestamp(cells, "expires_at", errors)
    action = cells.get("action", "").lower() or "upsert"
    if action not in ACTIONS:
        errors["action"] = [f"One of {', '.join(ACTIONS)} (empty means upsert)."]
    reason = cells.get("revocation_reason", "")
    if reason and action != "revoke":
        errors["revocation_reason"] = ["Only a revoke row has a revocation reason."]
    email = cells.get("mentor_email") if "mentor_email" in cells else None
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["mentor_email"] = ["Not a valid email address."]
    name = cells.get("mentor_name") if "mentor_name" in cells else None
    if name is not None and len(name) > Mentor._meta.get_field("name").max_length:
        errors["mentor_name"] = ["At most 200 characters."]
    if len(reason) > Certification._meta.get_field("revocation_reason").max_length:
        errors["revocation_reason"] = ["At most 500 characters."]
    if errors:
        raise _RowInvalid(errors)
    return _Parsed(mentor_id, cert_type, issued_at, expires_at, name, email, action, reason)


def _mentor_changes(mentor: Mentor, parsed: _Parsed) -> dict[str, str]:
    """The name and email the row gives that differ from the mentor's (an empty cell changes nothing)."""
    changes = {}
    if parsed.name and parsed.name != mentor.name:
        changes["name"] = parsed.name
    if parsed.email and parsed.email != mentor.email:
        changes["email"] = parsed.email
    return changes


def _apply(parsed: _Parsed, *, now: dt.datetime, by: Actor) -> tuple[str, Certification]:
    """Write one row through the services; return its action and record."""
    mentor = Mentor.objects.filter(mentor_id=parsed.mentor_id).first()
    if mentor is None:
        mentor = mentor_get_or_create(
            mentor_id=parsed.mentor_id, name=parsed.name or "", email=parsed.email or "", now=now, by=by
        )
        mentor_changed = True
    else:
        changes = _mentor_changes(mentor, parsed)
        if changes:
            mentor_update(mentor=mentor, changes=changes, now=now, by=by)
        mentor_changed = bool(changes)
    cert = (
        Certification.objects.alive()
        .select_related("mentor", "certification_type")
        .filter(mentor=mentor, certification_type=parsed.cert_type, issued_at=parsed.issued_at)
        .first()
    )
    if cert is None:
        cert = certification_create(
            mentor_id=parsed.mentor_id,
            certification_type=parsed.cert_type,
            issued_at=parsed.issued_at,
            expires_at=parsed.expires_at,
            now=now,
            by=by,
        ).certification
        if parsed.action == "revoke":
            cert = certification_revoke(certification=cert, now=now, reason=parsed.reason, by=by).certification
        return NEW, cert
    changed = mentor_changed
    if parsed.expires_at is not None and parsed.expires_at != cert.expires_at:
        cert = certification_update(
            certification=cert, changes={"expires_at": parsed.expires_at}, now=now, by=by
        ).certification
        changed = True
    if parsed.action == "revoke" and (
        cert.status != CertificationStatus.REVOKED or (parsed.reason and parsed.reason != cert.revocation_reason)
    ):
        cert = certification_revoke(certification=cert, now=now, reason=parsed.reason, by=by).certification
        changed = True
    return (UPDATED if changed else SKIPPED), cert


def certification_import(
    *, rows: Sequence[ImportRow], now: dt.datetime, by: Actor, dry_run: bool = False, partial: bool = False
) -> ImportResult:
    """Apply ``rows`` (see the module); all of them or, with ``partial``, the valid ones; none on a dry run."""
    types = {cert_type.code: cert_type for cert_type in CertificationType.objects.all()}
    results: list[RowResult] = []
    seen: dict[tuple, int] = {}
    applied = False
    try:
        with transaction.atomic():
            for row in rows:
                results.append(_row(row, types=types, seen=seen, now=now, by=by))
            invalid = any(result.action == INVALID for result in results)
            applied = not dry_run and (partial or not invalid)
            if not applied:
                raise _Rollback
    except _Rollback:
        for result in results:
            if result.action == NEW:
                result.certification_id = None  # rolled back: no record was kept
    return ImportResult(dry_run=dry_run, applied=applied, rows=results)


def _row(row: ImportRow, *, types, seen: dict[tuple, int], now: dt.datetime, by: Actor) -> RowResult:
    """One row in its own savepoint: its result, or ``invalid`` with the reasons (nothing of it written)."""
    try:
        parsed = _parse(row, types)
        if parsed.key in seen:
            raise _RowInvalid({"row": [f"Duplicate of line {seen[parsed.key]} (same mentor, type and issued_at)."]})
        seen[parsed.key] = row.line
        with transaction.atomic():
            action, cert = _apply(parsed, now=now, by=by)
    except _RowInvalid as exc:
        return RowResult(line=row.line, action=INVALID, errors=exc.errors)
    except DomainError as exc:
        return RowResult(line=row.line, action=INVALID, errors=exc.fields or {"row": [exc.message]})
    return RowResult(line=row.line, action=action, certification_id=cert.certification_id)
