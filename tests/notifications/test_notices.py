"""Pause and resume notices: one per paused mentor in the job's batch, one per automatic resume, same transaction."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, transaction

from certifications.models import AutoPauseLog, LogEvent
from certifications.services import certification_renew, expiry_job_run, mentor_pause, mentor_resume
from certifications.services.lapse.engines import OrmEngine
from notifications import effects
from notifications.models import Notification, NotificationKind, NotificationState
from tests.certifications.services.lapse.helpers import NOW, UTC, lapsed_cert
from tests.factories import TEST_ACTOR, MentorFactory

pytestmark = pytest.mark.django_db

RENEWED_UNTIL = dt.datetime(2029, 3, 26, tzinfo=UTC)


def notices(kind: str) -> list[Notification]:
    return list(Notification.objects.filter(kind=kind).order_by("mentor_id"))


def test_the_job_writes_one_pause_notice_per_paused_mentor_naming_the_reason():
    mentor = MentorFactory()
    first = lapsed_cert(mentor)
    lapsed_cert(mentor, code="peer_mentor_advanced")  # a second due record: still one notice
    other = lapsed_cert()
    run = expiry_job_run(now=NOW, batch_size=2)
    assert run.auto_paused == 2
    paused = notices(NotificationKind.MENTOR_PAUSED)
    assert [(n.mentor_id, n.recipient, n.state, n.created_at) for n in paused] == [
        (mentor.pk, mentor.email, NotificationState.QUEUED, NOW),
        (other.mentor_id, other.mentor.email, NotificationState.QUEUED, NOW),
    ]
    assert paused[0].certification_id == first.pk
    assert paused[0].subject == "You are paused from mentoring: Certification peer_mentor_basic expired on 2026-03-01"
    assert Notification.objects.count() == 2


def test_a_mentor_already_paused_gets_no_second_notice():
    cert = lapsed_cert()
    mentor_pause(by=TEST_ACTOR, mentor=cert.mentor, now=NOW - dt.timedelta(days=1), reason="On leave")
    expiry_job_run(now=NOW)
    assert Notification.objects.count() == 0
    assert AutoPauseLog.objects.filter(event=LogEvent.AUTO_PAUSE).count() == 1  # flagged and logged all the same


def test_a_paused_mentor_without_an_email_gets_a_skipped_notice():
    cert = lapsed_cert(MentorFactory(email=""))
    expiry_job_run(now=NOW)
    [notice] = notices(NotificationKind.MENTOR_PAUSED)
    assert (notice.mentor_id, notice.state, notice.last_error) == (cert.mentor_id, "skipped", "no email address")


def test_a_dry_run_writes_no_notice():
    lapsed_cert()
    expiry_job_run(now=NOW, dry_run=True)
    assert Notification.objects.count() == 0


def test_a_renewal_writes_one_resume_notice_beside_its_log_row():
    cert = lapsed_cert()
    expiry_job_run(now=NOW)
    later = NOW + dt.timedelta(hours=5)
    certification_renew(by=TEST_ACTOR, certification=cert, now=later, expires_at=RENEWED_UNTIL)
    [notice] = notices(NotificationKind.MENTOR_RESUMED)
    assert (notice.mentor_id, notice.certification_id, notice.state, notice.created_at) == (
        cert.mentor_id,
        cert.pk,
        NotificationState.QUEUED,
        later,
    )
    assert notice.subject == "You can mentor again: Certification peer_mentor_basic renewed until 2029-03-26"


def test_a_staff_resume_writes_no_resume_notice():
    mentor = MentorFactory()
    mentor_pause(by=TEST_ACTOR, mentor=mentor, now=NOW, reason="On leave")
    mentor_resume(by=TEST_ACTOR, mentor=mentor, now=NOW)
    assert Notification.objects.count() == 0


def test_a_write_rolled_back_leaves_neither_the_resume_log_nor_its_notice():
    cert = lapsed_cert()
    expiry_job_run(now=NOW)
    with pytest.raises(RuntimeError), transaction.atomic():
        certification_renew(by=TEST_ACTOR, certification=cert, now=NOW, expires_at=RENEWED_UNTIL)
        assert notices(NotificationKind.MENTOR_RESUMED) and AutoPauseLog.objects.filter(event="auto_resume").exists()
        raise RuntimeError("the write fails after the resume")
    assert notices(NotificationKind.MENTOR_RESUMED) == []
    assert not AutoPauseLog.objects.filter(event=LogEvent.AUTO_RESUME).exists()


def test_a_batch_whose_notices_fail_keeps_neither_its_log_rows_nor_its_pauses(monkeypatch):
    """The notices written after the batch's statement (the ORM engine, on any database)."""
    monkeypatch.setattr("certifications.services.lapse.job.batch_engine", OrmEngine)
    cert = lapsed_cert()
    real = effects.pause_notices_create

    def written_then_failing(**kwargs):
        real(**kwargs)
        assert Notification.objects.filter(kind=NotificationKind.MENTOR_PAUSED).exists()
        raise DatabaseError("the notice insert failed")

    monkeypatch.setattr(effects, "pause_notices_create", written_then_failing)
    run = expiry_job_run(now=NOW)
    assert [failure["certification_id"] for failure in run.failures] == [cert.certification_id]
    assert (run.auto_paused, Notification.objects.count(), AutoPauseLog.objects.count()) == (0, 0, 0)
    cert.mentor.refresh_from_db()
    assert cert.mentor.status == "active"
