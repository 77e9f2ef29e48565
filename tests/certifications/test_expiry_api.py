"""The expiry job endpoints: run (sync, dry, async), logs, runs; access, validation, aliases.

The clock is frozen at 2026-03-26T01:00:00Z, when the daily run happens.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from certifications.models import (
    AutoPauseLog,
    Certification,
    CertificationStatus,
    ExpiryJobRun,
    JobLock,
    JobState,
    JobTrigger,
    LogEvent,
    Mentor,
    MentorStatus,
)
from certifications.services import certification_renew, expiry_job_run
from certifications.services.lapse import LOCK_NAME
from tests.certifications.api_helpers import RUN_RESULT_KEYS, UTC_SECOND_RE, assert_error, unchanged
from tests.certifications.broker_helpers import celery_broker, queued_messages
from tests.factories import TEST_ACTOR, CertificationFactory, MentorFactory, cert_type

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 1, 0, tzinfo=UTC)
BASE = "/api/v1/certifications/expiry-job"
ALIAS = "/api/v1/certifications/api/v1/certifications/expiry-job"
RESULT_KEYS = set(RUN_RESULT_KEYS)
RUN_KEYS = RESULT_KEYS | {"state", "trigger", "created_at", "error"}
LOG_KEYS = {"log_id", "mentor_id", "reason", "job_run_id", "applied_at", "certification_id", "event"}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def memory_broker():
    """kombu's in-memory transport, so the queued message can be read back."""
    with celery_broker("memory://"):
        yield


@pytest.fixture
def runner_client() -> APIClient:
    """A client holding only ``certifications.run_expiry_job``."""
    user = User.objects.create_user("runner", password="pw-runner")
    user.user_permissions.add(Permission.objects.get(codename="run_expiry_job"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def lapsed() -> Certification:
    return CertificationFactory(
        mentor=MentorFactory(mentor_id="mntr_02BY7M3RL"),
        certification_type=cert_type("peer_mentor_basic"),
        issued_at=dt.datetime(2023, 3, 1, tzinfo=UTC),
        expires_at=dt.datetime(2026, 3, 1, tzinfo=UTC),
    )


def hold_lock(holder: str = "job_26MAR2026_01") -> None:
    """Another process's run in progress: its run record and a live lease."""
    ExpiryJobRun.objects.create(job_run_id=holder, trigger=JobTrigger.SCHEDULE, state=JobState.RUNNING, started_at=NOW)
    JobLock.objects.create(name=LOCK_NAME, holder=holder, acquired_at=NOW, lease_until=NOW + dt.timedelta(seconds=300))


# --- POST run ----------------------------------------------------------------------


def test_empty_body_is_a_real_run_with_the_contract_fields(runner_client, lapsed):
    response = runner_client.post(f"{BASE}/run")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == RESULT_KEYS
    assert body == {
        "job_run_id": "job_26MAR2026_01",
        "started_at": "2026-03-26T01:00:00Z",
        "completed_at": body["completed_at"],
        "mentors_scanned": 1,
        "expired_found": 1,
        "auto_paused": 1,
        "failures": [],
        "dry_run": False,
        "marked_expired": 1,
    }
    assert UTC_SECOND_RE.match(body["completed_at"])
    mentor = Mentor.objects.get(mentor_id="mntr_02BY7M3RL")
    assert mentor.status == MentorStatus.PAUSED
    run = ExpiryJobRun.objects.get()
    assert (run.trigger, run.state, run.requested_by.username) == (JobTrigger.API, JobState.SUCCEEDED, "runner")


def test_explicit_false_is_a_real_run(api_client, lapsed):
    response = api_client.post(f"{BASE}/run", {"dry_run": False}, format="json")
    assert response.status_code == 200
    assert response.json()["auto_paused"] == 1


def test_dry_run_changes_nothing_but_records_the_run(api_client, lapsed):
    before = (list(Certification.objects.values()), list(Mentor.objects.values()))
    response = api_client.post(f"{BASE}/run", {"dry_run": True}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["dry_run"], body["expired_found"], body["auto_paused"], body["marked_expired"]) == (True, 1, 1, 1)
    assert (list(Certification.objects.values()), list(Mentor.objects.values())) == before
    assert not AutoPauseLog.objects.exists()
    assert ExpiryJobRun.objects.get().dry_run is True


def test_without_credentials_is_401(anon_client, lapsed):
    with unchanged():
        assert_error(anon_client.post(f"{BASE}/run"), 401, "not_authenticated")


def test_without_the_run_permission_is_403(reader_client, lapsed):
    with unchanged():
        assert_error(reader_client.post(f"{BASE}/run", {"dry_run": True}, format="json"), 403, "permission_denied")


def test_certification_write_permissions_do_not_allow_running(lapsed):
    user = User.objects.create_user("editor")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_certification", "change_certification"]))
    client = APIClient()
    client.force_authenticate(user)
    with unchanged():
        assert_error(client.post(f"{BASE}/run"), 403, "permission_denied")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"dryrun": True}, {"dryrun"}),
        ({"dry_run": True, "batch_size": 5}, {"batch_size"}),
        ({"job_run_id": "job_26MAR2026_09"}, {"job_run_id"}),
    ],
)
def test_unknown_body_fields_are_400_naming_them(api_client, lapsed, body, fields):
    with unchanged():
        error = assert_error(
            api_client.post(f"{BASE}/run", body, format="json"), 400, "validation_error", fields=fields
        )
    assert not ExpiryJobRun.objects.exists()
    assert error["fields"]


@pytest.mark.parametrize("value", ["true", "false", 1, 0, None, "yes", [], {}])
@pytest.mark.parametrize("name", ["dry_run", "async"])
def test_non_boolean_flags_are_400(api_client, lapsed, name, value):
    with unchanged():
        assert_error(
            api_client.post(f"{BASE}/run", {name: value}, format="json"), 400, "validation_error", fields={name}
        )


@pytest.mark.parametrize("raw", ["[]", '"run"', "true", "{not json"])
def test_a_body_that_is_not_an_object_is_400(api_client, lapsed, raw):
    with unchanged():
        response = api_client.post(f"{BASE}/run", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"validation_error", "parse_error"}


def test_a_second_run_while_one_runs_is_409_naming_it(api_client, lapsed):
    hold_lock("job_26MAR2026_01")
    with unchanged():
        error = assert_error(api_client.post(f"{BASE}/run"), 409, "job_already_running")
        assert error["job_run_id"] == "job_26MAR2026_01"
        assert "job_26MAR2026_01" in error["message"]
        # The async path is refused the same way, before anything is queued.
        error = assert_error(api_client.post(f"{BASE}/run", {"async": True}, format="json"), 409, "job_already_running")
        assert error["job_run_id"] == "job_26MAR2026_01"


def test_a_dry_run_is_allowed_while_a_run_is_in_progress(api_client, lapsed):
    hold_lock()
    response = api_client.post(f"{BASE}/run", {"dry_run": True}, format="json")
    assert response.status_code == 200
    assert response.json()["job_run_id"] == "job_26MAR2026_02"


# The API enqueues outside any transaction: its own commit sends the message before it answers.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_async_answers_202_with_the_queued_run_and_sends_the_task(api_client, lapsed, memory_broker):
    response = api_client.post(f"{BASE}/run", {"async": True}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == RUN_KEYS
    assert (body["job_run_id"], body["state"], body["trigger"], body["dry_run"]) == (
        "job_26MAR2026_01",
        "queued",
        "api",
        False,
    )
    assert body["started_at"] is None and body["completed_at"] is None
    # Nothing ran yet: the worker does the work.
    assert Mentor.objects.get().status == MentorStatus.ACTIVE
    [(headers, message)] = queued_messages()
    assert headers["task"] == "certifications.tasks.run_expiry_job"
    args, kwargs, _ = message
    assert (args, kwargs) == ([], {"job_run_id": "job_26MAR2026_01"})
    detail = api_client.get(f"{BASE}/runs/job_26MAR2026_01").json()
    assert detail["state"] == "queued"


# The API enqueues outside any transaction: its own commit sends the message before it answers.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_async_dry_run_is_queued_as_a_dry_run(api_client, lapsed, memory_broker):
    response = api_client.post(f"{BASE}/run", {"async": True, "dry_run": True}, format="json")
    assert response.status_code == 202
    assert response.json()["dry_run"] is True
    assert ExpiryJobRun.objects.get().dry_run is True
    assert len(queued_messages()) == 1


# The API enqueues outside any transaction: its own commit sends the message before it answers.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_async_with_the_broker_down_is_503_and_the_run_is_recorded_failed(api_client, lapsed):
    with celery_broker("redis://127.0.0.1:1/0"):
        assert_error(api_client.post(f"{BASE}/run", {"async": True}, format="json"), 503, "service_unavailable")
    run = ExpiryJobRun.objects.get()
    assert run.state == JobState.FAILED and "Broker unavailable" in run.error
    assert Mentor.objects.get().status == MentorStatus.ACTIVE


def test_get_on_the_run_endpoint_is_405(api_client):
    assert_error(api_client.get(f"{BASE}/run"), 405, "method_not_allowed")


# --- GET logs --------------------------------------------------------------------------


@pytest.fixture
def history(lapsed, clock) -> dict:
    """Two runs a day apart and a renewal: three log rows in a known order."""
    other = CertificationFactory(
        mentor=MentorFactory(mentor_id="mntr_04HZ8N6TQ0"),
        certification_type=cert_type("peer_mentor_advanced"),
        issued_at=dt.datetime(2024, 3, 1, tzinfo=UTC),
        expires_at=dt.datetime(2026, 3, 26, 12, tzinfo=UTC),
    )
    first = expiry_job_run(now=NOW)
    second = expiry_job_run(now=NOW + dt.timedelta(days=1))
    certification_renew(
        by=TEST_ACTOR,
        certification=lapsed,
        now=NOW + dt.timedelta(days=2),
        expires_at=dt.datetime(2029, 3, 1, tzinfo=UTC),
    )
    return {"lapsed": lapsed, "other": other, "first": first, "second": second}


def test_logs_are_an_envelope_newest_first(anon_client, history):
    response = anon_client.get(f"{BASE}/logs")
    assert response.status_code == 200
    body = response.json()
    assert body["pagination"] == {"page": 1, "limit": 20, "total": 3}
    rows = body["data"]
    assert all(set(row) == LOG_KEYS for row in rows)
    assert [(row["event"], row["mentor_id"], row["job_run_id"], row["applied_at"]) for row in rows] == [
        ("auto_resume", "mntr_02BY7M3RL", None, "2026-03-28T01:00:00Z"),
        ("auto_pause", "mntr_04HZ8N6TQ0", "job_27MAR2026_01", "2026-03-27T01:00:00Z"),
        ("auto_pause", "mntr_02BY7M3RL", "job_26MAR2026_01", "2026-03-26T01:00:00Z"),
    ]
    assert rows[0]["reason"] == "Certification peer_mentor_basic renewed until 2029-03-01"
    assert rows[1]["reason"] == "Certification peer_mentor_advanced expired on 2026-03-26"
    assert rows[2]["reason"] == "Certification peer_mentor_basic expired on 2026-03-01"
    assert rows[2]["certification_id"] == history["lapsed"].certification_id
    assert all(row["log_id"].startswith("log_") for row in rows)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("mentor_id=mntr_02BY7M3RL", ["auto_resume", "auto_pause@job_26MAR2026_01"]),
        ("job_run_id=job_27MAR2026_01", ["auto_pause@job_27MAR2026_01"]),
        ("event=auto_resume", ["auto_resume"]),
        ("event=auto_pause", ["auto_pause@job_27MAR2026_01", "auto_pause@job_26MAR2026_01"]),
        ("applied_after=2026-03-27T01:00:00Z", ["auto_resume", "auto_pause@job_27MAR2026_01"]),
        ("applied_before=2026-03-27T01:00:00Z", ["auto_pause@job_26MAR2026_01"]),
        ("applied_after=2026-03-27&applied_before=2026-03-28", ["auto_pause@job_27MAR2026_01"]),
        ("mentor_id=mntr_0000000000", []),
        ("job_run_id=job_01JAN2020_01", []),
    ],
)
def test_log_filters(anon_client, history, query, expected):
    response = anon_client.get(f"{BASE}/logs?{query}")
    assert response.status_code == 200, response.content
    got = [row["event"] + (f"@{row['job_run_id']}" if row["job_run_id"] else "") for row in response.json()["data"]]
    assert got == expected


def test_log_filter_by_certification_id(anon_client, history):
    cert_id = history["other"].certification_id
    rows = anon_client.get(f"{BASE}/logs", {"certification_id": cert_id}).json()["data"]
    assert [row["certification_id"] for row in rows] == [cert_id]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("event=paused", "event"),
        ("mentor_id=not-a-mentor", "mentor_id"),
        ("applied_after=yesterday", "applied_after"),
        ("applied_before=2026-03-27T01:00:00", "applied_before"),  # a naive time has no zone
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("page=0", "page"),
    ],
)
def test_invalid_log_filters_are_400(anon_client, history, query, field):
    error = assert_error(anon_client.get(f"{BASE}/logs?{query}"), 400, "validation_error")
    assert field in error.get("fields", {}) or field in error["message"]


def test_logs_paginate(anon_client, history):
    body = anon_client.get(f"{BASE}/logs?limit=2&page=2").json()
    assert body["pagination"] == {"page": 2, "limit": 2, "total": 3}
    assert [row["job_run_id"] for row in body["data"]] == ["job_26MAR2026_01"]


# --- GET runs ---------------------------------------------------------------------------


def test_runs_are_listed_newest_first_with_their_state(anon_client, history, api_client):
    api_client.post(f"{BASE}/run", {"dry_run": True}, format="json")  # at the frozen NOW
    body = anon_client.get(f"{BASE}/runs").json()
    assert body["pagination"]["total"] == 3
    assert all(set(row) == RUN_KEYS for row in body["data"])
    assert [(row["job_run_id"], row["state"], row["dry_run"]) for row in body["data"]] == [
        ("job_27MAR2026_01", "succeeded", False),
        ("job_26MAR2026_02", "succeeded", True),
        ("job_26MAR2026_01", "succeeded", False),
    ]


def test_one_run_with_its_counters(anon_client, history):
    body = anon_client.get(f"{BASE}/runs/job_26MAR2026_01").json()
    assert set(body) == RUN_KEYS
    assert (body["state"], body["trigger"], body["expired_found"], body["auto_paused"], body["marked_expired"]) == (
        "succeeded",
        "api",
        1,
        1,
        1,
    )
    assert body["mentors_scanned"] == 2 and body["failures"] == [] and body["error"] == ""


def test_unknown_run_is_404(anon_client):
    assert_error(anon_client.get(f"{BASE}/runs/job_01JAN2020_01"), 404, "not_found")


def test_reads_can_be_closed_by_the_setting(anon_client, history, settings):
    settings.API_PUBLIC_READS = False
    assert_error(anon_client.get(f"{BASE}/logs"), 401, "not_authenticated")
    assert_error(anon_client.get(f"{BASE}/runs"), 401, "not_authenticated")


# --- Alias paths and trailing slashes ---------------------------------------------------


@pytest.mark.parametrize("prefix", [BASE, ALIAS])
@pytest.mark.parametrize("slash", ["", "/"])
def test_every_job_route_answers_under_aliases_and_with_a_trailing_slash(api_client, lapsed, prefix, slash):
    response = api_client.post(f"{prefix}/run{slash}", {"dry_run": True}, format="json")
    assert response.status_code == 200, response.content
    run_id = response.json()["job_run_id"]
    assert api_client.get(f"{prefix}/logs{slash}").status_code == 200
    assert api_client.get(f"{prefix}/runs{slash}").json()["data"][0]["job_run_id"] == run_id
    assert api_client.get(f"{prefix}/runs/{run_id}{slash}").json()["job_run_id"] == run_id


def test_the_marked_record_shows_in_the_certification_api(api_client, lapsed):
    api_client.post(f"{BASE}/run")
    body = api_client.get(f"/api/v1/certifications/{lapsed.certification_id}").json()
    assert (body["status"], body["auto_pause_applied"], body["auto_pause_applied_at"]) == (
        CertificationStatus.EXPIRED,
        True,
        "2026-03-26T01:00:00Z",
    )
    assert AutoPauseLog.objects.get().event == LogEvent.AUTO_PAUSE


# --- A synchronous run past the wait -----------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_run_past_the_wait_answers_202_running_and_finishes_after_the_answer(api_client, settings):
    """Never gunicorn's HTML timeout: past EXPIRY_JOB_SYNC_WAIT_SECONDS the answer is a 202 and the run goes on."""
    settings.EXPIRY_JOB_SYNC_WAIT_SECONDS = 0
    settings.EXPIRY_JOB_BATCH_SIZE = 1
    for _ in range(4):
        CertificationFactory(
            certification_type=cert_type("peer_mentor_basic"),
            issued_at=dt.datetime(2023, 3, 1, tzinfo=UTC),
            expires_at=dt.datetime(2026, 3, 1, tzinfo=UTC),
        )
    response = api_client.post(f"{BASE}/run", {}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == RUN_KEYS
    assert (body["state"], body["expired_found"], body["auto_paused"]) == ("running", 4, 1)  # one batch in the wait

    for thread in threading.enumerate():
        if thread.name == f"expiry-{body['job_run_id']}":
            thread.join(timeout=60)
    run = ExpiryJobRun.objects.get(job_run_id=body["job_run_id"])
    assert (run.state, run.expired_found, run.auto_paused, run.failures) == (JobState.SUCCEEDED, 4, 4, [])
    assert AutoPauseLog.objects.filter(job_run=run).count() == 4
    assert not JobLock.objects.exclude(holder="").exists()
    assert api_client.get(f"{BASE}/runs/{run.job_run_id}").json()["state"] == "succeeded"
