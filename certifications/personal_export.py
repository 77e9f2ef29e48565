"""The members of a mentor's personal-data export (DESIGN "Personal data"), each read when the archive reaches it.

``mentor.json``, ``certifications.csv`` (every record of theirs, deleted ones
included, in the CSV export's columns), ``history.json`` (the changes of the
mentor and of their records), ``renewal_requests.json`` and the evidence
files under ``evidence/``, then the members of the apps that react to writes
(``events.json``, ``notifications.json``), asked through the receivers since
the domain does not import them. Every read is filtered by the mentor: nothing
about another mentor enters the archive.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from certhub.api.fields import format_utc
from certhub.zipstream import Member
from certifications.bulk.export import export_rows, export_stream
from certifications.history.models import HistoryEntry, Subject
from certifications.models import Certification, Mentor, RenewalRequest
from certifications.renewals import representation as renewal_representation
from certifications.renewals.evidence import evidence_storage
from certifications.services.receivers import receivers

EVIDENCE_DIR = "evidence"
FILE_CHUNK = 64 * 1024
MENTOR_FIELDS = ("mentor_id", "name", "email", "status", "paused_by", "paused_at", "pause_reason")
TIMES = ("created_at", "updated_at", "erased_at")


def _json(data: Any) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False).encode()


def _time(value) -> str | None:
    return format_utc(value) if value is not None else None


def mentor_document(mentor: Mentor) -> dict[str, Any]:
    """``mentor.json``: the mentor's own row."""
    data: dict[str, Any] = {name: getattr(mentor, name) for name in MENTOR_FIELDS}
    data["paused_at"] = _time(mentor.paused_at)
    data.update({name: _time(getattr(mentor, name)) for name in TIMES})
    return data


def _history(mentor: Mentor) -> list[dict[str, Any]]:
    records = Certification.objects.filter(mentor=mentor).values("pk")
    rows = HistoryEntry.objects.filter(subject=Subject.MENTOR, object_pk=mentor.pk) | HistoryEntry.objects.filter(
        subject=Subject.CERTIFICATION, object_pk__in=records
    )
    ids = dict(Certification.objects.filter(mentor=mentor).values_list("pk", "certification_id"))
    return [
        {
            "subject": row.subject,
            "object_id": mentor.mentor_id if row.subject == Subject.MENTOR else ids.get(row.object_pk),
            "at": format_utc(row.at),
            "actor": row.actor,
            "source": row.source,
            "change": row.change,
            "changes": row.changes,
            "reason": row.reason,
        }
        for row in rows.order_by("at", "id").iterator(chunk_size=1000)
    ]


def _requests(mentor: Mentor) -> list[RenewalRequest]:
    return list(
        RenewalRequest.objects.filter(mentor=mentor)
        .select_related("mentor", "certification_type", "decided_by", "certification")
        .order_by("created_at", "id")
    )


def _evidence_member(request: RenewalRequest) -> str:
    return f"{EVIDENCE_DIR}/{request.renewal_request_id}-{request.evidence.name.rsplit('/', 1)[-1]}"


def _file_chunks(name: str) -> Iterator[bytes]:
    with evidence_storage().open(name, "rb") as file:
        while chunk := file.read(FILE_CHUNK):
            yield chunk


def export_members(mentor: Mentor) -> Iterator[Member]:
    """Every member of ``mentor``'s export, in the archive's order."""
    yield "mentor.json", _json(mentor_document(mentor))
    yield "certifications.csv", export_stream(export_rows(Certification.objects.filter(mentor=mentor).order_by("pk")))
    yield "history.json", _json(_history(mentor))
    requests = _requests(mentor)
    storage = evidence_storage()
    present = {request.pk for request in requests if request.evidence.name and storage.exists(request.evidence.name)}
    documents = [
        {
            **renewal_representation.represent(request),
            "evidence_file": _evidence_member(request) if request.pk in present else None,
        }
        for request in requests
    ]
    yield "renewal_requests.json", _json(documents)
    for request in requests:
        if request.pk in present:
            yield _evidence_member(request), _file_chunks(request.evidence.name)
    for receiver in receivers():
        for name, data in receiver.mentor_exported(mentor=mentor).items():
            yield name, _json(data)
