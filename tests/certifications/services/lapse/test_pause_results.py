"""Per-mentor pause writes: each returns whether it changed the mentor and the log rows it wrote."""

from __future__ import annotations

import datetime as dt

import pytest

from certifications.changes import CertificationChange
from certifications.models import AutoPauseLog, MentorStatus, PausedBy
from certifications.services import MentorWriteResult, mentor_auto_resume, mentor_pause, mentor_resume
from tests.factories import TEST_ACTOR, CertificationFactory, MentorFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 26, 1, 0, tzinfo=dt.UTC)


def test_staff_pause_says_whether_it_paused_and_is_repeat_safe():
    mentor = MentorFactory()

    first = mentor_pause(by=TEST_ACTOR, mentor=mentor, now=NOW, reason="  On leave ")
    again = mentor_pause(by=TEST_ACTOR, mentor=mentor, now=NOW + dt.timedelta(hours=1), reason="Still on leave")

    assert isinstance(first, MentorWriteResult)
    assert (first.changed, again.changed) == (True, False)
    assert (again.mentor.status, again.mentor.paused_by, again.mentor.pause_reason) == (
        MentorStatus.PAUSED,
        PausedBy.STAFF,
        "On leave",
    )
    assert again.mentor.paused_at == NOW
    assert first.logs == again.logs == ()


def test_staff_resume_says_whether_it_resumed():
    mentor = MentorFactory()
    mentor_pause(by=TEST_ACTOR, mentor=mentor, now=NOW, reason="On leave")

    first = mentor_resume(by=TEST_ACTOR, mentor=mentor, now=NOW)
    again = mentor_resume(by=TEST_ACTOR, mentor=mentor, now=NOW)

    assert (first.changed, again.changed) == (True, False)
    assert first.mentor.status == MentorStatus.ACTIVE and first.mentor.paused_by == ""


def test_auto_resume_leaves_a_staff_pause_and_says_so():
    cert = CertificationFactory()
    mentor_pause(by=TEST_ACTOR, mentor=cert.mentor, now=NOW, reason="Conduct review")

    result = mentor_auto_resume(
        by=TEST_ACTOR, mentor=cert.mentor, now=NOW, cause=cert, change=CertificationChange.UPDATED
    )

    assert (result.changed, result.logs) == (False, ())
    assert result.mentor.paused_by == PausedBy.STAFF
    assert not AutoPauseLog.objects.exists()
