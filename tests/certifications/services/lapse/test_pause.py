"""Auto-resume on writes (``pause.mentor_auto_resume``, called by the record services) and staff pauses."""

from __future__ import annotations

import datetime as dt

import pytest

from certifications.models import AutoPauseLog, CertificationStatus, LogEvent, MentorStatus
from certifications.services import (
    certification_create,
    certification_delete,
    certification_renew,
    certification_update,
    expiry_job_run,
)
from tests.certifications.services.lapse.helpers import NOW, UTC, lapsed_cert, refreshed
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.django_db


# --- Auto-resume on writes --------------------------------------------------------------


def test_renewal_resumes_the_auto_paused_mentor_in_the_same_write():
    cert = lapsed_cert()
    expiry_job_run(now=NOW)
    later = NOW + dt.timedelta(hours=5)
    certification_renew(by=TEST_ACTOR, certification=cert, now=later, expires_at=dt.datetime(2029, 3, 26, tzinfo=UTC))
    mentor = refreshed(cert.mentor)
    assert (mentor.status, mentor.paused_by, mentor.paused_at, mentor.pause_reason) == (
        MentorStatus.ACTIVE,
        "",
        None,
        "",
    )
    cert = refreshed(cert)
    assert cert.status == CertificationStatus.VALID
    assert (cert.auto_pause_applied, cert.auto_pause_applied_at) == (False, None)
    resume = AutoPauseLog.objects.get(event=LogEvent.AUTO_RESUME)
    assert resume.reason == "Certification peer_mentor_basic renewed until 2029-03-26"
    assert (resume.job_run_id, resume.certification_id, resume.applied_at) == (None, cert.pk, later)


def test_new_valid_record_of_the_same_type_resumes_the_mentor():
    old = lapsed_cert()
    expiry_job_run(now=NOW)
    new = certification_create(
        by=TEST_ACTOR,
        mentor_id=old.mentor.mentor_id,
        certification_type="peer_mentor_basic",
        issued_at=dt.datetime(2026, 3, 26, tzinfo=UTC),
        now=NOW,
    ).certification
    assert refreshed(old.mentor).status == MentorStatus.ACTIVE
    assert refreshed(old).auto_pause_applied is False
    resume = AutoPauseLog.objects.get(event=LogEvent.AUTO_RESUME)
    assert resume.certification_id == new.pk
    assert resume.reason == "Certification peer_mentor_basic renewed until 2029-03-26"
    # The old record stays expired and, with the renewal in place, is not due again.
    assert expiry_job_run(now=NOW + dt.timedelta(minutes=1)).expired_found == 0


def test_new_record_of_another_type_does_not_resume():
    old = lapsed_cert()
    expiry_job_run(now=NOW)
    certification_create(
        by=TEST_ACTOR,
        mentor_id=old.mentor.mentor_id,
        certification_type="peer_mentor_advanced",
        issued_at=dt.datetime(2026, 3, 26, tzinfo=UTC),
        now=NOW,
    )
    assert refreshed(old.mentor).status == MentorStatus.PAUSED
    assert not AutoPauseLog.objects.filter(event=LogEvent.AUTO_RESUME).exists()


def test_deleting_the_lapsed_record_resumes_the_mentor():
    cert = lapsed_cert()
    expiry_job_run(now=NOW)
    certification_delete(by=TEST_ACTOR, certification=cert, now=NOW + dt.timedelta(days=1))
    assert refreshed(cert.mentor).status == MentorStatus.ACTIVE
    assert refreshed(cert).auto_pause_applied is False
    resume = AutoPauseLog.objects.get(event=LogEvent.AUTO_RESUME)
    assert resume.reason == f"Certification peer_mentor_basic record {cert.certification_id} deleted on 2026-03-27"


def test_mentor_stays_paused_while_another_record_is_lapsed():
    basic = lapsed_cert(code="peer_mentor_basic")
    advanced = lapsed_cert(mentor=basic.mentor, code="peer_mentor_advanced")
    expiry_job_run(now=NOW)
    certification_renew(by=TEST_ACTOR, certification=basic, now=NOW, expires_at=dt.datetime(2029, 3, 1, tzinfo=UTC))
    assert refreshed(basic.mentor).status == MentorStatus.PAUSED
    assert refreshed(basic).auto_pause_applied is False  # no longer lapsed: the flag is cleared
    assert refreshed(advanced).auto_pause_applied is True
    certification_update(
        by=TEST_ACTOR, certification=advanced, changes={"expires_at": dt.datetime(2028, 1, 1, tzinfo=UTC)}, now=NOW
    )
    assert refreshed(basic.mentor).status == MentorStatus.ACTIVE
    assert AutoPauseLog.objects.get(event=LogEvent.AUTO_RESUME).reason == (
        "Certification peer_mentor_advanced renewed until 2028-01-01"
    )


def test_renewed_record_that_lapses_again_pauses_again():
    cert = lapsed_cert()
    expiry_job_run(now=NOW)
    certification_renew(by=TEST_ACTOR, certification=cert, now=NOW, expires_at=dt.datetime(2026, 6, 1, tzinfo=UTC))
    run = expiry_job_run(now=dt.datetime(2026, 6, 2, tzinfo=UTC))
    assert (run.marked_expired, run.expired_found, run.auto_paused) == (1, 1, 1)
    assert refreshed(cert.mentor).pause_reason == "Certification peer_mentor_basic expired on 2026-06-01"
