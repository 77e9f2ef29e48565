"""The service answers: health and an empty list in the contract's envelope."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}
    assert response.json()["broker"] in {"filesystem", "redis"}


def test_empty_list_uses_the_envelope(anon_client):
    response = anon_client.get("/api/v1/certifications")
    assert response.status_code == 200
    assert response.json() == {"data": [], "pagination": {"page": 1, "limit": 20, "total": 0}}
