"""``services.certification_import``: the bulk road writes exactly what row by row writes, in fewer statements."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import Counter

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from certhub.errors import RuleViolation
from certifications.bulk import rows as rows_module
from certifications.bulk.parse import parse_row
from certifications.bulk.rows import iter_csv, read_csv
from certifications.history import Actor, Source
from certifications.history.models import HistoryEntry
from certifications.models import AutoPauseLog, Certification, Mentor, MentorStatus, PausedBy
from certifications.services import certification_import, expiry_job_run
from certifications.services import imports as imports_service
from certifications.services.records import certification_create
from certifications.totals.models import CertificationTally, StateTally
from events.models import Event, WebhookDelivery
from notifications.models import Notification
from tests.events.helpers import endpoint
from tests.factories import TEST_ACTOR, CertificationFactory, MentorFactory, cert_type

pytestmark = pytest.mark.django_db

UTC = dt.UTC
HEADER = "mentor_id,certification_type,issued_at,expires_at,mentor_name,mentor_email,action,revocation_reason"
BY = Actor(source=Source.IMPORT)


class _Undo(Exception):
    """Leaves a test's inner transaction, so that the next road starts from the same rows."""


def _file(*rows: str) -> list:
    return read_csv(("\n".join([HEADER, *rows]) + "\n").encode(), max_rows=10_000)


def _key_of_cert(pk: int, keys: dict[int, str]) -> str:
    return keys.get(pk, f"gone:{pk}")


def world() -> dict:
    """Every row an import can write, with random ids replaced by natural keys, so two runs compare."""
    certs = Certification.objects.select_related("mentor", "certification_type")
    keys = {c.pk: f"{c.mentor.mentor_id}/{c.certification_type.code}/{c.issued_at.isoformat()}" for c in certs}
    by_id = {c.certification_id: keys[c.pk] for c in certs}
    mentors = dict(Mentor.objects.values_list("pk", "mentor_id"))

    def subject_key(entry: HistoryEntry) -> str:
        if entry.subject == "certification":
            return _key_of_cert(entry.object_pk, keys)
        if entry.subject == "mentor":
            return mentors[entry.object_pk]
        return str(entry.object_pk)

    def event_data(data: dict) -> str:
        data = dict(data)
        if data.get("certification_id"):
            data["certification_id"] = by_id[data["certification_id"]]
        return json.dumps(data, sort_keys=True)

    tallies = (
        CertificationTally.objects.values("certification_type_id", "deleted", "expires_on")
        .annotate(valid=Sum("valid"), expired=Sum("expired"), revoked=Sum("revoked"))
        .order_by("certification_type_id", "deleted", "expires_on")
    )
    return {
        "records": sorted(
            (keys[c.pk], c.status, c.expires_at, c.revoked_at, c.revocation_reason, c.auto_pause_applied, c.deleted_at)
            for c in certs
        ),
        "mentors": sorted(
            Mentor.objects.values_list("mentor_id", "name", "email", "status", "paused_by", "pause_reason")
        ),
        "history": Counter(
            (e.subject, subject_key(e), e.change, json.dumps(e.changes, sort_keys=True), e.actor, e.source, e.reason)
            for e in HistoryEntry.objects.all()
        ),
        "events": Counter((e.type, event_data(e.data)) for e in Event.objects.all()),
        "tallies": [t for t in tallies if t["valid"] or t["expired"] or t["revoked"]],
        "logs": Counter(
            (log.mentor.mentor_id, _key_of_cert(log.certification_id, keys), log.event, log.reason)
            for log in AutoPauseLog.objects.select_related("mentor")
        ),
        "notifications": Counter(Notification.objects.values_list("kind", "mentor__mentor_id", "state")),
        "deliveries": Counter(
            (d.event.type, event_data(d.event.data), d.endpoint.url, d.state, d.next_attempt_at, d.created_at)
            for d in WebhookDelivery.objects.select_related("event", "endpoint")
        ),
        "delivery_tally": sorted(StateTally.objects.values_list("counted", "state").annotate(n=Sum("rows"))),
    }


def _run(rows, *, now: dt.datetime, bulk_road: bool) -> tuple[list, dict, int]:
    """Import ``rows`` by one road, then undo it: the rows' outcomes, the world it left, its statements."""
    try:
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            result = certification_import(rows=rows, now=now, by=BY, partial=True, bulk_road=bulk_road)
            outcome = [(row.line, row.action, row.errors, row.certification_id is not None) for row in result.rows]
            left = world()
            raise _Undo
    except _Undo:
        pass
    return outcome, left, len(queries)


def _mixed_file(now: dt.datetime) -> list:
    """Existing mentors and records, and a file whose rows take every road and every verdict."""
    existing = MentorFactory(mentor_id="mntr_0000000D00", name="Dee", email="dee@example.org")
    CertificationFactory(mentor=existing)
    renamed = MentorFactory(mentor_id="mntr_0000000E00", name="Eve", email="")
    unchanged = CertificationFactory(mentor=MentorFactory(mentor_id="mntr_0000000G00", name="", email=""))
    moved = CertificationFactory(mentor=MentorFactory(mentor_id="mntr_0000000H00"))
    lapsed = CertificationFactory(
        mentor=MentorFactory(mentor_id="mntr_0000000F00"),
        issued_at=dt.datetime(2023, 3, 1, tzinfo=UTC),
        expires_at=dt.datetime(2026, 3, 1, tzinfo=UTC),
    )
    expiry_job_run(now=now)
    assert Mentor.objects.get(pk=lapsed.mentor.pk).paused_by == PausedBy.AUTO
    rows = _file(
        "mntr_0000000A00,peer_mentor_basic,2025-01-10,,Ann,ann@example.org,,",  # new mentor, two types: bulk
        "mntr_0000000A00,peer_mentor_advanced,2025-02-10,,Ann,,,",
        "mntr_0000000B00,peer_mentor_basic,2025-03-01,,,,,",  # new mentor whose name arrives later: one by one
        "mntr_0000000B00,peer_mentor_advanced,2025-03-02,,Bea,,,",
        "mntr_0000000D00,peer_mentor_advanced,2025-04-01,,,,,",  # existing mentor, new record: bulk
        "mntr_0000000E00,peer_mentor_basic,2025-05-01,,Eve Renamed,,,",  # a new record and a new name: one by one
        "mntr_0000000F00,peer_mentor_basic,2026-03-20,,,,,",  # renews an auto-paused mentor: resumes, one by one
        f"{unchanged.mentor.mentor_id},peer_mentor_basic,2024-06-15,2027-06-15,,,,",  # identical: skipped
        f"{moved.mentor.mentor_id},peer_mentor_basic,2024-06-15,2028-01-01,,,,",  # its record moved: updated
        "mntr_0000000C00,peer_mentor_basic,2025-06-01,,,,revoke,Audit",  # a revoke row: one by one
        "mntr_0000000J00,peer_mentor_basic,2025-07-01,2025-06-01T00:00:00Z,,,,",  # refused by the create's rules
        "mntr_0000000K00,peer_mentor_basic,9998-01-01,,,,,",  # no expiry within the calendar: refused
        "mntr_bad,peer_mentor_basic,2025-01-01,,,,,",  # refused when read
        "mntr_0000000A00,peer_mentor_basic,2025-01-10,,,,,",  # a duplicate inside the file
    )
    assert renamed.pk and existing.pk
    endpoint("https://hooks.example.org/all")  # every event: a delivery each
    endpoint("https://hooks.example.org/created", event_types=["certification.created"])
    endpoint("https://hooks.example.org/paused", event_types=["mentor.paused"])
    return rows


def test_the_bulk_road_writes_exactly_what_row_by_row_writes(now):
    rows = _mixed_file(now)

    row_by_row = _run(rows, now=now, bulk_road=False)
    in_bulk = _run(rows, now=now, bulk_road=True)

    assert in_bulk[0] == row_by_row[0]
    assert [action for _, action, _, _ in in_bulk[0]] == [
        "new", "new", "new", "new", "new", "new", "new", "skipped", "updated", "new",
        "invalid", "invalid", "invalid", "invalid",
    ]  # fmt: skip
    for part in row_by_row[1]:
        assert in_bulk[1][part] == row_by_row[1][part], part
    resumed = [m for m in in_bulk[1]["mentors"] if m[0] == "mntr_0000000F00"]
    assert resumed[0][3] == MentorStatus.ACTIVE
    assert ("mntr_0000000E00", "Eve Renamed") in {m[:2] for m in in_bulk[1]["mentors"]}
    assert in_bulk[2] < row_by_row[2]


def test_a_bulk_import_by_a_user_names_them_on_each_created_row(now, django_user_model):
    user = django_user_model.objects.create_user(username="importer")
    by = Actor(user=user, source=Source.IMPORT)
    rows = _new_rows(3)

    for bulk_road in (False, True):
        try:
            with transaction.atomic():
                result = certification_import(rows=rows, now=now, by=by, bulk_road=bulk_road)
                assert result.totals["new"] == 3
                created = HistoryEntry.objects.filter(change="created").values_list("subject", "user_id", "actor")
                assert Counter(created) == Counter(
                    {("certification", user.pk, by.name): 3, ("mentor", user.pk, by.name): 3}
                )
                raise _Undo
        except _Undo:
            pass


def test_a_file_read_in_small_chunks_gives_the_same_verdicts_and_rows_as_in_one(now, monkeypatch):
    """A mentor's rows and a duplicate's first line fall in other chunks: the answer and the rows do not change."""
    rows = _mixed_file(now)
    whole = _run(rows, now=now, bulk_road=True)
    monkeypatch.setattr(imports_service, "CHUNK_ROWS", 3)

    in_chunks = _run(rows, now=now, bulk_road=True)

    assert in_chunks[0] == whole[0]
    assert in_chunks[0][-1][2] == {"row": ["Duplicate of line 2 (same mentor, type and issued_at)."]}
    for part in whole[1]:
        assert in_chunks[1][part] == whole[1][part], part


def test_a_fault_of_the_file_found_after_a_chunk_was_written_leaves_nothing(now, monkeypatch):
    monkeypatch.setattr(imports_service, "CHUNK_ROWS", 2)
    monkeypatch.setattr(rows_module, "READ_BYTES", 32)  # the bad byte is read after the first chunks were written
    text = "\n".join([HEADER, *(f"mntr_{n:010d},peer_mentor_basic,2025-01-01,,,,," for n in range(5))]) + "\n"
    rows = iter_csv(io.BytesIO(text.encode() + b"mntr_0000000Z00,\xff\n"), max_rows=100)

    with pytest.raises(RuleViolation, match="not UTF-8 text"):
        certification_import(rows=rows, now=now, by=BY)

    assert not Certification.objects.exists() and not Mentor.objects.exists() and not Event.objects.exists()


def _new_rows(count: int, start: int = 0) -> list:
    return _file(
        *(f"mntr_{number:010d},peer_mentor_basic,2025-01-01,,Mentor {number},m{number}@example.org,," for number in
          range(start, start + count))
    )  # fmt: skip


def test_a_bulk_import_of_new_records_takes_as_many_statements_for_ten_rows_as_for_five_hundred(now):
    counts = []
    for count, start in ((10, 0), (500, 1000)):
        with CaptureQueriesContext(connection) as queries:
            result = certification_import(rows=_new_rows(count, start), now=now, by=BY)
        assert result.totals["new"] == count
        counts.append(len(queries))
    if connection.vendor == "postgresql":
        assert counts[0] == counts[1]
    else:  # SQLite takes at most 999 parameters a statement: Django splits each bulk insert to fit
        assert counts[1] <= counts[0] + 30 < 500 / 10
    assert Certification.objects.count() == 510
    assert HistoryEntry.objects.filter(change="created").count() == 2 * 510  # each record and each mentor
    assert Event.objects.filter(type="certification.created").count() == 510


def test_a_key_taken_after_the_plan_sends_its_rows_one_by_one(now):
    lines = [
        imports_service._Line(index, row, parse_row(row, {"peer_mentor_basic": cert_type()}))
        for index, row in enumerate(_new_rows(3))
    ]
    with transaction.atomic():
        plan = imports_service._plan(lines, now=now)
        assert [len(group.lines) for group in plan.bulk] == [1, 1, 1]
        # Another writer records the second row's certification after the plan was made.
        taken = certification_create(
            mentor_id=lines[1].parsed.mentor_id,
            certification_type="peer_mentor_basic",
            issued_at=lines[1].parsed.issued_at,
            now=now,
            by=TEST_ACTOR,
        ).certification
        results = [None, None, None]
        chunk = next(plan.bulk_chunks())
        assert imports_service._apply_bulk(chunk, plan=plan, results=results, now=now, by=BY) is False
        assert results == [None, None, None]
        assert Certification.objects.count() == 1  # the savepoint left nothing of the chunk
        outcomes = [imports_service._row(line, now=now, by=BY) for line in lines]
    assert [o.action for o in outcomes] == ["new", "updated", "new"]  # the row names the mentor
    assert outcomes[1].certification_id == taken.certification_id
