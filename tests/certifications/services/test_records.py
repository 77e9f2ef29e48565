"""Record writes: their results, their validation steps, and writes racing a delete."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from certhub.errors import Conflict, NotFound, RuleViolation
from certifications.models import AutoPauseLog, Certification, CertificationStatus, LogEvent, Mentor, MentorStatus
from certifications.selectors import certification_list
from certifications.services import (
    CertificationWriteResult,
    certification_create,
    certification_delete,
    certification_renew,
    certification_update,
    certification_validate_create,
    certification_validate_update,
    expiry_job_run,
)
from tests.factories import TEST_ACTOR, CertificationFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 26, 1, 0, tzinfo=dt.UTC)


def test_update_of_a_record_deleted_since_it_was_read_is_not_found_and_changes_nothing():
    stale = CertificationFactory()  # what a request read before another request deleted it
    certification_delete(by=TEST_ACTOR, certification=Certification.objects.get(pk=stale.pk), now=NOW)

    with pytest.raises(NotFound):
        certification_update(
            by=TEST_ACTOR, certification=stale, changes={"expires_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)}, now=NOW
        )

    fresh = Certification.objects.get(pk=stale.pk)
    assert fresh.expires_at == stale.expires_at
    assert fresh.deleted_at == NOW


def test_update_returns_the_record_as_written_with_its_relations():
    cert = CertificationFactory()
    updated = certification_update(
        by=TEST_ACTOR, certification=cert, changes={"expires_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)}, now=NOW
    ).certification
    assert updated.expires_at == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert updated.status == CertificationStatus.VALID
    assert updated.mentor.mentor_id == cert.mentor.mentor_id
    assert updated.certification_type.code == "peer_mentor_basic"


def test_create_returns_the_record_with_its_relations_loaded(django_assert_num_queries):
    cert = certification_create(
        by=TEST_ACTOR,
        mentor_id="mntr_01HX4V2K8P",
        certification_type="peer_mentor_basic",
        issued_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        now=NOW,
    ).certification
    with django_assert_num_queries(0):  # the API renders it without reading it back
        assert cert.mentor.mentor_id == "mntr_01HX4V2K8P"
        assert cert.certification_type.code == "peer_mentor_basic"


# A plain update, once the record is found: lock-and-read the record, the duplicate check, the UPDATE,
# its history row, tallies and event (with the outbox's id check and endpoints), then auto-resume
# (lock the mentor, look for its flagged records), inside a savepoint.
UPDATE_QUERIES = 12


def test_update_reads_and_locks_the_record_once(django_assert_num_queries):
    cert = certification_list().get(pk=CertificationFactory().pk)  # as the API's lookup finds it
    with CaptureQueriesContext(connection) as queries, django_assert_num_queries(UPDATE_QUERIES):
        updated = certification_update(
            by=TEST_ACTOR, certification=cert, changes={"expires_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)}, now=NOW
        ).certification
    row_reads = [
        query["sql"]
        for query in queries
        if query["sql"].startswith("SELECT")
        and f'WHERE "certifications_certification"."id" = {cert.pk}' in query["sql"]
    ]
    assert len(row_reads) == 1  # one SELECT ... FOR UPDATE; no read before the lock, none after the write
    with django_assert_num_queries(0):  # the API renders it without reading it back
        assert updated.mentor.mentor_id == cert.mentor.mentor_id
        assert updated.certification_type.code == "peer_mentor_basic"
        assert updated.expires_at == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def test_update_of_a_flagged_record_shows_the_flag_auto_resume_cleared():
    cert = _auto_paused()
    updated = certification_renew(by=TEST_ACTOR, certification=cert, now=NOW).certification
    assert updated.auto_pause_applied is False
    assert updated.auto_pause_applied_at is None
    assert updated.mentor.status == MentorStatus.ACTIVE


def _auto_paused() -> Certification:
    """A record that lapsed on 2026-03-01, its mentor paused for it by the job."""
    cert = CertificationFactory(
        issued_at=dt.datetime(2023, 3, 1, tzinfo=dt.UTC), expires_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    )
    expiry_job_run(now=NOW)
    cert.refresh_from_db()
    assert cert.mentor.status == MentorStatus.PAUSED
    return cert


# --- Results ------------------------------------------------------------------------------------


def test_a_write_that_resumes_its_mentor_returns_the_mentor_and_the_log_row():
    cert = _auto_paused()

    result = certification_renew(
        by=TEST_ACTOR, certification=cert, now=NOW, expires_at=dt.datetime(2029, 3, 1, tzinfo=dt.UTC)
    )

    assert isinstance(result, CertificationWriteResult)
    assert result.certification.pk == cert.pk and result.certification.status == CertificationStatus.VALID
    assert result.resumed_mentor is not None and result.resumed_mentor.pk == cert.mentor.pk
    assert result.resumed_mentor.status == MentorStatus.ACTIVE and result.resumed_mentor.paused_by == ""
    assert Mentor.objects.get(pk=cert.mentor.pk).status == MentorStatus.ACTIVE
    assert list(result.logs) == list(AutoPauseLog.objects.filter(event=LogEvent.AUTO_RESUME))
    assert len(result.logs) == 1 and result.logs[0].certification_id == cert.pk


def test_a_write_that_resumes_nobody_says_so():
    cert = CertificationFactory()

    result = certification_renew(by=TEST_ACTOR, certification=cert, now=NOW)

    assert (result.resumed_mentor, result.logs) == (None, ())
    assert result.certification.expires_at == dt.datetime(2030, 6, 15, tzinfo=dt.UTC)


def test_a_repeated_delete_writes_nothing_and_resumes_nobody():
    cert = _auto_paused()
    first = certification_delete(by=TEST_ACTOR, certification=cert, now=NOW)
    second = certification_delete(by=TEST_ACTOR, certification=cert, now=NOW + dt.timedelta(hours=1))

    assert first.resumed_mentor is not None and len(first.logs) == 1
    assert (second.resumed_mentor, second.logs) == (None, ())
    assert second.certification.deleted_at == NOW
    assert AutoPauseLog.objects.filter(event=LogEvent.AUTO_RESUME).count() == 1


# --- Validation steps: the writes' rules, without writing ---------------------------------------


def test_validate_create_returns_what_create_would_write_and_writes_nothing(django_assert_num_queries):
    with django_assert_num_queries(2):  # the type, the duplicate check; no write
        new = certification_validate_create(
            mentor_id="mntr_01HX4V2K8P",
            certification_type="peer_mentor_basic",
            issued_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
            now=NOW,
        )
    assert new.expires_at == dt.datetime(2029, 3, 1, tzinfo=dt.UTC)
    assert (new.mentor_id, new.certification_type.code, new.status) == (
        "mntr_01HX4V2K8P",
        "peer_mentor_basic",
        CertificationStatus.VALID,
    )
    assert not Mentor.objects.filter(mentor_id="mntr_01HX4V2K8P").exists()


@pytest.mark.parametrize("rule", ["dates", "duplicate", "type"])
def test_validate_create_refuses_what_create_refuses(rule):
    held = CertificationFactory()
    arguments = {
        "mentor_id": held.mentor.mentor_id,
        "certification_type": "peer_mentor_basic",
        "issued_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "now": NOW,
    }
    if rule == "dates":
        arguments["expires_at"] = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    elif rule == "duplicate":
        arguments["issued_at"] = held.issued_at
    else:
        arguments["certification_type"] = "no_such_type"
    error = Conflict if rule == "duplicate" else RuleViolation

    with pytest.raises(error) as refused:
        certification_validate_create(**arguments)
    with pytest.raises(error) as written:
        certification_create(by=TEST_ACTOR, **arguments)

    assert refused.value.message == written.value.message
    assert Certification.objects.count() == 1


def test_validate_update_returns_the_record_as_update_would_save_it_and_writes_nothing():
    cert = CertificationFactory()
    changes = {"status": CertificationStatus.REVOKED, "revocation_reason": "Withdrawn"}

    would_be = certification_validate_update(certification=cert, changes=changes, now=NOW)

    assert (would_be.status, would_be.revocation_reason, would_be.revoked_at) == ("revoked", "Withdrawn", NOW)
    assert cert.status == CertificationStatus.VALID  # the caller's instance is left as it was
    stored = Certification.objects.get(pk=cert.pk)
    assert (stored.status, stored.revoked_at, stored.updated_at) == (CertificationStatus.VALID, None, cert.updated_at)


@pytest.mark.parametrize(
    "changes",
    [
        {"status": CertificationStatus.EXPIRED},
        {"expires_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)},
        {"revocation_reason": "Not revoked"},
        {"mentor": "mntr_01HX4V2K8P"},
    ],
)
def test_validate_update_refuses_what_update_refuses(changes):
    cert = CertificationFactory()

    with pytest.raises(RuleViolation) as refused:
        certification_validate_update(certification=cert, changes=changes, now=NOW)
    with pytest.raises(RuleViolation) as written:
        certification_update(by=TEST_ACTOR, certification=cert, changes=changes, now=NOW)

    assert (refused.value.message, refused.value.fields) == (written.value.message, written.value.fields)
    assert Certification.objects.get(pk=cert.pk).updated_at == cert.updated_at


def test_validate_update_of_a_deleted_record_is_not_found():
    cert = CertificationFactory(deleted_at=NOW)
    with pytest.raises(NotFound):
        certification_validate_update(certification=cert, changes={"status": CertificationStatus.REVOKED}, now=NOW)


# --- Races ----------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_writes_of_one_type_do_not_wait_on_each_other():
    """A write locks its own record, not the certification type row every record shares."""
    import threading

    from django.db import connection, connections

    first, second = CertificationFactory(), CertificationFactory()
    holding = threading.Event()
    release = threading.Event()

    def hold_first():
        with transaction.atomic():
            certification_update(
                by=TEST_ACTOR,
                certification=first,
                changes={"expires_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)},
                now=NOW,
            )
            holding.set()
            release.wait(10)
        connections.close_all()

    worker = threading.Thread(target=hold_first)
    worker.start()
    try:
        assert holding.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        # Would time out (LockNotAvailable) if the first write had locked the shared type row.
        certification_update(
            by=TEST_ACTOR, certification=second, changes={"expires_at": dt.datetime(2031, 1, 1, tzinfo=dt.UTC)}, now=NOW
        )
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    finally:
        release.set()
        worker.join()
    assert Certification.objects.get(pk=second.pk).expires_at == dt.datetime(2031, 1, 1, tzinfo=dt.UTC)


def test_renewal_by_validity_past_the_calendars_end_is_refused_and_changes_nothing():
    cert = CertificationFactory(expires_at=dt.datetime(9998, 6, 1, tzinfo=dt.UTC))
    with pytest.raises(RuleViolation) as refused:
        certification_renew(by=TEST_ACTOR, certification=cert, now=NOW)
    assert "expires_at" in refused.value.fields
    assert Certification.objects.get(pk=cert.pk).expires_at == cert.expires_at
