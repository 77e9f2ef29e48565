"""Reads shared by the admin, the dashboard and the API."""

from __future__ import annotations

import datetime as dt

import pytest

from certifications.models import ExpiryJobRun, JobState, JobTrigger
from certifications.selectors import auto_pause_log_list, certification_list, expiry_run_last
from certifications.services import expiry_job_run
from tests.factories import CertificationFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 26, 1, 0, tzinfo=dt.UTC)


def test_certification_list_is_live_records_with_their_relations_in_one_query(django_assert_num_queries):
    live = CertificationFactory()
    gone = CertificationFactory(deleted_at=NOW)

    with django_assert_num_queries(1):
        rows = list(certification_list())
        assert [(row.pk, row.mentor.mentor_id, row.certification_type.code) for row in rows] == [
            (live.pk, live.mentor.mentor_id, "peer_mentor_basic")
        ]
    assert {row.pk for row in certification_list(include_deleted=True)} == {live.pk, gone.pk}


def test_auto_pause_log_list_joins_mentor_certification_and_run(django_assert_num_queries):
    CertificationFactory(expires_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    expiry_job_run(now=NOW)

    with django_assert_num_queries(1):
        [row] = auto_pause_log_list()
        assert (row.mentor.pk, row.certification.pk, row.job_run.dry_run) == (
            row.mentor_id,
            row.certification_id,
            False,
        )


def test_expiry_run_last_skips_dry_runs_and_queued_ones_on_request():
    finished = expiry_job_run(now=NOW, trigger=JobTrigger.CLI)
    expiry_job_run(now=NOW + dt.timedelta(minutes=1), dry_run=True)
    queued = ExpiryJobRun.objects.create(
        job_run_id="job_26MAR2026_99", trigger=JobTrigger.API, created_at=NOW + dt.timedelta(minutes=2)
    )
    assert queued.state == JobState.QUEUED

    assert expiry_run_last() == queued
    assert expiry_run_last(include_queued=False) == finished
