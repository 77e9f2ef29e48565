"""One conformance suite for the batch engines: the same cases against each engine.

The ORM engine runs on every database (SQLite and PostgreSQL); the PostgreSQL
engine runs on PostgreSQL and is skipped elsewhere. Each case lists due
records, applies one batch inside a transaction as the job does, and checks
the rows written and the ``BatchResult`` counters.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction

from certifications.models import (
    AutoPauseLog,
    Certification,
    CertificationStatus,
    JobState,
    JobTrigger,
    LogEvent,
    Mentor,
    MentorStatus,
    PausedBy,
)
from certifications.services import certification_renew, expiry_job_run, mentor_pause
from certifications.services.lapse import expiry_run_create
from certifications.services.lapse.engines import BatchEngine, BatchResult, OrmEngine, PostgreSQLEngine, batch_engine
from certifications.services.lapse.engines.postgresql import named_placeholders
from tests.certifications.services.lapse.helpers import (
    NOW,
    TAKEN_LOG_ID,
    UTC,
    current_cert,
    due_records_whose_first_drawn_log_ids_are_taken,
    lapsed_cert,
    refreshed,
    snapshot,
)
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.django_db

# Statements of one ``apply``: lock the records, lock their mentors, then the engine's writes
# (ORM: re-read the due records, flag, pause, check the drawn log ids, insert; PostgreSQL: one).
STATEMENTS = {"orm": 7, "postgresql": 3}


@pytest.fixture(params=["orm", "postgresql"])
def engine(request) -> BatchEngine:
    if request.param == "postgresql" and connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL engine needs PostgreSQL: set DATABASE_URL")
    return OrmEngine() if request.param == "orm" else PostgreSQLEngine()


@pytest.fixture
def run():
    return expiry_run_create(now=NOW, dry_run=False, trigger=JobTrigger.API, state=JobState.RUNNING)


def due_ids() -> list[int]:
    return list(Certification.objects.due(now=NOW).order_by("pk").values_list("pk", flat=True))


def apply(engine: BatchEngine, ids, run, now: dt.datetime = NOW) -> BatchResult:
    with transaction.atomic():
        return engine.apply(ids=ids, now=now, run=run)


def test_due_records_are_flagged_their_mentors_paused_and_each_logged(engine, run):
    first, second = lapsed_cert(), lapsed_cert(code="peer_mentor_advanced")
    current_cert()  # not due: untouched

    assert apply(engine, due_ids(), run) == BatchResult(flagged=2, paused=2, logged=2)

    for cert, code in ((first, "peer_mentor_basic"), (second, "peer_mentor_advanced")):
        reason = f"Certification {code} expired on 2026-03-01"
        cert = refreshed(cert)
        assert (cert.auto_pause_applied, cert.auto_pause_applied_at, cert.updated_at) == (True, NOW, NOW)
        assert cert.status == CertificationStatus.VALID  # marking expired is the job's step 1, not the batch's
        mentor = refreshed(cert.mentor)
        assert (mentor.status, mentor.paused_by, mentor.paused_at, mentor.pause_reason) == (
            MentorStatus.PAUSED,
            PausedBy.AUTO,
            NOW,
            reason,
        )
        [log] = AutoPauseLog.objects.filter(certification=cert)
        assert (log.mentor_id, log.job_run_id, log.event, log.reason, log.applied_at) == (
            mentor.pk,
            run.pk,
            LogEvent.AUTO_PAUSE,
            reason,
            NOW,
        )
        assert log.log_id.startswith("log_") and len(log.log_id) == 12
    assert AutoPauseLog.objects.count() == 2


@pytest.mark.parametrize("paused_by", [PausedBy.STAFF, PausedBy.AUTO])
def test_an_already_paused_mentor_keeps_its_pause_and_the_record_is_flagged_and_logged(engine, run, paused_by):
    cert = lapsed_cert()
    earlier = NOW - dt.timedelta(days=5)
    if paused_by == PausedBy.STAFF:
        mentor_pause(by=TEST_ACTOR, mentor=cert.mentor, now=earlier, reason="On leave")
    else:
        type(cert.mentor).objects.filter(pk=cert.mentor_id).update(
            status=MentorStatus.PAUSED, paused_by=PausedBy.AUTO, paused_at=earlier, pause_reason="On leave"
        )

    assert apply(engine, due_ids(), run) == BatchResult(flagged=1, paused=0, logged=1)

    mentor = refreshed(cert.mentor)
    assert (mentor.status, mentor.paused_by, mentor.paused_at, mentor.pause_reason) == (
        MentorStatus.PAUSED,
        paused_by,
        earlier,
        "On leave",
    )
    assert refreshed(cert).auto_pause_applied is True
    assert AutoPauseLog.objects.get().reason == "Certification peer_mentor_basic expired on 2026-03-01"


def test_a_revoked_record_pauses_with_its_revocation_date(engine, run):
    cert = current_cert(status=CertificationStatus.REVOKED, revoked_at=dt.datetime(2026, 3, 10, 15, tzinfo=UTC))

    assert apply(engine, due_ids(), run) == BatchResult(flagged=1, paused=1, logged=1)

    expected = "Certification peer_mentor_basic revoked on 2026-03-10"
    assert refreshed(cert.mentor).pause_reason == expected
    assert AutoPauseLog.objects.get().reason == expected
    assert refreshed(cert).status == CertificationStatus.REVOKED


def test_a_record_renewed_after_the_listing_is_skipped_under_the_locks(engine, run):
    renewed, other = lapsed_cert(), lapsed_cert()
    listed = due_ids()
    certification_renew(by=TEST_ACTOR, certification=renewed, now=NOW, expires_at=dt.datetime(2029, 3, 1, tzinfo=UTC))

    assert apply(engine, listed, run) == BatchResult(flagged=1, paused=1, logged=1)

    assert refreshed(renewed).auto_pause_applied is False
    assert refreshed(renewed.mentor).status == MentorStatus.ACTIVE
    assert refreshed(other).auto_pause_applied is True
    assert list(AutoPauseLog.objects.values_list("certification_id", flat=True)) == [other.pk]


def test_the_result_names_the_flagged_records_and_the_paused_mentors(engine, run):
    lowest = lapsed_cert(code="peer_mentor_advanced", expires_at=dt.datetime(2026, 3, 5, tzinfo=UTC))
    second = lapsed_cert(mentor=lowest.mentor, code="peer_mentor_basic")
    already = lapsed_cert()
    Mentor.objects.filter(pk=already.mentor.pk).update(
        status=MentorStatus.PAUSED, paused_by="staff", paused_at=NOW, pause_reason="Paused by staff"
    )

    result = apply(engine, due_ids(), run)

    assert sorted(result.flagged_pks) == sorted([lowest.pk, second.pk, already.pk])
    assert list(result.paused_pks) == [lowest.mentor.pk]


def test_a_mentor_with_several_due_records_is_paused_once_with_the_lowest_records_reason(engine, run):
    lowest = lapsed_cert(code="peer_mentor_advanced", expires_at=dt.datetime(2026, 3, 5, tzinfo=UTC))
    lapsed_cert(mentor=lowest.mentor, code="peer_mentor_basic")
    assert due_ids()[0] == lowest.pk

    assert apply(engine, due_ids(), run) == BatchResult(flagged=2, paused=1, logged=2)

    assert refreshed(lowest.mentor).pause_reason == "Certification peer_mentor_advanced expired on 2026-03-05"
    assert AutoPauseLog.objects.filter(mentor=lowest.mentor).count() == 2


def test_a_second_apply_of_the_same_batch_changes_nothing(engine, run):
    lapsed_cert()
    staff = lapsed_cert()
    mentor_pause(by=TEST_ACTOR, mentor=staff.mentor, now=NOW - dt.timedelta(days=1), reason="Staff")
    listed = due_ids()
    assert apply(engine, listed, run) == BatchResult(flagged=2, paused=1, logged=2)
    after_first = snapshot()

    assert apply(engine, listed, run, now=NOW + dt.timedelta(minutes=1)) == BatchResult(flagged=0, paused=0, logged=0)

    assert snapshot() == after_first


def test_ids_that_no_longer_exist_are_an_empty_batch(engine, run):
    gone = lapsed_cert()
    listed = due_ids()
    Certification.objects.filter(pk=gone.pk).delete()
    assert apply(engine, listed, run) == BatchResult(flagged=0, paused=0, logged=0)
    assert not AutoPauseLog.objects.exists()


def test_a_drawn_log_id_already_taken_is_replaced(engine, run, monkeypatch):
    taken = TAKEN_LOG_ID
    kept, due = due_records_whose_first_drawn_log_ids_are_taken(monkeypatch)

    assert apply(engine, due_ids(), run) == BatchResult(flagged=3, paused=3, logged=3)

    logs = AutoPauseLog.objects.filter(job_run=run)
    assert sorted(logs.values_list("certification_id", flat=True)) == sorted(cert.pk for cert in due)
    assert taken not in set(logs.values_list("log_id", flat=True))
    assert AutoPauseLog.objects.get(log_id=taken).certification_id == kept.pk


def test_a_batch_is_a_fixed_number_of_statements_whatever_its_rows(engine, run, django_assert_num_queries):
    for _ in range(30):
        lapsed_cert()
    listed = due_ids()
    with django_assert_num_queries(STATEMENTS[engine.name] + 2):  # + the savepoint and its release
        assert apply(engine, listed, run) == BatchResult(flagged=30, paused=30, logged=30)


def test_the_job_writes_the_same_rows_through_either_engine(engine, monkeypatch):
    """The job with this engine plugged in: the counters and rows the job's own tests pin."""
    monkeypatch.setattr("certifications.services.lapse.job.batch_engine", lambda: engine)
    basic = lapsed_cert()
    lapsed_cert(mentor=basic.mentor, code="peer_mentor_advanced")
    current_cert(status=CertificationStatus.REVOKED, revoked_at=NOW - dt.timedelta(days=2))
    run = expiry_job_run(now=NOW, batch_size=2)
    assert (run.expired_found, run.auto_paused, run.marked_expired, run.failures) == (3, 2, 2, [])
    assert AutoPauseLog.objects.filter(job_run=run).count() == 3


def test_the_engine_is_chosen_by_the_database_vendor():
    expected = PostgreSQLEngine if connection.vendor == "postgresql" else OrmEngine
    assert type(batch_engine()) is expected


def test_named_placeholders_rewrite_positional_ones_and_keep_literal_percents():
    sql, params = named_placeholders("a = %s AND b LIKE '%%x' AND c = %s", [1, "two"], prefix="due_")
    assert sql == "a = %(due_0)s AND b LIKE '%%x' AND c = %(due_1)s"
    assert params == {"due_0": 1, "due_1": "two"}
    with pytest.raises(ValueError):
        named_placeholders("a = %s", [1, 2], prefix="due_")
