"""``/api/v1/renewal-requests``: the table of DESIGN, its refusals, and that a refused request stores nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from certifications.models import Certification, RenewalRequest
from events.models import Event
from tests.certifications.api_helpers import assert_error, client_with
from tests.certifications.renewals.conftest import EXE, PDF, PNG, stored_files
from tests.factories import CertificationFactory, MentorFactory

BASE = "/api/v1/renewal-requests"
SUBMITTER = ("add_renewalrequest", "view_renewalrequest")
REVIEWER = ("view_renewalrequest", "review_renewalrequest")
KEYS = {
    "renewal_request_id",
    "mentor_id",
    "certification_type",
    "issued_at",
    "expires_at",
    "state",
    "submitted_via",
    "note",
    "evidence_content_type",
    "evidence_size",
    "decided_by",
    "decided_at",
    "decision_reason",
    "certification_id",
    "created_at",
}


@pytest.fixture
def held() -> Certification:
    """A basic record that expired a few days ago (the real clock: the API reads it)."""
    now = timezone.now()
    return CertificationFactory(
        issued_at=now - dt.timedelta(days=3 * 365), expires_at=now - dt.timedelta(days=3), status="expired"
    )


def form(cert: Certification, **overrides) -> dict:
    issued = (timezone.now() - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    values = {
        "mentor_id": cert.mentor.mentor_id,
        "certification_type": "peer_mentor_basic",
        "issued_at": issued,
        "note": "Renewed at the workshop",
        "evidence": SimpleUploadedFile("certificate.pdf", PDF, content_type="application/pdf"),
    }
    return {key: value for key, value in {**values, **overrides}.items() if value is not None}


def submit(client, cert, **overrides):
    return client.post(BASE, form(cert, **overrides), format="multipart")


def refused_and_nothing_stored(response, status, code, evidence_dir, fields=None) -> None:
    assert_error(response, status, code, fields=fields)
    assert not RenewalRequest.objects.exists()
    assert not Event.objects.filter(type__startswith="renewal_request.").exists()
    assert stored_files(evidence_dir) == []


@pytest.mark.django_db
def test_create_answers_201_with_the_request(held):
    response = submit(client_with(*SUBMITTER), held)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == KEYS
    assert (body["state"], body["submitted_via"], body["expires_at"]) == ("pending", "api", None)
    assert body["evidence_content_type"] == "application/pdf" and body["evidence_size"] == len(PDF)


@pytest.mark.django_db
def test_every_route_needs_credentials_and_the_model_permissions(held, anon_client):
    assert_error(anon_client.get(BASE), 401, "not_authenticated")
    assert_error(
        client_with("view_renewalrequest").post(BASE, form(held), format="multipart"), 403, "permission_denied"
    )
    assert_error(client_with("add_renewalrequest").get(BASE), 403, "permission_denied")
    assert not RenewalRequest.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"evidence": SimpleUploadedFile("certificate.pdf", EXE, content_type="application/pdf")}, "evidence"),
        ({"mentor_id": "mntr_0000000000"}, "mentor_id"),
        ({"certification_type": "peer_mentor_advanced"}, "certification_type"),
        ({"issued_at": "2999-01-01T00:00:00Z"}, "issued_at"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"issued_at": "2026-01-01T00:00:00"}, "issued_at"),  # no zone
        ({"evidence": None}, "evidence"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_each_invalid_submission_is_a_400_naming_its_field_and_stores_nothing(held, evidence_dir, overrides, field):
    response = submit(client_with(*SUBMITTER), held, **overrides)
    refused_and_nothing_stored(response, 400, "validation_error", evidence_dir, fields={field})


@pytest.mark.django_db
def test_a_renamed_executable_says_which_types_are_accepted(held):
    response = submit(
        client_with(*SUBMITTER), held, evidence=SimpleUploadedFile("c.pdf", EXE, content_type="application/pdf")
    )
    assert "PDF, PNG or JPEG" in response.json()["error"]["fields"]["evidence"][0]


@pytest.mark.django_db
def test_a_body_declared_too_large_is_a_413_before_it_is_read(held, evidence_dir, settings):
    settings.RENEWAL_EVIDENCE_MAX_BYTES = 1000
    client = client_with(*SUBMITTER)
    # The body is small, its Content-Length says it is not: the parser refuses before reading a byte
    # (reading past the real body would fail the test client's payload).
    response = client.post(BASE, form(held), format="multipart", CONTENT_LENGTH=str(10_000_000))
    refused_and_nothing_stored(response, 413, "too_large", evidence_dir)


@pytest.mark.django_db
def test_a_file_over_the_limit_is_a_413_and_stores_nothing(held, evidence_dir, settings):
    settings.RENEWAL_EVIDENCE_MAX_BYTES = 1000
    big = SimpleUploadedFile("c.pdf", b"%PDF-" + b"x" * 5000, content_type="application/pdf")
    refused_and_nothing_stored(submit(client_with(*SUBMITTER), held, evidence=big), 413, "too_large", evidence_dir)


@pytest.mark.django_db
def test_json_is_not_an_upload(held, evidence_dir):
    response = client_with(*SUBMITTER).post(BASE, {"mentor_id": held.mentor.mentor_id}, format="json")
    refused_and_nothing_stored(response, 415, "unsupported_media_type", evidence_dir)


@pytest.mark.django_db
def test_a_second_pending_request_is_a_409_pending_request_exists(held, evidence_dir):
    client = client_with(*SUBMITTER)
    first = submit(client, held).json()
    error = assert_error(submit(client, held), 409, "pending_request_exists")
    assert first["renewal_request_id"] in error["message"]
    assert RenewalRequest.objects.count() == 1 and len(stored_files(evidence_dir)) == 1


@pytest.mark.django_db
def test_idempotency_key_replays_the_first_answer(held, evidence_dir):
    client = client_with(*SUBMITTER)
    issued = form(held)["issued_at"]  # one issue time for every post: the same body, to the second
    first = client.post(BASE, form(held, issued_at=issued), format="multipart", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(BASE, form(held, issued_at=issued), format="multipart", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    other_file = SimpleUploadedFile("c.png", PNG, content_type="image/png")
    assert_error(
        client.post(
            BASE, form(held, issued_at=issued, evidence=other_file), format="multipart", HTTP_IDEMPOTENCY_KEY="k-1"
        ),
        422,
        "idempotency_key_reused",
    )
    assert RenewalRequest.objects.count() == 1 and len(stored_files(evidence_dir)) == 1


@pytest.mark.django_db
def test_the_list_is_oldest_first_with_filters(held):
    client = client_with(*SUBMITTER)
    older = submit(client, held).json()
    other = CertificationFactory(
        certification_type=held.certification_type, issued_at=held.issued_at, expires_at=held.expires_at
    )
    newer = submit(client, other).json()
    body = client.get(BASE).json()
    assert [row["renewal_request_id"] for row in body["data"]] == [
        older["renewal_request_id"],
        newer["renewal_request_id"],
    ]
    assert body["pagination"]["total"] == 2
    mine = client.get(BASE, {"mentor_id": held.mentor.mentor_id, "state": "pending"}).json()["data"]
    assert [row["renewal_request_id"] for row in mine] == [older["renewal_request_id"]]
    assert client.get(BASE, {"certification_type": "peer_mentor_advanced"}).json()["data"] == []
    assert_error(client.get(BASE, {"state": "lost"}), 400, "validation_error", fields={"state"})
    assert_error(client.get(BASE, {"certification_type": "nope"}), 400, "validation_error")


@pytest.mark.django_db
def test_get_and_the_evidence_as_an_attachment(held):
    client = client_with(*SUBMITTER)
    created = submit(client, held).json()
    one = client.get(f"{BASE}/{created['renewal_request_id']}")
    assert one.json() == created
    evidence = client.get(f"{BASE}/{created['renewal_request_id']}/evidence")
    assert evidence.status_code == 200
    assert b"".join(evidence.streaming_content) == PDF
    assert evidence["Content-Type"] == "application/pdf"
    assert evidence["Content-Disposition"] == f'attachment; filename="{created["renewal_request_id"]}.pdf"'
    assert evidence["X-Content-Type-Options"] == "nosniff"
    assert_error(client.get(f"{BASE}/rnw_0000000000"), 404, "not_found")


@pytest.mark.django_db
def test_approve_records_the_renewal_and_needs_the_review_permission(held):
    created = submit(client_with(*SUBMITTER), held).json()
    url = f"{BASE}/{created['renewal_request_id']}/approve"
    assert_error(client_with("view_renewalrequest", "change_renewalrequest").post(url), 403, "permission_denied")
    reviewer = client_with(*REVIEWER)
    response = reviewer.post(url, {"expires_at": "2030-01-01T00:00:00Z"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "approved" and body["decided_by"].startswith("user-")
    cert = Certification.objects.get(certification_id=body["certification_id"])
    assert cert.expires_at == dt.datetime(2030, 1, 1, tzinfo=dt.UTC) and cert.status == "valid"
    assert_error(reviewer.post(url), 409, "already_decided")
    reject = f"{BASE}/{created['renewal_request_id']}/reject"
    assert_error(reviewer.post(reject, {"reason": "x"}, format="json"), 409, "already_decided")


@pytest.mark.django_db
def test_an_approval_with_an_expiry_before_the_issue_date_changes_nothing(held):
    created = submit(client_with(*SUBMITTER), held).json()
    response = client_with(*REVIEWER).post(
        f"{BASE}/{created['renewal_request_id']}/approve", {"expires_at": "2020-01-01T00:00:00Z"}, format="json"
    )
    assert_error(response, 400, "validation_error", fields={"expires_at"})
    assert RenewalRequest.objects.get().state == "pending" and Certification.objects.count() == 1


@pytest.mark.django_db
def test_reject_needs_a_reason(held):
    created = submit(client_with(*SUBMITTER), held).json()
    url = f"{BASE}/{created['renewal_request_id']}/reject"
    reviewer = client_with(*REVIEWER)
    assert_error(reviewer.post(url, {}, format="json"), 400, "validation_error", fields={"reason"})
    assert_error(reviewer.post(url, {"reason": "  "}, format="json"), 400, "validation_error", fields={"reason"})
    body = reviewer.post(url, {"reason": "Unreadable scan"}, format="json").json()
    assert (body["state"], body["decision_reason"]) == ("rejected", "Unreadable scan")


@pytest.mark.django_db
def test_withdraw_needs_change_and_takes_no_body(held):
    created = submit(client_with(*SUBMITTER), held).json()
    url = f"{BASE}/{created['renewal_request_id']}/withdraw"
    assert_error(client_with(*REVIEWER).post(url), 403, "permission_denied")
    changer = client_with("view_renewalrequest", "change_renewalrequest")
    assert_error(changer.post(url, {"reason": "x"}, format="json"), 400, "validation_error", fields={"reason"})
    assert changer.post(url).json()["state"] == "withdrawn"
    assert_error(changer.post(url), 409, "already_decided")


@pytest.mark.django_db
def test_an_unknown_mentor_never_gets_a_row(evidence_dir):
    MentorFactory(mentor_id="mntr_0000000001")
    response = client_with(*SUBMITTER).post(
        BASE,
        {
            "mentor_id": "mntr_0000000001",
            "certification_type": "peer_mentor_basic",
            "issued_at": "2026-01-01",
            "evidence": SimpleUploadedFile("c.pdf", PDF),
        },
        format="multipart",
    )
    refused_and_nothing_stored(response, 400, "validation_error", evidence_dir, fields={"certification_type"})


@pytest.mark.django_db
def test_evidence_no_longer_kept_is_a_404(held):
    client = client_with(*SUBMITTER)
    created = submit(client, held).json()
    RenewalRequest.objects.get().evidence.delete(save=False)
    assert_error(client.get(f"{BASE}/{created['renewal_request_id']}/evidence"), 404, "not_found")
