"""``GET /api/v1/certifications/{id}/history`` and ``GET /api/v1/mentors/{id}/history``."""

from __future__ import annotations

import pytest

from certifications.services import expiry_job_run
from tests.certhub.test_schema import _check
from tests.certifications.services.lapse.helpers import NOW, lapsed_cert
from tests.conftest import _token_client, _user_with

pytestmark = pytest.mark.django_db

BASE = "/api/v1/certifications"
ITEM_KEYS = {"history_id", "at", "actor", "source", "change", "changes", "reason"}


@pytest.fixture
def auditor_client():
    return _token_client(
        _user_with("auditor", "view_certification", "view_mentor", "add_certification", "change_certification")
    )


@pytest.fixture
def schema(client) -> dict:
    return client.get("/api/schema/", {"format": "json"}).json()


def test_a_records_history_is_newest_first_with_the_api_write_the_job_and_the_resume(auditor_client, schema):
    cert = lapsed_cert()
    run = expiry_job_run(now=NOW)
    response = auditor_client.patch(
        f"{BASE}/{cert.certification_id}", {"expires_at": "2099-01-01T00:00:00Z"}, format="json"
    )
    assert response.status_code == 200
    response = auditor_client.get(f"{BASE}/{cert.certification_id}/history")
    assert response.status_code == 200
    _check(schema, "/api/v1/certifications/{certification_id}/history", "get", response)
    body = response.json()
    assert body["pagination"]["total"] == 4
    unflagged, renewed, flagged, expired = body["data"]
    assert set(renewed) == ITEM_KEYS
    assert (renewed["actor"], renewed["source"], renewed["change"]) == ("auditor", "api", "changed")
    assert renewed["changes"]["expires_at"] == ["2026-03-01T00:00:00Z", "2099-01-01T00:00:00Z"]
    assert renewed["changes"]["status"] == ["expired", "valid"]
    assert unflagged["changes"] == {"auto_pause_applied": [True, False]}
    assert (flagged["actor"], flagged["source"], flagged["reason"]) == ("system:job", "job", run.job_run_id)
    assert flagged["changes"] == {"auto_pause_applied": [False, True]}
    assert expired["changes"] == {"status": ["valid", "expired"]} and expired["at"] == "2026-03-26T01:00:00Z"


def test_a_mentors_history_shows_the_jobs_pause_and_the_auto_resume(auditor_client, schema):
    cert = lapsed_cert()
    run = expiry_job_run(now=NOW)
    auditor_client.patch(f"{BASE}/{cert.certification_id}", {"expires_at": "2099-01-01T00:00:00Z"}, format="json")
    response = auditor_client.get(f"/api/v1/mentors/{cert.mentor.mentor_id}/history", {"limit": 1, "page": 2})
    assert response.status_code == 200
    _check(schema, "/api/v1/mentors/{mentor_id}/history", "get", response)
    [paused] = response.json()["data"]
    assert response.json()["pagination"] == {"page": 2, "limit": 1, "total": 2}
    assert (paused["source"], paused["reason"], paused["actor"]) == ("job", run.job_run_id, "system:job")
    assert paused["changes"]["pause_reason"] == [None, "Certification peer_mentor_basic expired on 2026-03-01"]
    [resumed] = auditor_client.get(f"/api/v1/mentors/{cert.mentor.mentor_id}/history", {"limit": 1}).json()["data"]
    assert resumed["reason"] == "Certification peer_mentor_basic renewed until 2099-01-01"
    assert (resumed["actor"], resumed["source"]) == ("auditor", "api")


def test_history_needs_the_view_permission_whatever_public_reads_say(settings, anon_client, reader_client):
    settings.API_PUBLIC_READS = True
    cert = lapsed_cert()
    for client, status in ((anon_client, 401), (reader_client, 403)):
        response = client.get(f"{BASE}/{cert.certification_id}/history")
        assert response.status_code == status
        assert "error" in response.json()
        assert client.get(f"/api/v1/mentors/{cert.mentor.mentor_id}/history").status_code == status


def test_an_unknown_id_is_a_404_in_the_envelope(auditor_client):
    for url in (f"{BASE}/cert_UNKNOWN0/history", "/api/v1/mentors/mntr_UNKNOWN00/history"):
        response = auditor_client.get(url)
        assert response.status_code == 404 and "error" in response.json()


def test_a_bad_page_is_a_400(auditor_client):
    cert = lapsed_cert()
    response = auditor_client.get(f"{BASE}/{cert.certification_id}/history", {"limit": "0"})
    assert response.status_code == 400 and "error" in response.json()


def test_a_deleted_records_history_is_served_to_those_who_may_restore_it(auditor_client, schema):
    cert = lapsed_cert()
    restorer = _token_client(_user_with("restorer", "view_certification", "delete_certification"))
    assert restorer.delete(f"{BASE}/{cert.certification_id}").status_code == 200
    response = restorer.get(f"{BASE}/{cert.certification_id}/history")
    assert response.status_code == 200
    _check(schema, "/api/v1/certifications/{certification_id}/history", "get", response)
    deleted = response.json()["data"][0]
    assert (deleted["actor"], deleted["source"], deleted["change"]) == ("restorer", "api", "deleted")
    # Everything else about the record stays gone, for the restorer too.
    assert restorer.get(f"{BASE}/{cert.certification_id}").status_code == 404
    # A reader who cannot restore it sees no such record.
    response = auditor_client.get(f"{BASE}/{cert.certification_id}/history")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
