"""Applying an import: every row through the same write services as the API, in one transaction.

The file is read as it comes, ``CHUNK_ROWS`` rows at a time: each chunk is
checked and written (the steps below) before the next is read, inside the one
transaction, so memory holds a chunk's objects and a verdict per row however
long the file is.

A row's record is the live one with the same ``(mentor_id, certification_type,
issued_at)``: updated if the row differs from it, skipped if identical,
created otherwise. Mentor name and email columns create or update the mentor;
changing an existing mentor's name or email needs ``change_mentor`` (the
importing user's: ``by.user``), else the row is invalid and says so.

Each row of a chunk is checked first (``certifications.bulk.parse``), then the
existing mentors (locked) and their live keys are read set-based, and each
mentor's rows take one of two roads that end in the same rows:

- **in bulk** (``services.bulk``) when every row of the mentor only creates a
  record and implies nothing beyond it (no auto-resume to run, no name or
  email to change): the records, the new mentors and their history rows,
  tally deltas and events are written a chunk at a time, set-based;
- **one by one** otherwise: each row in its own savepoint through
  ``certification_create`` / ``certification_update`` / ``certification_revoke``
  and ``mentor_update``, as an API write.

A row a service refuses is ``invalid`` with the service's message. Without
``partial`` one invalid row applies nothing; a ``dry_run`` applies every row
the same way and rolls everything back, so its answer is exactly what the
import would do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

from django.db import IntegrityError, transaction

from certhub.errors import DomainError, RuleViolation
from certhub.sql import dialect
from certifications.bulk.parse import ParsedRow, RowInvalid, parse_row
from certifications.bulk.rows import ImportRow
from certifications.history import Actor
from certifications.models import Certification, CertificationStatus, CertificationType, Mentor
from certifications.services import bulk
from certifications.services.bulk import NewMentor
from certifications.services.guards import check_not_erased
from certifications.services.import_keys import SeenKeys, seen_keys
from certifications.services.import_results import INVALID, NEW, SKIPPED, UPDATED, ImportResult, RowResult, RowResults
from certifications.services.lapse.pause import auto_resume_can_act
from certifications.services.mentors import mentor_get_or_create, mentor_update
from certifications.services.records import (
    NewCertification,
    certification_create,
    certification_prepare,
    certification_revoke,
    certification_update,
)

CHANGE_MENTOR = "certifications.change_mentor"
# The file's column for each mentor field a row may change.
COLUMN_OF = {"name": "mentor_name", "email": "mentor_email"}
# Records written per bulk statement set; ids and mentors read per query.
BULK_CHUNK = 1_000
READ_CHUNK = 2_000
# Rows read, checked and written at a time: what memory holds of the file.
CHUNK_ROWS = 2_000


class _Rollback(Exception):
    """Leaves the import's transaction without committing (a dry run, or an invalid row without ``partial``)."""


def _mentor_changes(mentor: Mentor, parsed: ParsedRow) -> dict[str, str]:
    """The name and email the row gives that differ from the mentor's (an empty cell changes nothing)."""
    changes = {}
    if parsed.name and parsed.name != mentor.name:
        changes["name"] = parsed.name
    if parsed.email and parsed.email != mentor.email:
        changes["email"] = parsed.email
    return changes


def _check_may_change_mentor(changes: dict[str, str], by: Actor) -> None:
    """Refuse the row's change of a mentor's name or email unless ``by`` may change mentors."""
    # The certification permissions an import needs do not reach a person's details: a mentor's
    # reminders and notices follow their address. The system (a command) has no user and may.
    if by.user is None or by.user.has_perm(CHANGE_MENTOR):
        return
    message = f"Changing an existing mentor's {' and '.join(changes)} needs the {CHANGE_MENTOR} permission."
    raise RuleViolation(message, fields={COLUMN_OF[name]: [message] for name in changes})


def _apply(parsed: ParsedRow, *, now: dt.datetime, by: Actor) -> tuple[str, Certification]:
    """Write one row through the services; return its action and record."""
    mentor = Mentor.objects.filter(mentor_id=parsed.mentor_id).first()
    check_not_erased(mentor)
    if mentor is None:
        mentor = mentor_get_or_create(
            mentor_id=parsed.mentor_id, name=parsed.name or "", email=parsed.email or "", now=now, by=by
        )
        mentor_changed = True
    else:
        changes = _mentor_changes(mentor, parsed)
        if changes:
            _check_may_change_mentor(changes, by)
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
    *,
    rows: Iterable[ImportRow],
    now: dt.datetime,
    by: Actor,
    dry_run: bool = False,
    partial: bool = False,
    bulk_road: bool = True,
) -> ImportResult:
    """Apply ``rows`` (see the module); all of them or, with ``partial``, the valid ones; none on a dry run.

    ``rows`` are read as they come, ``CHUNK_ROWS`` at a time, each chunk checked
    and written before the next is read, all in one transaction: memory holds one
    chunk's objects and each row's verdict, whatever the length of the file. A
    fault of the whole file raised by ``rows`` midway rolls back what was written.
    ``bulk_road=False`` sends every row one by one: the reference the bulk road is checked against.
    """
    types = {cert_type.code: cert_type for cert_type in CertificationType.objects.all()}
    results = RowResults()
    applied = False
    try:
        with transaction.atomic():
            seen = seen_keys()
            for chunk in _batches(rows, CHUNK_ROWS):
                for result in _chunk_apply(chunk, types=types, seen=seen, now=now, by=by, bulk_road=bulk_road):
                    results.append(result)
            applied = not dry_run and (partial or not results.count(INVALID))
            if not applied:
                raise _Rollback
    except _Rollback:
        results.forget_new_ids()
    return ImportResult(dry_run=dry_run, applied=applied, rows=results)


def _chunk_apply(
    rows: Sequence[ImportRow], *, types: dict, seen: SeenKeys, now: dt.datetime, by: Actor, bulk_road: bool
) -> list[RowResult]:
    """Check and write one chunk of the file's rows; their verdicts in order.

    ``seen`` holds the key of every valid row read so far, with its line, so a
    duplicate names its first line wherever in the file that was (``import_keys``).
    """
    results: list[RowResult | None] = [None] * len(rows)
    parsed_lines: list[_Line] = []
    for index, row in enumerate(rows):
        try:
            parsed_lines.append(_Line(index, row, parse_row(row, types)))
        except RowInvalid as exc:
            results[index] = RowResult(line=row.line, action=INVALID, errors=exc.errors)
    keys = [(f"{line.parsed.mentor_id} {line.parsed.cert_type.pk} {line.parsed.issued_at.isoformat()}", line.row.line)
            for line in parsed_lines]  # fmt: skip
    valid: list[_Line] = []
    for line, first in zip(parsed_lines, seen.first_lines(keys), strict=True):
        if first is None:
            valid.append(line)
        else:
            errors = {"row": [f"Duplicate of line {first} (same mentor, type and issued_at)."]}
            results[line.index] = RowResult(line=line.row.line, action=INVALID, errors=errors)
    plan = _plan(valid, now=now) if bulk_road else _Plan(mentors={}, single=list(valid))
    for line, errors in plan.invalid:
        results[line.index] = RowResult(line=line.row.line, action=INVALID, errors=errors)
    for chunk in plan.bulk_chunks():
        if not _apply_bulk(chunk, plan=plan, results=results, now=now, by=by):
            plan.single.extend(line for group in chunk for line in group.lines)
    for line in sorted(plan.single, key=lambda line: line.index):
        results[line.index] = _row(line, now=now, by=by)
    return results


# --- Set-based planning: which rows only create, and can be written in bulk ------------------------


@dataclass(frozen=True)
class _Line:
    index: int
    row: ImportRow
    parsed: ParsedRow


@dataclass
class _Group:
    """One new-records-only mentor's rows, each with what it creates; ``new`` when the mentor is first named."""

    mentor_id: str
    lines: list[_Line]
    prepared: list[NewCertification]
    new: NewMentor | None


@dataclass
class _Plan:
    mentors: dict[str, Mentor]
    bulk: list[_Group] = field(default_factory=list)
    single: list[_Line] = field(default_factory=list)
    invalid: list[tuple[_Line, dict[str, list[str]]]] = field(default_factory=list)

    def bulk_chunks(self):
        """The bulk groups in chunks of about ``BULK_CHUNK`` records, a mentor's rows never split."""
        chunk: list[_Group] = []
        records = 0
        for group in self.bulk:
            chunk.append(group)
            records += len(group.lines)
            if records >= BULK_CHUNK:
                yield chunk
                chunk, records = [], 0
        if chunk:
            yield chunk


def _batches(rows: Iterable[ImportRow], size: int) -> Iterator[list[ImportRow]]:
    """``rows`` in lists of ``size``, read as they are needed."""
    rows = iter(rows)
    while batch := list(islice(rows, size)):
        yield batch


def _chunks(values: Sequence, size: int = READ_CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _plan(lines: Sequence[_Line], *, now: dt.datetime) -> _Plan:
    """Read (and lock) the file's existing mentors and their live keys set-based, then sort the rows.

    A mentor's rows go in bulk when every one of them creates a record and the
    creation implies nothing more than the rows say (``_bulk_group``); the
    rest go through the single-write services one row at a time.
    """
    mentor_ids = sorted({line.parsed.mentor_id for line in lines})
    mentors: dict[str, Mentor] = {}
    for chunk in _chunks(mentor_ids):
        # Locked, so the job cannot pause them or flag their records before this import commits.
        among = dialect().field_in(Mentor, "mentor_id", chunk)  # one array parameter, not a placeholder each
        for mentor in Mentor.objects.select_for_update().filter(among).order_by("pk"):
            mentors[mentor.mentor_id] = mentor
    live: set[tuple] = set()
    flagged: set[int] = set()
    pks = sorted(mentor.pk for mentor in mentors.values())
    for chunk in _chunks(pks):
        live.update(
            Certification.objects.alive()
            .filter(mentor_id__in=chunk)
            .values_list("mentor_id", "certification_type_id", "issued_at")
        )
        flagged.update(
            Certification.objects.filter(mentor_id__in=chunk, auto_pause_applied=True)
            .values_list("mentor_id", flat=True)
            .distinct()
        )
    groups: dict[str, list[_Line]] = {}
    for line in lines:
        groups.setdefault(line.parsed.mentor_id, []).append(line)
    plan = _Plan(mentors=mentors)
    for mentor_id, group in groups.items():
        _bulk_group(plan, mentor_id, group, live=live, flagged=flagged, now=now)
    return plan


def _bulk_group(plan: _Plan, mentor_id: str, lines: list[_Line], *, live, flagged, now: dt.datetime) -> None:
    """Put one mentor's rows in bulk when that gives exactly what row by row would, otherwise one by one.

    In bulk: every row is an ``upsert`` whose key no live record holds; an
    existing mentor is not paused by ``auto`` and holds no flagged record (so
    auto-resume has nothing to do) and no row changes their name or email; a
    new mentor's rows agree with the first on the name and email (an empty
    cell agrees). Rows a create would refuse are invalid with the create's
    message, as they would be one by one.
    """
    mentor = plan.mentors.get(mentor_id)
    creates_only = all(line.parsed.action == "upsert" for line in lines) and not (
        mentor is not None
        and any((mentor.pk, line.parsed.cert_type.pk, line.parsed.issued_at) in live for line in lines)
    )
    # An erased mentor's rows go one by one, where each is refused (409 mentor_erased) as a single write would be.
    quiet = mentor is None or (
        mentor.erased_at is None and not auto_resume_can_act(mentor=mentor, holds_flagged=mentor.pk in flagged)
    )
    if not (creates_only and quiet):
        plan.single.extend(lines)
        return
    kept: list[_Line] = []
    prepared: list[NewCertification] = []
    refused: list[tuple[_Line, dict[str, list[str]]]] = []
    for line in lines:
        parsed = line.parsed
        try:
            prepared.append(
                certification_prepare(
                    mentor_id=mentor_id,
                    certification_type=parsed.cert_type,
                    issued_at=parsed.issued_at,
                    expires_at=parsed.expires_at,
                    now=now,
                )
            )
        except DomainError as exc:
            refused.append((line, exc.fields or {"row": [exc.message]}))
        else:
            kept.append(line)
    name = mentor.name if mentor is not None else (kept[0].parsed.name or "" if kept else "")
    email = mentor.email if mentor is not None else (kept[0].parsed.email or "" if kept else "")
    if any(
        (line.parsed.name and line.parsed.name != name) or (line.parsed.email and line.parsed.email != email)
        for line in kept
    ):
        plan.single.extend(lines)
        return
    plan.invalid.extend(refused)
    if kept:
        new = NewMentor(mentor_id=mentor_id, name=name, email=email) if mentor is None else None
        plan.bulk.append(_Group(mentor_id=mentor_id, lines=kept, prepared=prepared, new=new))


def _apply_bulk(chunk: list[_Group], *, plan: _Plan, results: list, now: dt.datetime, by: Actor) -> bool:
    """Write one chunk of bulk groups in a savepoint; False (nothing written) when a concurrent write collided."""
    try:
        ids = bulk.certifications_create_bulk(
            items=[item for group in chunk for item in group.prepared],
            mentors=plan.mentors,
            new_mentors=[group.new for group in chunk if group.new is not None],
            now=now,
            by=by,
        )
    except IntegrityError:
        # A concurrent writer took one of these keys or mentor ids since they were read: row by row instead.
        return False
    lines = [line for group in chunk for line in group.lines]
    for line, certification_id in zip(lines, ids, strict=True):
        results[line.index] = RowResult(line=line.row.line, action=NEW, certification_id=certification_id)
    return True


def _row(line: _Line, *, now: dt.datetime, by: Actor) -> RowResult:
    """One row in its own savepoint: its result, or ``invalid`` with the reasons (nothing of it written)."""
    try:
        with transaction.atomic():
            action, cert = _apply(line.parsed, now=now, by=by)
    except DomainError as exc:
        return RowResult(line=line.row.line, action=INVALID, errors=exc.fields or {"row": [exc.message]})
    return RowResult(line=line.row.line, action=action, certification_id=cert.certification_id)
