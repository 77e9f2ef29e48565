"""The expiry job (docs/design.md, "The rule"): every clause of ``expiry_job_run`` and every counter.

Time is an argument: each test passes ``now`` to the services.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from certifications.models import (
    AutoPauseLog,
    Certification,
    CertificationStatus,
    ExpiryJobRun,
    JobLock,
    JobState,
    LogEvent,
    MentorStatus,
    PausedBy,
)
from certifications.services import certification_renew, expiry_job_run, mentor_pause
from tests.certifications.services.lapse.helpers import (
    NOW,
    TAKEN_LOG_ID,
    UTC,
    counters,
    current_cert,
    due_records_whose_first_drawn_log_ids_are_taken,
    lapsed_cert,
    refreshed,
    snapshot,
)
from tests.factories import TEST_ACTOR, MentorFactory

pytestmark = pytest.mark.django_db


# --- Clause 1 and 3: marking expired, pausing, flagging, logging ---------------------


def test_expired_record_is_marked_and_pauses_its_mentor_once():
    cert = lapsed_cert()
    run = expiry_job_run(now=NOW)

    assert counters(run) == {
        "mentors_scanned": 1,
        "expired_found": 1,
        "auto_paused": 1,
        "marked_expired": 1,
        "failures": [],
    }
    assert run.state == JobState.SUCCEEDED and run.started_at == NOW and run.completed_at >= NOW
    cert = refreshed(cert)
    assert cert.status == CertificationStatus.EXPIRED
    assert cert.auto_pause_applied is True and cert.auto_pause_applied_at == NOW
    mentor = refreshed(cert.mentor)
    assert mentor.status == MentorStatus.PAUSED and mentor.paused_by == PausedBy.AUTO and mentor.paused_at == NOW
    assert mentor.pause_reason == "Certification peer_mentor_basic expired on 2026-03-01"
    [log] = AutoPauseLog.objects.all()
    assert (log.mentor_id, log.certification_id, log.job_run_id) == (mentor.pk, cert.pk, run.pk)
    assert log.event == LogEvent.AUTO_PAUSE and log.applied_at == NOW
    assert log.reason == "Certification peer_mentor_basic expired on 2026-03-01"
    assert log.log_id.startswith("log_") and len(log.log_id) == 12


def test_expiry_exactly_at_now_is_lapsed_and_one_second_later_is_not():
    at_now = lapsed_cert(expires_at=NOW)
    later = lapsed_cert(expires_at=NOW + dt.timedelta(seconds=1))
    run = expiry_job_run(now=NOW)
    assert (run.marked_expired, run.expired_found) == (1, 1)
    assert refreshed(at_now).auto_pause_applied is True
    assert refreshed(later).status == CertificationStatus.VALID
    assert refreshed(later.mentor).status == MentorStatus.ACTIVE


def test_record_already_expired_is_due_but_not_marked_again():
    cert = lapsed_cert(status=CertificationStatus.EXPIRED)
    run = expiry_job_run(now=NOW)
    assert (run.marked_expired, run.expired_found, run.auto_paused) == (0, 1, 1)
    assert refreshed(cert).auto_pause_applied is True


# --- The lapsed definition -----------------------------------------------------------


def test_newer_record_of_the_same_type_counts_as_a_renewal():
    old = lapsed_cert()
    current_cert(mentor=old.mentor)
    run = expiry_job_run(now=NOW)
    # The old record is still marked expired, but it is not lapsed: nothing is paused.
    assert (run.marked_expired, run.expired_found, run.auto_paused) == (1, 0, 0)
    assert refreshed(old).status == CertificationStatus.EXPIRED
    assert refreshed(old).auto_pause_applied is False
    assert refreshed(old.mentor).status == MentorStatus.ACTIVE
    assert not AutoPauseLog.objects.exists()


def test_current_record_of_another_type_does_not_count():
    old = lapsed_cert(code="peer_mentor_basic")
    current_cert(mentor=old.mentor, code="peer_mentor_advanced")
    run = expiry_job_run(now=NOW)
    assert (run.expired_found, run.auto_paused) == (1, 1)
    assert refreshed(old.mentor).status == MentorStatus.PAUSED


@pytest.mark.parametrize(
    ("status", "expires_at"),
    [
        (CertificationStatus.REVOKED, dt.datetime(2029, 2, 1, tzinfo=UTC)),  # revoked, not a renewal
        (CertificationStatus.EXPIRED, dt.datetime(2026, 3, 20, tzinfo=UTC)),  # expired too
    ],
)
def test_newer_record_that_is_not_current_does_not_renew(status, expires_at):
    old = lapsed_cert(status=CertificationStatus.EXPIRED)
    newer = current_cert(
        mentor=old.mentor,
        status=status,
        expires_at=expires_at,
        revoked_at=dt.datetime(2026, 3, 10, tzinfo=UTC) if status == CertificationStatus.REVOKED else None,
    )
    run = expiry_job_run(now=NOW)
    assert (run.expired_found, run.auto_paused) == (2, 1)
    assert refreshed(old).auto_pause_applied and refreshed(newer).auto_pause_applied
    assert AutoPauseLog.objects.filter(mentor=old.mentor).count() == 2


def test_deleted_records_are_ignored_by_the_job():
    deleted = lapsed_cert(deleted_at=NOW - dt.timedelta(days=1))
    run = expiry_job_run(now=NOW)
    assert counters(run) == {
        "mentors_scanned": 0,
        "expired_found": 0,
        "auto_paused": 0,
        "marked_expired": 0,
        "failures": [],
    }
    deleted = refreshed(deleted)
    assert deleted.status == CertificationStatus.VALID and deleted.auto_pause_applied is False
    assert refreshed(deleted.mentor).status == MentorStatus.ACTIVE


def test_deleted_current_record_is_not_a_renewal():
    old = lapsed_cert()
    current_cert(mentor=old.mentor, deleted_at=NOW - dt.timedelta(days=1))
    run = expiry_job_run(now=NOW)
    assert (run.expired_found, run.auto_paused, run.mentors_scanned) == (1, 1, 1)


# --- Already paused, staff pause ------------------------------------------------------


def test_mentor_with_two_lapsed_records_is_paused_once_with_a_log_row_each():
    first = lapsed_cert(code="peer_mentor_basic")
    lapsed_cert(mentor=first.mentor, code="peer_mentor_advanced")
    run = expiry_job_run(now=NOW)
    assert (run.expired_found, run.auto_paused) == (2, 1)
    assert AutoPauseLog.objects.filter(mentor=first.mentor, event=LogEvent.AUTO_PAUSE).count() == 2
    assert Certification.objects.filter(auto_pause_applied=True).count() == 2


def test_already_auto_paused_mentor_is_not_paused_again():
    first = lapsed_cert()
    expiry_job_run(now=NOW)
    # A second record of another type lapses later: flagged and logged, the pause is kept as it was.
    later = lapsed_cert(mentor=first.mentor, code="peer_mentor_advanced", expires_at=NOW + dt.timedelta(days=2))
    run = expiry_job_run(now=NOW + dt.timedelta(days=3))
    assert (run.expired_found, run.auto_paused) == (1, 0)
    mentor = refreshed(first.mentor)
    assert mentor.paused_at == NOW
    assert mentor.pause_reason == "Certification peer_mentor_basic expired on 2026-03-01"
    assert refreshed(later).auto_pause_applied_at == NOW + dt.timedelta(days=3)
    assert AutoPauseLog.objects.filter(job_run=run).get().certification_id == later.pk


def test_staff_pause_is_kept_but_the_due_record_is_flagged_and_logged():
    cert = lapsed_cert()
    mentor_pause(by=TEST_ACTOR, mentor=cert.mentor, now=NOW - dt.timedelta(days=5), reason="On leave")
    run = expiry_job_run(now=NOW)
    assert (run.expired_found, run.auto_paused) == (1, 0)
    mentor = refreshed(cert.mentor)
    assert (mentor.status, mentor.paused_by, mentor.pause_reason) == (MentorStatus.PAUSED, PausedBy.STAFF, "On leave")
    assert refreshed(cert).auto_pause_applied is True
    assert AutoPauseLog.objects.get().reason == "Certification peer_mentor_basic expired on 2026-03-01"

    # A renewal clears the flag but never lifts the staff pause.
    certification_renew(by=TEST_ACTOR, certification=cert, now=NOW, expires_at=dt.datetime(2029, 3, 1, tzinfo=UTC))
    mentor = refreshed(mentor)
    assert (mentor.status, mentor.paused_by) == (MentorStatus.PAUSED, PausedBy.STAFF)
    assert refreshed(cert).auto_pause_applied is False
    assert not AutoPauseLog.objects.filter(event=LogEvent.AUTO_RESUME).exists()


# --- Dry run, idempotence ---------------------------------------------------------------


def _mixed_population():
    lapsed_cert()  # pauses
    staff = lapsed_cert()  # flagged, staff pause kept
    mentor_pause(by=TEST_ACTOR, mentor=staff.mentor, now=NOW - dt.timedelta(days=1), reason="Staff")
    renewed = lapsed_cert()
    current_cert(mentor=renewed.mentor)  # marked expired only
    current_cert()  # untouched
    current_cert(status=CertificationStatus.REVOKED, revoked_at=NOW - dt.timedelta(days=2))  # pauses


def test_dry_run_reports_the_real_counters_and_writes_only_its_run_record():
    _mixed_population()
    before = snapshot()
    dry = expiry_job_run(now=NOW, dry_run=True)
    assert snapshot() == before
    assert ExpiryJobRun.objects.count() == 1 and dry.dry_run is True and dry.state == JobState.SUCCEEDED
    assert not JobLock.objects.exclude(holder="").exists()

    real = expiry_job_run(now=NOW)
    assert (
        counters(dry)
        == counters(real)
        == {
            "mentors_scanned": 5,
            "expired_found": 3,
            "auto_paused": 2,
            "marked_expired": 3,
            "failures": [],
        }
    )


def test_second_run_at_the_same_now_changes_nothing():
    _mixed_population()
    expiry_job_run(now=NOW)
    after_first = snapshot()
    second = expiry_job_run(now=NOW)
    assert snapshot() == after_first
    assert counters(second) == {
        "mentors_scanned": 5,
        "expired_found": 0,
        "auto_paused": 0,
        "marked_expired": 0,
        "failures": [],
    }


def test_mentors_scanned_counts_distinct_mentors_with_a_live_record():
    mentor = MentorFactory()
    current_cert(mentor=mentor)
    current_cert(mentor=mentor, code="peer_mentor_advanced")
    current_cert()
    lapsed_cert(deleted_at=NOW)  # only a deleted record: not scanned
    MentorFactory()  # no record at all
    assert expiry_job_run(now=NOW, dry_run=True).mentors_scanned == 2


# --- Failures are isolated -----------------------------------------------------------


def _reject_updates_of(certification_id: str) -> None:
    """A real database trigger that refuses any update of one certification row."""
    table = Certification._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION test_reject_update() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'record is locked by an auditor'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER test_reject BEFORE UPDATE ON {table} FOR EACH ROW "
                f"WHEN (NEW.certification_id = '{certification_id}') EXECUTE FUNCTION test_reject_update()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER test_reject BEFORE UPDATE ON {table} "
                f"WHEN NEW.certification_id = '{certification_id}' "
                "BEGIN SELECT RAISE(ABORT, 'record is locked by an auditor'); END"
            )


def test_one_bad_item_is_recorded_and_the_rest_of_its_batch_and_other_batches_apply():
    certs = [lapsed_cert(status=CertificationStatus.EXPIRED) for _ in range(5)]
    bad = sorted(certs, key=lambda cert: cert.pk)[2]  # batch 2 of 3 with batch_size=2
    _reject_updates_of(bad.certification_id)

    run = expiry_job_run(now=NOW, batch_size=2)

    assert run.state == JobState.SUCCEEDED
    assert (run.expired_found, run.auto_paused) == (5, 4)
    [failure] = run.failures
    assert failure["mentor_id"] == bad.mentor.mentor_id
    assert failure["certification_id"] == bad.certification_id
    assert "record is locked by an auditor" in failure["error"]
    assert refreshed(ExpiryJobRun.objects.get(pk=run.pk)).failures == run.failures
    assert set(Certification.objects.filter(auto_pause_applied=True).values_list("pk", flat=True)) == {
        cert.pk for cert in certs if cert.pk != bad.pk
    }
    assert refreshed(bad.mentor).status == MentorStatus.ACTIVE
    assert not AutoPauseLog.objects.filter(certification=bad).exists()
    assert AutoPauseLog.objects.count() == 4


# --- Set-based batches ------------------------------------------------------------------

# Statements of one batch: renew the lease, lock the listed records, lock their mentors,
# then on PostgreSQL one statement flagging the records still due, pausing the mentors,
# inserting the log rows (it skips a taken log id itself) and writing the consequences
# that are parts of it (decisions 0051 and 0053: the mentors' tally move, the history rows
# of the flagged records and paused mentors, the paused mentors' notices and their states'
# tally, their events and deliveries); elsewhere a re-read of
# the due records, the flag, the pause, a check of the drawn log ids and the insert --
# then the run's auto_paused counter, committed with the batch (so a run that dies
# shows what it applied), plus the batch's savepoint and its release (the test runs
# inside a transaction; in production they are BEGIN and COMMIT). Every record here
# also reaches its expiry in step 1, which marks them in chunks of the batch size: one
# UPDATE per chunk, counted with its batch. The effects add, per chunk: totals, one
# INSERT ... SELECT of the chunk's tally deltas; history, one INSERT ... SELECT of the
# chunk's status rows; the outbox, on PostgreSQL 2 (a check that the drawn event ids are
# free, then one statement inserting the events built from the rows and their deliveries),
# elsewhere 4 (a read of the expired records' ids, the id check, the events' insert, the
# active endpoints' read; no endpoint here, so no deliveries' insert). Elsewhere, per
# batch: one INSERT of the mentors' tally move (decision 0034), history's two INSERT ...
# SELECT (the flagged records, the paused mentors), the outbox's 4 for the paused mentors,
# and the notices: a read of the paused mentors with their logged record, a check of the
# drawn notification ids, the insert and the tally's INSERT.
QUERIES_PER_BATCH = 12 if connection.vendor == "postgresql" else 29
# Outside the batches: allocate the run id and create the run (4), create the lock row
# on first use (4) and take it (4), mark the run running, step 1's savepoint, locking
# list (on PostgreSQL a cursor, planned for all its rows: one SET LOCAL more) and
# release, renew the lease, list the due records, count the mentors, record
# steps 1 and 2's counters on the run, save the run in a savepoint (3), release the lock,
# and the run's expiry_job.completed event (3: the id check, the insert, the endpoints' read).
QUERIES_OUTSIDE_BATCHES = 28 if connection.vendor == "postgresql" else 27


def _count_run_queries(batch_size: int) -> int:
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            run = expiry_job_run(now=NOW, batch_size=batch_size)
        assert run.auto_paused == 6
        transaction.set_rollback(True)
    return len(queries)


def test_query_count_is_fixed_per_batch_whatever_the_batch_size():
    for _ in range(6):
        lapsed_cert()
    one_batch = _count_run_queries(batch_size=6)
    three_batches = _count_run_queries(batch_size=2)
    six_batches = _count_run_queries(batch_size=1)
    assert one_batch == QUERIES_OUTSIDE_BATCHES + QUERIES_PER_BATCH
    assert three_batches - one_batch == 2 * QUERIES_PER_BATCH
    assert six_batches - one_batch == 5 * QUERIES_PER_BATCH


def test_a_drawn_log_id_already_taken_is_replaced_and_every_record_logged(monkeypatch):
    taken = TAKEN_LOG_ID
    kept, due = due_records_whose_first_drawn_log_ids_are_taken(monkeypatch)
    run = expiry_job_run(now=NOW)
    assert run.failures == [] and run.expired_found == 3
    logs = AutoPauseLog.objects.filter(job_run=run)
    assert sorted(logs.values_list("certification_id", flat=True)) == sorted(cert.pk for cert in due)
    assert taken not in set(logs.values_list("log_id", flat=True))
    assert AutoPauseLog.objects.get(log_id=taken).certification_id == kept.pk


def test_query_count_does_not_grow_with_the_rows_of_a_batch(django_assert_num_queries):
    for _ in range(40):
        lapsed_cert()
    with django_assert_num_queries(QUERIES_OUTSIDE_BATCHES + 2 * QUERIES_PER_BATCH):
        run = expiry_job_run(now=NOW, batch_size=20)
    assert (run.expired_found, run.auto_paused) == (40, 40)


# --- What counts as one record's failure -------------------------------------------------


class _BrokenEngine:
    """An engine with a code bug: not a database error, so not one record's failure."""

    name = "broken"

    def apply(self, *, ids, now, run):
        raise TypeError("unsupported operand type(s)")


def test_a_code_bug_in_a_batch_stops_the_run_instead_of_becoming_item_failures(monkeypatch):
    cert = lapsed_cert()
    monkeypatch.setattr("certifications.services.lapse.job.batch_engine", _BrokenEngine)
    with pytest.raises(TypeError):
        expiry_job_run(now=NOW)
    run = ExpiryJobRun.objects.get()
    assert run.state == JobState.FAILED and run.error.startswith("TypeError")
    assert run.failures == []
    assert refreshed(cert).auto_pause_applied is False
    assert not JobLock.objects.exclude(holder="").exists()  # the lock is released all the same
