"""``Idempotency-Key`` on POST /api/v1/certifications and on the expiry job run."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection
from rest_framework.test import APIClient

from certhub.models import IdempotencyKey
from certifications.models import AutoPauseLog, Certification, ExpiryJobRun
from tests.conftest import _token_client, _user_with
from tests.factories import CertificationFactory

pytestmark = pytest.mark.django_db

CERTS = "/api/v1/certifications"
RUN = "/api/v1/certifications/expiry-job/run"
BODY = {
    "mentor_id": "mntr_01HX4V2K8P",
    "certification_type": "peer_mentor_advanced",
    "issued_at": "2026-03-26T00:00:00Z",
    "expires_at": "2028-03-26T00:00:00Z",
}


def post(client: APIClient, path: str, body: dict, key: str | None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(path, body, format="json", **headers)


def test_retry_with_same_key_and_body_returns_the_original_response_and_creates_nothing(api_client):
    first = post(api_client, CERTS, BODY, "create-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers

    again = post(api_client, CERTS, BODY, "create-1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Certification.objects.count() == 1


def test_without_a_key_a_repeat_is_a_new_request(api_client):
    assert post(api_client, CERTS, BODY, None).status_code == 201
    repeat = post(api_client, CERTS, BODY, None)
    assert repeat.status_code == 409  # the duplicate rule, not a replay
    assert repeat.json()["error"]["code"] == "conflict"


def test_same_key_with_another_body_is_refused_and_changes_nothing(api_client):
    assert post(api_client, CERTS, BODY, "create-2").status_code == 201
    other = post(api_client, CERTS, {**BODY, "mentor_id": "mntr_02BY7M3RLQ"}, "create-2")
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert set(other.json()) == {"error"}
    assert Certification.objects.count() == 1


def test_same_key_on_the_other_endpoint_is_refused(api_client):
    assert post(api_client, CERTS, BODY, "shared").status_code == 201
    runs_before = ExpiryJobRun.objects.count()
    response = post(api_client, RUN, {"dry_run": True}, "shared")
    assert response.status_code == 422
    assert ExpiryJobRun.objects.count() == runs_before


def test_keys_are_scoped_per_user(api_client):
    other_writer = _user_with("writer2", "add_certification")
    other_client = _token_client(other_writer)
    assert post(api_client, CERTS, BODY, "same-key").status_code == 201
    # The same key from another user is a request of its own (here: a duplicate record).
    response = post(other_client, CERTS, BODY, "same-key")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert IdempotencyKey.objects.filter(key="same-key").count() == 1


def test_an_error_answer_releases_the_key(api_client):
    bad = post(api_client, CERTS, {**BODY, "certification_type": "no_such_type"}, "fix-and-retry")
    assert bad.status_code == 400
    assert not IdempotencyKey.objects.filter(key="fix-and-retry").exists()
    fixed = post(api_client, CERTS, BODY, "fix-and-retry")
    assert fixed.status_code == 201


def test_anonymous_writes_are_refused_and_store_no_key(anon_client):
    response = post(anon_client, CERTS, BODY, "anon")
    assert response.status_code == 401
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there"])
def test_a_malformed_key_is_a_400(api_client, key):
    response = api_client.post(CERTS, BODY, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "Idempotency-Key" in response.json()["error"]["fields"]
    assert Certification.objects.count() == 0


def test_keys_expire_after_the_ttl(api_client, settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 24
    start = dt.datetime(2026, 3, 26, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        assert post(api_client, CERTS, BODY, "ttl").status_code == 201
    with time_machine.travel(start + dt.timedelta(hours=23, minutes=59), tick=False):
        assert post(api_client, CERTS, BODY, "ttl").headers.get("Idempotent-Replayed") == "true"
    with time_machine.travel(start + dt.timedelta(hours=24, minutes=1), tick=False):
        # Expired: the key is free again, so the same body is a new request (the duplicate rule answers).
        response = post(api_client, CERTS, BODY, "ttl")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "conflict"
    assert Certification.objects.count() == 1


def test_a_retry_while_the_first_request_runs_is_a_409_and_runs_nothing(api_client, writer):
    now = dt.datetime.now(dt.UTC)
    from certhub.idempotency import request_fingerprint

    IdempotencyKey.objects.create(
        user=writer,
        key="busy",
        fingerprint=request_fingerprint(scope="certification-create", method="POST", data=BODY),
        created_at=now,
        expires_at=now + dt.timedelta(hours=24),
    )
    response = post(api_client, CERTS, BODY, "busy")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_in_progress"
    assert Certification.objects.count() == 0


def test_an_abandoned_in_progress_key_is_taken_over(api_client, writer, settings):
    settings.IDEMPOTENCY_IN_PROGRESS_TIMEOUT_SECONDS = 60
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    from certhub.idempotency import request_fingerprint

    IdempotencyKey.objects.create(
        user=writer,
        key="dead",
        fingerprint=request_fingerprint(scope="certification-create", method="POST", data=BODY),
        created_at=long_ago,
        expires_at=long_ago + dt.timedelta(hours=24),
    )
    assert post(api_client, CERTS, BODY, "dead").status_code == 201
    assert post(api_client, CERTS, BODY, "dead").headers["Idempotent-Replayed"] == "true"
    assert Certification.objects.count() == 1


def test_job_run_retry_returns_the_same_run_and_pauses_nobody_twice(api_client):
    CertificationFactory(
        expires_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), issued_at=dt.datetime(2022, 1, 1, tzinfo=dt.UTC)
    )
    first = post(api_client, RUN, {}, "nightly-retry")
    assert first.status_code == 200
    assert first.json()["expired_found"] == 1
    again = post(api_client, RUN, {}, "nightly-retry")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert ExpiryJobRun.objects.count() == 1
    assert AutoPauseLog.objects.count() == 1
    assert post(api_client, RUN, {"dry_run": True}, "nightly-retry").status_code == 422


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_duplicates_with_the_same_key_execute_once(writer):
    """Eight threads send the same keyed create at once: one 201 executes, the rest replay or wait."""
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=writer)
    barrier = threading.Barrier(8)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def worker():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        barrier.wait()
        response = post(client, CERTS, BODY, "race")
        with lock:
            results.append(
                (response.status_code, response.json().get("certification_id") or response.json()["error"]["code"])
            )
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Certification.objects.count() == 1
    created = Certification.objects.get().certification_id
    for status, detail in results:
        assert (status, detail) in {(201, created), (409, "idempotency_key_in_progress")}
    assert (201, created) in results
