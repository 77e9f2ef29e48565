"""Every route answers with and without a trailing slash and under the contract's literal alias paths."""

from __future__ import annotations

import pytest

from certifications.models import Certification, ExpiryJobRun
from tests.certifications.api_helpers import ALIAS, BASE, CERTIFICATION_KEYS, assert_error, unchanged
from tests.factories import CertificationFactory

pytestmark = pytest.mark.django_db

PREFIXES = [BASE, ALIAS]
SLASHES = ["", "/"]
VARIANTS = [(prefix, slash) for prefix in PREFIXES for slash in SLASHES]
VARIANT_IDS = ["canonical", "canonical-slash", "alias", "alias-slash"]


@pytest.mark.parametrize(("prefix", "slash"), VARIANTS, ids=VARIANT_IDS)
def test_list(anon_client, prefix, slash):
    CertificationFactory(certification_id="cert_0000000A")

    response = anon_client.get(prefix + slash, {"limit": 5})

    assert response.status_code == 200
    assert response.json()["pagination"] == {"page": 1, "limit": 5, "total": 1}
    assert response.json()["data"][0]["certification_id"] == "cert_0000000A"


@pytest.mark.parametrize(("prefix", "slash"), VARIANTS, ids=VARIANT_IDS)
def test_create_is_not_redirected(api_client, prefix, slash):
    body = {"mentor_id": "mntr_01HX4V2K8P", "certification_type": "peer_mentor_basic", "issued_at": "2026-01-01"}

    response = api_client.post(prefix + slash, body, format="json", follow=False)

    assert response.status_code == 201
    assert set(response.json()) == CERTIFICATION_KEYS
    assert Certification.objects.get().certification_id == response.json()["certification_id"]


@pytest.mark.parametrize(("prefix", "slash"), VARIANTS, ids=VARIANT_IDS)
def test_detail_get_put_patch_delete(api_client, prefix, slash):
    cert = CertificationFactory(certification_id="cert_0000000A")
    path = f"{prefix}/cert_0000000A{slash}"

    got = api_client.get(path)
    put = api_client.put(path, {"status": "revoked"}, format="json", follow=False)
    patched = api_client.patch(path, {"revocation_reason": "Audit"}, format="json", follow=False)
    deleted = api_client.delete(path, follow=False)

    assert (got.status_code, put.status_code, patched.status_code, deleted.status_code) == (200, 200, 200, 200)
    assert got.json()["certification_id"] == "cert_0000000A"
    assert put.json()["status"] == "revoked"
    assert patched.json()["revocation_reason"] == "Audit"
    assert deleted.json()["deleted"] is True
    cert.refresh_from_db()
    assert cert.deleted_at is not None


@pytest.mark.parametrize(("prefix", "slash"), VARIANTS, ids=VARIANT_IDS)
def test_unknown_id_is_404_under_every_variant(anon_client, prefix, slash):
    assert_error(anon_client.get(f"{prefix}/cert_ZZZZZZZZ{slash}"), 404, "not_found")


@pytest.mark.parametrize(("prefix", "slash"), VARIANTS, ids=VARIANT_IDS)
def test_expiry_job_read_routes(anon_client, prefix, slash):
    for route in ("expiry-job/logs", "expiry-job/runs"):
        response = anon_client.get(f"{prefix}/{route}{slash}")
        assert response.status_code == 200, route
        assert set(response.json()) == {"data", "pagination"}
    assert_error(anon_client.get(f"{prefix}/expiry-job/runs/job_01JAN2026_01{slash}"), 404, "not_found")


@pytest.mark.parametrize(("prefix", "slash"), VARIANTS, ids=VARIANT_IDS)
def test_expiry_job_run_route_is_not_redirected(api_client, prefix, slash):
    response = api_client.post(f"{prefix}/expiry-job/run{slash}", {"dry_run": True}, format="json", follow=False)

    assert response.status_code == 200
    assert response.json()["dry_run"] is True
    run = ExpiryJobRun.objects.get()
    assert api_client.get(f"{prefix}/expiry-job/runs/{run.job_run_id}{slash}").json()["job_run_id"] == run.job_run_id


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/certifications//",
        "/api/v1/certifications/cert_0000000A/extra",
        "/api/v1/certifications/api/v1",
        "/api/v1/certifications/api/v1/certifications/api/v1/certifications",
        "/api/v1/certification",
        "/api/v2/certifications",
        "/api/",
    ],
)
def test_paths_beside_the_routes_are_404_envelopes(anon_client, path):
    CertificationFactory(certification_id="cert_0000000A")
    with unchanged():
        response = anon_client.get(path)
    assert_error(response, 404, "not_found")


def test_head_and_options_answer_without_a_body_or_an_error(anon_client):
    CertificationFactory(certification_id="cert_0000000A")

    head = anon_client.head(f"{BASE}/cert_0000000A")
    options = anon_client.options(BASE)

    assert (head.status_code, head.content) == (200, b"")
    assert options.status_code == 200
    assert options.json()["parses"] == ["application/json"]
