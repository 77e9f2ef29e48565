"""The pause reason's text (``reasons.pause_reason``), as the job writes it on the mentor and in the log."""

from __future__ import annotations

import datetime as dt

import pytest

from certifications.models import AutoPauseLog, CertificationStatus
from certifications.services import expiry_job_run
from tests.certifications.services.lapse.helpers import NOW, UTC, current_cert, lapsed_cert, refreshed

pytestmark = pytest.mark.django_db


def test_revoked_record_lapses_with_the_revocation_date_in_the_reason():
    cert = current_cert(status=CertificationStatus.REVOKED, revoked_at=dt.datetime(2026, 3, 10, 15, tzinfo=UTC))
    run = expiry_job_run(now=NOW)
    assert (run.marked_expired, run.expired_found, run.auto_paused) == (0, 1, 1)
    assert refreshed(cert).status == CertificationStatus.REVOKED
    expected = "Certification peer_mentor_basic revoked on 2026-03-10"
    assert refreshed(cert.mentor).pause_reason == expected
    assert AutoPauseLog.objects.get().reason == expected


def test_reason_dates_are_utc_days():
    # 2026-03-01T23:30-05:00 is 2026-03-02 in UTC.
    lapsed_cert(expires_at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))))
    expiry_job_run(now=NOW)
    assert AutoPauseLog.objects.get().reason == "Certification peer_mentor_basic expired on 2026-03-02"
