"""The erasure: no trace of the person in any text column of any table, the audit's shape kept, repeat-safe."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Sum

from access.models import SecurityEvent
from certifications.history.models import HistoryEntry, Subject
from certifications.models import AutoPauseLog, Certification, Mentor, RenewalRequest
from certifications.services import mentor_erase
from certifications.services.personal_data import ERASED_VALUE
from certifications.totals.models import CertificationTally, MentorTally
from events.models import Event
from notifications.models import Notification
from tests.certifications.personal_data.conftest import NOW, evidence_files
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.django_db
LATER = NOW + dt.timedelta(hours=1)
# Introspected column types that hold text (Django's names for them, as the introspection maps each database's).
TEXT_TYPES = {"CharField", "TextField", "JSONField", "EmailField", "SlugField", "URLField", "GenericIPAddressField"}


def text_columns() -> list[tuple[str, str]]:
    """``(table, column)`` for every text, character and JSON column of every table of the database."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                if connection.introspection.get_field_type(column.type_code, column) in TEXT_TYPES:
                    found.append((table, column.name))
    return found


def occurrences(needle: str) -> list[tuple[str, str]]:
    """The columns where ``needle`` appears in some row (case-insensitive), by raw SQL over every table."""
    quote = connection.ops.quote_name
    hits = []
    with connection.cursor() as cursor:
        for table, column in text_columns():
            cursor.execute(
                f"SELECT COUNT(*) FROM {quote(table)} WHERE LOWER(CAST({quote(column)} AS TEXT)) LIKE %s",
                [f"%{needle.lower()}%"],
            )
            if cursor.fetchone()[0]:
                hits.append((table, column))
    return hits


def shape() -> dict:
    """What the erasure keeps: every count, the auto-pause log and the totals."""
    return {
        "certifications": list(Certification.objects.order_by("pk").values_list("pk", "status", "expires_at")),
        "log": list(AutoPauseLog.objects.order_by("pk").values()),
        "notifications": list(Notification.objects.order_by("pk").values_list("pk", "kind", "created_at")),
        "requests": list(RenewalRequest.objects.order_by("pk").values_list("pk", "renewal_request_id", "issued_at")),
        "mentors": sorted(
            MentorTally.objects.values_list("status", "paused_by").annotate(n=Sum("mentors")).filter(n__gt=0)
        ),
        "tallies": CertificationTally.objects.aggregate(Sum("valid"), Sum("expired"), Sum("revoked")),
        "history": HistoryEntry.objects.count(),
    }


def test_the_scan_reads_the_columns_that_held_the_person(subject):
    columns = set(text_columns())
    assert {
        ("certifications_mentor", "name"),
        ("certifications_mentor", "email"),
        ("certifications_historyentry", "changes"),
        ("notifications_notification", "recipient"),
        ("certifications_renewalrequest", "note"),
        ("django_admin_log", "object_repr"),
        ("certhub_idempotencykey", "response_body"),
    } <= columns
    # Before the erasure the person is found in each kind of place.
    for trace in subject.traces:
        assert occurrences(trace), trace
    assert {table for table, _ in occurrences(subject.email)} >= {
        "certifications_mentor",
        "certifications_historyentry",
        "notifications_notification",
        "certifications_renewalrequest",
        "certhub_idempotencykey",
    }


def test_after_erasure_no_text_column_of_any_table_holds_the_name_or_address(
    subject, other, evidence_dir, django_capture_on_commit_callbacks
):
    assert len(evidence_files(evidence_dir)) == 4
    with django_capture_on_commit_callbacks(execute=True):
        result = mentor_erase(mentor=subject.mentor, reason="Asked to be forgotten", now=LATER, by=TEST_ACTOR)
    assert result.erased_now
    for trace in subject.traces:
        assert occurrences(trace) == [], trace
    # The other mentor is untouched.
    for trace in other.traces:
        assert occurrences(trace), trace
    # The subject's evidence files are gone after commit; the other's stay.
    remaining = RenewalRequest.objects.filter(mentor=other.mentor).values_list("evidence", flat=True)
    assert sorted(path.name for path in evidence_files(evidence_dir)) == sorted(
        name.rsplit("/")[-1] for name in remaining
    )


def test_erasure_keeps_ids_dates_states_the_log_and_every_total(subject):
    before = shape()
    mentor_erase(mentor=subject.mentor, reason="Asked to be forgotten", now=LATER, by=TEST_ACTOR)
    after = shape()
    assert after["history"] == before["history"] + 1  # the erasure's own row
    assert {**after, "history": 0} == {**before, "history": 0}
    mentor = Mentor.objects.get(pk=subject.mentor.pk)
    assert (mentor.name, mentor.email, mentor.erased_at) == ("", "", LATER)
    assert mentor.mentor_id == subject.mentor.mentor_id and mentor.status == subject.mentor.status


def test_erasure_blanks_notices_skips_queued_ones_and_marks_history(subject):
    queued = set(Notification.objects.filter(mentor=subject.mentor, state="queued").values_list("pk", flat=True))
    sent = set(Notification.objects.filter(mentor=subject.mentor, state="sent").values_list("pk", flat=True))
    assert queued and sent
    mentor_erase(mentor=subject.mentor, reason="Asked to be forgotten", now=LATER, by=TEST_ACTOR)
    notices = Notification.objects.filter(mentor=subject.mentor)
    assert set(notices.filter(state="skipped").values_list("pk", flat=True)) == queued
    assert set(notices.filter(state="sent").values_list("pk", flat=True)) == sent
    assert set(notices.values_list("recipient", "subject")) == {("", "")}
    rows = HistoryEntry.objects.filter(subject=Subject.MENTOR, object_pk=subject.mentor.pk)
    named = [row.changes["name"] for row in rows if "name" in row.changes]
    # The edit's row and the erasure's own.
    assert len(named) == 2 and all(pair == [ERASED_VALUE, ERASED_VALUE] for pair in named)
    erasure = rows.order_by("-id").first()
    assert (erasure.reason, erasure.at) == ("Asked to be forgotten", LATER)
    requests = RenewalRequest.objects.filter(mentor=subject.mentor)
    assert set(requests.values_list("note", "decision_reason")) == {("", "")}
    assert set(requests.values_list("state", flat=True)) == {"rejected", "withdrawn"}  # the pending one withdrawn
    assert Event.objects.filter(type="mentor.erased").get().data == {
        "mentor_id": subject.mentor.mentor_id,
        "erased_at": "2026-03-26T02:00:00Z",
    }


def test_a_second_erasure_changes_nothing_and_answers_the_first_erased_at(subject):
    mentor_erase(mentor=subject.mentor, reason="Asked to be forgotten", now=LATER, by=TEST_ACTOR)
    before = (shape(), Event.objects.count(), SecurityEvent.objects.count())
    again = mentor_erase(mentor=subject.mentor, reason="Again", now=LATER + dt.timedelta(days=1), by=TEST_ACTOR)
    assert not again.erased_now and again.mentor.erased_at == LATER
    assert (shape(), Event.objects.count(), SecurityEvent.objects.count()) == before


def test_the_security_log_records_the_erasure_without_the_person(subject):
    mentor_erase(mentor=subject.mentor, reason="Asked to be forgotten", now=LATER, by=TEST_ACTOR)
    row = SecurityEvent.objects.get(kind="personal_data_erased")
    assert row.detail == f"{subject.mentor.mentor_id}: Asked to be forgotten" and row.occurred_at == LATER


@pytest.mark.parametrize("reason", ["", "   ", "x" * 301])
def test_an_erasure_needs_a_reason_of_at_most_300_characters(subject, reason):
    from certhub.errors import RuleViolation

    with pytest.raises(RuleViolation):
        mentor_erase(mentor=subject.mentor, reason=reason, now=LATER, by=TEST_ACTOR)
    assert Mentor.objects.get(pk=subject.mentor.pk).erased_at is None


def test_erasure_keeps_the_notices_per_state_gauge_exact(subject):
    from django.db.models import Count

    from certifications.totals.states import label, state_totals
    from certifications.totals.tallies import tallies_rebuild

    tallies_rebuild()  # the fixture set some states by hand; count them once
    mentor_erase(mentor=subject.mentor, reason="Asked to be forgotten", now=LATER, by=TEST_ACTOR)
    counted = dict(Notification.objects.order_by().values_list("state").annotate(n=Count("*")))
    assert counted.get("skipped")
    assert state_totals()[label(Notification)] == counted


def test_after_erasure_no_renewal_request_names_an_evidence_file(subject):
    assert RenewalRequest.objects.filter(mentor=subject.mentor).exclude(evidence="").exists()
    mentor_erase(mentor=subject.mentor, reason="Asked to be forgotten", now=LATER, by=TEST_ACTOR)
    assert not RenewalRequest.objects.filter(mentor=subject.mentor).exclude(evidence="").exists()
