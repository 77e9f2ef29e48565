"""``manage.py run_expiry_job [--dry-run] [--json]``: the API's summary, from the command line."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from certifications.models import AutoPauseLog, ExpiryJobRun, JobLock, JobState, JobTrigger, Mentor, MentorStatus
from certifications.services.lapse import LOCK_NAME
from tests.certifications.api_helpers import RUN_RESULT_KEYS
from tests.factories import CertificationFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 1, 0, tzinfo=UTC)
API_KEYS = list(RUN_RESULT_KEYS)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def lapsed():
    return CertificationFactory(
        issued_at=dt.datetime(2023, 3, 1, tzinfo=UTC), expires_at=dt.datetime(2026, 3, 1, tzinfo=UTC)
    )


def run_command(*args: str) -> str:
    out = StringIO()
    call_command("run_expiry_job", *args, stdout=out)
    return out.getvalue()


def test_json_prints_the_api_body(lapsed):
    body = json.loads(run_command("--json"))
    assert list(body) == API_KEYS
    assert body == {
        "job_run_id": "job_26MAR2026_01",
        "started_at": "2026-03-26T01:00:00Z",
        "completed_at": "2026-03-26T01:00:00Z",
        "mentors_scanned": 1,
        "expired_found": 1,
        "auto_paused": 1,
        "failures": [],
        "dry_run": False,
        "marked_expired": 1,
    }
    assert ExpiryJobRun.objects.get().trigger == JobTrigger.CLI
    assert Mentor.objects.get().status == MentorStatus.PAUSED


def test_dry_run_prints_the_counters_and_changes_nothing(lapsed):
    out = run_command("--dry-run")
    lines = dict(line.split(None, 1) for line in out.strip().splitlines())
    assert lines["job_run_id"] == "job_26MAR2026_01"
    assert (lines["dry_run"], lines["expired_found"], lines["auto_paused"], lines["failures"]) == ("yes", "1", "1", "0")
    assert Mentor.objects.get().status == MentorStatus.ACTIVE
    assert not AutoPauseLog.objects.exists()


def test_a_run_in_progress_is_refused_with_exit_code_3(lapsed):
    ExpiryJobRun.objects.create(job_run_id="job_26MAR2026_01", trigger=JobTrigger.SCHEDULE, state=JobState.RUNNING)
    JobLock.objects.create(name=LOCK_NAME, holder="job_26MAR2026_01", lease_until=NOW + dt.timedelta(minutes=5))
    with pytest.raises(CommandError) as refused:
        run_command()
    assert refused.value.returncode == 3
    assert "job_26MAR2026_01" in str(refused.value)
    assert Mentor.objects.get().status == MentorStatus.ACTIVE
