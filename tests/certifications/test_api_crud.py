"""The five certification endpoints: contract shapes, timestamps and the write rules.

The clock is frozen at 2026-03-26T11:30:00Z (the contract's example time).
Every refused request is checked to leave the database unchanged.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certifications.models import Certification, CertificationStatus, CertificationType, Mentor
from tests.certifications.api_helpers import (
    BASE,
    CERT_ID_RE,
    CERTIFICATION_KEYS,
    NOW,
    UTC_SECOND_RE,
    assert_error,
    unchanged,
    utc,
)
from tests.factories import CertificationFactory, MentorFactory

pytestmark = pytest.mark.django_db

CONTRACT_POST = {
    "mentor_id": "mntr_01HX4V2K8P",
    "certification_type": "peer_mentor_advanced",
    "issued_at": "2026-03-26T00:00:00Z",
    "expires_at": "2028-03-26T00:00:00Z",
}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def expired_cert() -> Certification:
    """The contract's second example record: basic, issued 2023-03-01, expired 2026-03-01."""
    return CertificationFactory(
        certification_id="cert_03PQ7SY1",
        mentor=MentorFactory(mentor_id="mntr_02BY7M3RL"),
        issued_at=utc(2023, 3, 1),
        expires_at=utc(2026, 3, 1),
        status=CertificationStatus.EXPIRED,
        created_at=utc(2023, 3, 1, 9, 0, 0),
        updated_at=utc(2026, 3, 2, 1, 0, 3),
    )


def url(cert_or_id) -> str:
    cert_id = cert_or_id if isinstance(cert_or_id, str) else cert_or_id.certification_id
    return f"{BASE}/{cert_id}"


# --- Create -------------------------------------------------------------------------


def test_create_answers_201_with_the_contract_body(api_client):
    response = api_client.post(BASE, CONTRACT_POST, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == CERTIFICATION_KEYS
    assert CERT_ID_RE.match(body["certification_id"])
    assert body == {
        "certification_id": body["certification_id"],
        "mentor_id": "mntr_01HX4V2K8P",
        "certification_type": "peer_mentor_advanced",
        "issued_at": "2026-03-26T00:00:00Z",
        "expires_at": "2028-03-26T00:00:00Z",
        "status": "valid",
        "auto_pause_applied": False,
        "auto_pause_applied_at": None,
        "revoked_at": None,
        "revocation_reason": None,
        "created_at": "2026-03-26T11:30:00Z",
        "updated_at": "2026-03-26T11:30:00Z",
    }
    stored = Certification.objects.get(certification_id=body["certification_id"])
    assert stored.mentor.mentor_id == "mntr_01HX4V2K8P"
    assert stored.certification_type.code == "peer_mentor_advanced"
    assert (stored.issued_at, stored.expires_at) == (utc(2026, 3, 26), utc(2028, 3, 26))
    assert stored.status == "valid"
    assert stored.created_at == stored.updated_at == NOW
    assert stored.deleted_at is None


def test_create_makes_the_mentor_on_first_mention_only(api_client):
    assert not Mentor.objects.exists()

    first = api_client.post(BASE, CONTRACT_POST, format="json")
    second = api_client.post(BASE, {**CONTRACT_POST, "certification_type": "peer_mentor_basic"}, format="json")

    assert (first.status_code, second.status_code) == (201, 201)
    mentor = Mentor.objects.get()
    assert mentor.mentor_id == "mntr_01HX4V2K8P"
    assert mentor.status == "active"
    assert mentor.certifications.count() == 2


@pytest.mark.parametrize(
    ("type_code", "issued_at", "expected"),
    [
        ("peer_mentor_basic", "2024-06-15T00:00:00Z", "2027-06-15T00:00:00Z"),  # 36 months
        ("peer_mentor_advanced", "2026-03-26T00:00:00Z", "2028-03-26T00:00:00Z"),  # 24 months
        ("peer_mentor_basic", "2024-02-29T10:20:30Z", "2027-02-28T10:20:30Z"),  # leap day, clamped
        ("peer_mentor_advanced", "2025-12-31T00:00:00Z", "2027-12-31T00:00:00Z"),
        ("peer_mentor_advanced", "2024-02-29T00:00:00Z", "2026-02-28T00:00:00Z"),  # clamped, and past: expired
    ],
)
def test_expires_at_defaults_to_the_type_validity(api_client, type_code, issued_at, expected):
    body = {"mentor_id": "mntr_01HX4V2K8P", "certification_type": type_code, "issued_at": issued_at}

    response = api_client.post(BASE, body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["expires_at"] == expected
    assert response.json()["status"] == ("valid" if expected > "2026-03-26T11:30:00Z" else "expired")


def test_create_with_expiry_in_the_past_is_expired(api_client):
    body = {**CONTRACT_POST, "issued_at": "2023-03-01T00:00:00Z", "expires_at": "2026-03-26T11:30:00Z"}

    response = api_client.post(BASE, body, format="json")

    assert response.status_code == 201
    assert response.json()["status"] == "expired"  # expires_at == now counts as past
    assert Certification.objects.get().status == "expired"


def test_create_with_expiry_one_second_ahead_is_valid(api_client):
    body = {**CONTRACT_POST, "expires_at": "2026-03-26T11:30:01Z"}

    response = api_client.post(BASE, body, format="json")

    assert response.status_code == 201
    assert response.json()["status"] == "valid"


# --- Timestamps ---------------------------------------------------------------------


def test_offsets_are_converted_to_utc_and_fractions_dropped(api_client):
    body = {**CONTRACT_POST, "issued_at": "2026-03-26T02:15:30+02:00", "expires_at": "2028-03-25T23:59:59.987654-05:00"}

    response = api_client.post(BASE, body, format="json")

    assert response.status_code == 201
    assert response.json()["issued_at"] == "2026-03-26T00:15:30Z"
    assert response.json()["expires_at"] == "2028-03-26T04:59:59Z"
    stored = Certification.objects.get()
    assert stored.issued_at == utc(2026, 3, 26, 0, 15, 30)


def test_a_bare_date_means_midnight_utc(api_client):
    body = {**CONTRACT_POST, "issued_at": "2026-03-26", "expires_at": "2028-03-26"}

    response = api_client.post(BASE, body, format="json")

    assert response.status_code == 201
    assert (response.json()["issued_at"], response.json()["expires_at"]) == (
        "2026-03-26T00:00:00Z",
        "2028-03-26T00:00:00Z",
    )


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-26T00:00:00",  # naive
        "2026-03-26 00:00:00",  # naive
        "yesterday",
        "2026-13-01T00:00:00Z",
        "2026-02-30",
        "",
        20260326,
        None,
        ["2026-03-26T00:00:00Z"],
    ],
)
def test_issued_at_without_zone_or_unparseable_is_400(api_client, value):
    with unchanged():
        response = api_client.post(BASE, {**CONTRACT_POST, "issued_at": value}, format="json")
    assert_error(response, 400, "validation_error", fields={"issued_at"})


def test_naive_expiry_in_an_update_is_400(api_client, expired_cert):
    with unchanged():
        response = api_client.put(url(expired_cert), {"expires_at": "2028-06-15T00:00:00"}, format="json")
    error = assert_error(response, 400, "validation_error", fields={"expires_at"})
    assert "zone" in error["fields"]["expires_at"][0]


def test_every_timestamp_is_utc_to_the_second(api_client, anon_client):
    CertificationFactory(
        issued_at=dt.datetime(2024, 6, 15, 8, 0, 0, 999999, tzinfo=dt.timezone(dt.timedelta(hours=5))),
        auto_pause_applied=True,
        auto_pause_applied_at=utc(2026, 3, 2, 1, 0, 3),
        status="revoked",
        revoked_at=utc(2026, 3, 1, 12, 0, 0),
    )

    item = anon_client.get(BASE).json()["data"][0]

    for key in ("issued_at", "expires_at", "auto_pause_applied_at", "revoked_at", "created_at", "updated_at"):
        assert UTC_SECOND_RE.match(item[key]), (key, item[key])
    assert item["issued_at"] == "2024-06-15T03:00:00Z"


# --- Get one and list item ----------------------------------------------------------


def test_get_one_matches_the_contract_example(anon_client, expired_cert):
    Certification.objects.filter(pk=expired_cert.pk).update(
        auto_pause_applied=True, auto_pause_applied_at=utc(2026, 3, 2, 1, 0, 0)
    )

    response = anon_client.get(url(expired_cert))

    assert response.status_code == 200
    assert response.json() == {
        "certification_id": "cert_03PQ7SY1",
        "mentor_id": "mntr_02BY7M3RL",
        "certification_type": "peer_mentor_basic",
        "issued_at": "2023-03-01T00:00:00Z",
        "expires_at": "2026-03-01T00:00:00Z",
        "status": "expired",
        "auto_pause_applied": True,
        "auto_pause_applied_at": "2026-03-02T01:00:00Z",
        "revoked_at": None,
        "revocation_reason": None,
        "created_at": "2023-03-01T09:00:00Z",
        "updated_at": "2026-03-02T01:00:03Z",
    }


def test_list_items_have_exactly_the_fields_of_get_one(anon_client, expired_cert):
    listed = anon_client.get(BASE).json()

    assert set(listed) == {"data", "pagination"}
    assert listed["pagination"] == {"page": 1, "limit": 20, "total": 1}
    assert listed["data"] == [anon_client.get(url(expired_cert)).json()]
    assert set(listed["data"][0]) == CERTIFICATION_KEYS


def test_get_unknown_id_is_404(anon_client):
    assert_error(anon_client.get(url("cert_ZZZZZZZZ")), 404, "not_found")


# --- Update -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_renews_as_in_the_contract_example(api_client, expired_cert, clock, method):
    clock.move_to(dt.datetime(2026, 3, 26, 11, 35, tzinfo=dt.UTC))

    response = getattr(api_client, method)(
        url(expired_cert), {"expires_at": "2028-06-15T00:00:00Z", "status": "valid"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == CERTIFICATION_KEYS
    # the contract's response fields ...
    assert {key: body[key] for key in ("certification_id", "expires_at", "status", "updated_at")} == {
        "certification_id": "cert_03PQ7SY1",
        "expires_at": "2028-06-15T00:00:00Z",
        "status": "valid",
        "updated_at": "2026-03-26T11:35:00Z",
    }
    # ... and the rest unchanged
    assert body["issued_at"] == "2023-03-01T00:00:00Z"
    assert body["created_at"] == "2023-03-01T09:00:00Z"
    assert body["mentor_id"] == "mntr_02BY7M3RL"
    expired_cert.refresh_from_db()
    assert (expired_cert.expires_at, expired_cert.status) == (utc(2028, 6, 15), "valid")
    assert expired_cert.updated_at == utc(2026, 3, 26, 11, 35)


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_is_partial(api_client, method):
    cert = CertificationFactory()

    response = getattr(api_client, method)(url(cert), {"issued_at": "2024-07-01T00:00:00Z"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["issued_at"] == "2024-07-01T00:00:00Z"
    assert body["expires_at"] == "2027-06-15T00:00:00Z"  # not moved
    assert body["status"] == "valid"
    assert body["certification_type"] == "peer_mentor_basic"
    assert body["updated_at"] == "2026-03-26T11:30:00Z"


def test_update_can_change_the_type(api_client):
    cert = CertificationFactory()

    response = api_client.patch(url(cert), {"certification_type": "peer_mentor_advanced"}, format="json")

    assert response.status_code == 200
    assert response.json()["certification_type"] == "peer_mentor_advanced"
    cert.refresh_from_db()
    assert cert.certification_type.code == "peer_mentor_advanced"


@pytest.mark.parametrize(
    ("start_status", "start_expiry", "new_expiry", "derived"),
    [
        ("expired", utc(2026, 3, 1), "2028-06-15T00:00:00Z", "valid"),
        ("valid", utc(2027, 6, 15), "2026-03-01T00:00:00Z", "expired"),
        ("valid", utc(2027, 6, 15), "2026-03-26T11:30:00Z", "expired"),  # == now
        ("valid", utc(2027, 6, 15), "2029-01-01T00:00:00Z", "valid"),
    ],
)
def test_moving_expires_at_re_derives_the_status(api_client, start_status, start_expiry, new_expiry, derived):
    cert = CertificationFactory(status=start_status, expires_at=start_expiry, issued_at=utc(2023, 3, 1))

    response = api_client.put(url(cert), {"expires_at": new_expiry}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == derived
    cert.refresh_from_db()
    assert cert.status == derived


def test_moving_expires_at_keeps_a_revoked_record_revoked(api_client):
    cert = CertificationFactory(
        status="revoked", revoked_at=utc(2026, 1, 1), revocation_reason="Misconduct", expires_at=utc(2027, 6, 15)
    )

    response = api_client.put(url(cert), {"expires_at": "2026-03-01T00:00:00Z"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["revoked_at"], body["revocation_reason"]) == (
        "revoked",
        "2026-01-01T00:00:00Z",
        "Misconduct",
    )


def test_revoking_sets_revoked_at_and_reason(api_client):
    cert = CertificationFactory()

    response = api_client.put(url(cert), {"status": "revoked", "revocation_reason": "Code of conduct"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["revoked_at"], body["revocation_reason"]) == (
        "revoked",
        "2026-03-26T11:30:00Z",
        "Code of conduct",
    )
    cert.refresh_from_db()
    assert (cert.status, cert.revoked_at, cert.revocation_reason) == ("revoked", NOW, "Code of conduct")


def test_revoking_without_a_reason_leaves_it_null(api_client):
    cert = CertificationFactory()

    body = api_client.patch(url(cert), {"status": "revoked"}, format="json").json()

    assert (body["status"], body["revoked_at"], body["revocation_reason"]) == ("revoked", "2026-03-26T11:30:00Z", None)


def test_revoking_again_keeps_the_first_revoked_at_and_updates_the_reason(api_client, clock):
    cert = CertificationFactory(status="revoked", revoked_at=utc(2026, 1, 1), revocation_reason="First")
    clock.move_to(utc(2026, 3, 27))

    body = api_client.patch(url(cert), {"status": "revoked", "revocation_reason": "Second"}, format="json").json()

    assert (body["revoked_at"], body["revocation_reason"], body["updated_at"]) == (
        "2026-01-01T00:00:00Z",
        "Second",
        "2026-03-27T00:00:00Z",
    )


def test_reinstating_a_revoked_record_clears_the_revocation(api_client):
    cert = CertificationFactory(status="revoked", revoked_at=utc(2026, 1, 1), revocation_reason="Mistake")

    body = api_client.put(url(cert), {"status": "valid"}, format="json").json()

    assert (body["status"], body["revoked_at"], body["revocation_reason"]) == ("valid", None, None)
    cert.refresh_from_db()
    assert (cert.revoked_at, cert.revocation_reason) == (None, "")


@pytest.mark.parametrize(
    ("start", "body", "field"),
    [
        # valid needs expires_at > now
        ({"status": "expired", "expires_at": utc(2026, 3, 1)}, {"status": "valid"}, "status"),
        ({}, {"status": "valid", "expires_at": "2026-03-01T00:00:00Z"}, "status"),
        ({}, {"status": "valid", "expires_at": "2026-03-26T11:30:00Z"}, "status"),
        # expired needs expires_at <= now
        ({}, {"status": "expired"}, "status"),
        (
            {"status": "expired", "expires_at": utc(2026, 3, 1)},
            {"status": "expired", "expires_at": "2027-01-01"},
            "status",
        ),
        # a reason only goes with revoked
        ({}, {"revocation_reason": "Because"}, "revocation_reason"),
        ({}, {"status": "valid", "revocation_reason": "Because"}, "revocation_reason"),
        # expires_at must be later than issued_at
        ({}, {"expires_at": "2024-06-15T00:00:00Z"}, "expires_at"),
        ({}, {"issued_at": "2027-06-15T00:00:01Z"}, "expires_at"),
        # unknown status, inactive or unknown type
        ({}, {"status": "lapsed"}, "status"),
        ({}, {"certification_type": "peer_mentor_expert"}, "certification_type"),
        ({}, {"certification_type": "Not A Slug"}, "certification_type"),
        # nothing to update
        ({}, {}, "non_field_errors"),
    ],
)
def test_update_that_breaks_a_rule_is_400_and_changes_nothing(api_client, start, body, field):
    cert = CertificationFactory(**start)

    with unchanged():
        response = api_client.put(url(cert), body, format="json")

    assert_error(response, 400, "validation_error", fields={field})


def test_update_to_an_inactive_type_is_400(api_client):
    CertificationType.objects.create(code="peer_mentor_legacy", name="Legacy", validity_months=12, is_active=False)
    cert = CertificationFactory()

    with unchanged():
        response = api_client.patch(url(cert), {"certification_type": "peer_mentor_legacy"}, format="json")

    error = assert_error(response, 400, "validation_error", fields={"certification_type"})
    assert "inactive" in error["fields"]["certification_type"][0]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("certification_id", "cert_ZZZZZZZZ", "This field is read-only."),
        ("mentor_id", "mntr_01HX4V2K8P", "This field is read-only."),
        ("created_at", "2026-01-01T00:00:00Z", "This field is read-only."),
        ("updated_at", "2026-01-01T00:00:00Z", "This field is read-only."),
        ("auto_pause_applied", True, "This field is read-only."),
        ("revoked_at", "2026-01-01T00:00:00Z", "This field is read-only."),
        ("expiry", "2028-01-01T00:00:00Z", "Unknown field."),
        ("deleted_at", "2028-01-01T00:00:00Z", "Unknown field."),
    ],
)
def test_update_naming_a_field_it_does_not_accept_is_400_naming_it(api_client, field, value, message):
    cert = CertificationFactory()

    with unchanged():
        response = api_client.put(url(cert), {"expires_at": "2028-01-01T00:00:00Z", field: value}, format="json")

    error = assert_error(response, 400, "validation_error", fields={field})
    assert error["fields"][field] == [message]
    assert field in error["message"]


def test_update_into_a_duplicate_is_409_naming_the_existing_record(api_client):
    existing = CertificationFactory(certification_id="cert_EX1STING")
    other = CertificationFactory(mentor=existing.mentor, issued_at=utc(2024, 7, 1))

    with unchanged():
        response = api_client.patch(url(other), {"issued_at": "2024-06-15T00:00:00Z"}, format="json")

    error = assert_error(response, 409, "conflict")
    assert error["certification_id"] == "cert_EX1STING"
    assert "cert_EX1STING" in error["message"]


# --- Create: refusals ---------------------------------------------------------------


@pytest.mark.parametrize(
    "mentor_id",
    [
        "mntr_02by7m3rl",  # lower case
        "mntr_02BY7M3RU",  # U
        "mntr_ABCDEFG",  # 7 characters
        "mntr_" + "A" * 27,  # 27 characters
        "02BY7M3RL",
        "",
        12345678,
    ],
)
def test_create_with_a_malformed_mentor_id_is_400(api_client, mentor_id):
    with unchanged():
        response = api_client.post(BASE, {**CONTRACT_POST, "mentor_id": mentor_id}, format="json")
    assert_error(response, 400, "validation_error", fields={"mentor_id"})


@pytest.mark.parametrize("mentor_id", ["mntr_02BY7M3RL", "mntr_ABCDEFGH", "mntr_" + "Z" * 26])
def test_create_accepts_well_formed_mentor_ids(api_client, mentor_id):
    response = api_client.post(BASE, {**CONTRACT_POST, "mentor_id": mentor_id}, format="json")

    assert response.status_code == 201
    assert response.json()["mentor_id"] == mentor_id
    assert Mentor.objects.filter(mentor_id=mentor_id).exists()


def test_create_missing_required_fields_is_400_naming_each(api_client):
    with unchanged():
        response = api_client.post(BASE, {}, format="json")
    assert_error(response, 400, "validation_error", fields={"mentor_id", "certification_type", "issued_at"})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("status", "valid", "This field is read-only."),
        ("certification_id", "cert_ZZZZZZZZ", "This field is read-only."),
        ("auto_pause_applied", False, "This field is read-only."),
        ("created_at", "2026-03-26T00:00:00Z", "This field is read-only."),
        ("revocation_reason", "x", "This field is read-only."),
        ("expires", "2028-03-26T00:00:00Z", "Unknown field."),
        ("mentor", "mntr_01HX4V2K8P", "Unknown field."),
    ],
)
def test_create_naming_a_field_it_does_not_accept_is_400_naming_it(api_client, field, value, message):
    with unchanged():
        response = api_client.post(BASE, {**CONTRACT_POST, field: value}, format="json")

    error = assert_error(response, 400, "validation_error", fields={field})
    assert error["fields"][field] == [message]


def test_create_with_an_unknown_type_is_400(api_client):
    with unchanged():
        response = api_client.post(BASE, {**CONTRACT_POST, "certification_type": "peer_mentor_expert"}, format="json")
    error = assert_error(response, 400, "validation_error", fields={"certification_type"})
    assert "peer_mentor_expert" in error["fields"]["certification_type"][0]


def test_create_with_an_inactive_type_is_400(api_client):
    CertificationType.objects.filter(code="peer_mentor_advanced").update(is_active=False)

    with unchanged():
        response = api_client.post(BASE, CONTRACT_POST, format="json")

    error = assert_error(response, 400, "validation_error", fields={"certification_type"})
    assert "inactive" in error["fields"]["certification_type"][0]


@pytest.mark.parametrize("expires_at", ["2026-03-26T00:00:00Z", "2026-03-25T23:59:59Z", "2020-01-01"])
def test_create_expiring_at_or_before_issue_is_400(api_client, expires_at):
    with unchanged():
        response = api_client.post(BASE, {**CONTRACT_POST, "expires_at": expires_at}, format="json")
    assert_error(response, 400, "validation_error", fields={"expires_at"})


def test_duplicate_create_is_409_naming_the_existing_record(api_client):
    first = api_client.post(BASE, CONTRACT_POST, format="json").json()

    with unchanged():
        # same mentor, type and issued_at, written with an offset: still the same instant
        again = api_client.post(
            BASE, {**CONTRACT_POST, "issued_at": "2026-03-26T02:00:00+02:00", "expires_at": "2029-01-01"}, format="json"
        )

    error = assert_error(again, 409, "conflict")
    assert error["certification_id"] == first["certification_id"]
    assert first["certification_id"] in error["message"]


def test_a_deleted_record_is_no_duplicate(api_client):
    first = api_client.post(BASE, CONTRACT_POST, format="json").json()
    assert api_client.delete(url(first["certification_id"])).status_code == 200

    again = api_client.post(BASE, CONTRACT_POST, format="json")

    assert again.status_code == 201
    assert again.json()["certification_id"] != first["certification_id"]


def test_same_mentor_and_date_with_another_type_is_no_duplicate(api_client):
    api_client.post(BASE, CONTRACT_POST, format="json")

    other = api_client.post(BASE, {**CONTRACT_POST, "certification_type": "peer_mentor_basic"}, format="json")

    assert other.status_code == 201


# --- Bodies that are not a JSON object ----------------------------------------------


@pytest.mark.parametrize("raw", ["[]", '["mntr_01HX4V2K8P"]', '"text"', "42", "true", "null"])
@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_a_body_that_is_not_a_json_object_is_400(api_client, raw, method):
    cert = CertificationFactory()
    path = BASE if method == "post" else url(cert)

    with unchanged():
        response = api_client.generic(method.upper(), path, raw, content_type="application/json")

    assert_error(response, 400, "validation_error")


@pytest.mark.parametrize("raw", ['{"mentor_id": ', "{'single': 'quotes'}", "{,}", "NaN-ish"])
@pytest.mark.parametrize("method", ["post", "put"])
def test_malformed_json_is_400_parse_error(api_client, raw, method):
    cert = CertificationFactory()
    path = BASE if method == "post" else url(cert)

    with unchanged():
        response = api_client.generic(method.upper(), path, raw, content_type="application/json")

    assert_error(response, 400, "parse_error")


# --- Delete -------------------------------------------------------------------------


def test_delete_answers_the_contract_body_and_soft_deletes(api_client, expired_cert, clock):
    clock.move_to(dt.datetime(2026, 3, 26, 11, 40, tzinfo=dt.UTC))

    response = api_client.delete(url(expired_cert))

    assert response.status_code == 200
    assert response.json() == {
        "certification_id": "cert_03PQ7SY1",
        "deleted": True,
        "deleted_at": "2026-03-26T11:40:00Z",
    }
    kept = Certification.objects.get(pk=expired_cert.pk)  # still stored, for the admin
    assert kept.deleted_at == utc(2026, 3, 26, 11, 40)


def test_a_deleted_record_is_gone_from_the_api(api_client, anon_client, expired_cert):
    api_client.delete(url(expired_cert))

    with unchanged():
        responses = [
            anon_client.get(url(expired_cert)),
            api_client.put(url(expired_cert), {"status": "revoked"}, format="json"),
            api_client.patch(url(expired_cert), {"status": "revoked"}, format="json"),
            api_client.delete(url(expired_cert)),
        ]
        listed = anon_client.get(BASE).json()

    for response in responses:
        assert_error(response, 404, "not_found")
    assert listed == {"data": [], "pagination": {"page": 1, "limit": 20, "total": 0}}


def test_delete_of_an_unknown_id_is_404(api_client):
    CertificationFactory()
    with unchanged():
        response = api_client.delete(url("cert_ZZZZZZZZ"))
    assert_error(response, 404, "not_found")


def test_mentor_survives_the_deletion_of_its_certification(api_client):
    cert = CertificationFactory()

    api_client.delete(url(cert))

    assert Mentor.objects.filter(pk=cert.mentor_id).exists()


@pytest.mark.parametrize(
    "body",
    [
        {"status": "revoked", "revocation_reason": 5},
        {"status": "revoked", "revocation_reason": ["moved"]},
        {"certification_type": 7},
        {"certification_type": True},
    ],
)
def test_a_text_field_given_as_a_non_string_is_a_400_and_changes_nothing(api_client, expired_cert, body):
    """A number is not quietly stored as its digits: every text field takes a JSON string only."""
    with unchanged():
        response = api_client.patch(url(expired_cert), body, format="json")
    field = next(name for name in body if name != "status")
    assert_error(response, 400, "validation_error", fields={field})
    assert response.json()["error"]["fields"][field] == ["Must be a string."]


def _record_loads(queries) -> list[str]:
    """The statements of ``queries`` that load a certification's whole row (a lookup, a lock)."""
    return [q["sql"] for q in queries if q["sql"].startswith('SELECT "certifications_certification"."id", ')]


# Authenticated by a token: the token with its user and the user's two permission reads; then the
# service's transaction: the record found, read and locked in one statement, and the write's own
# queries (see UPDATE_QUERIES in the services' tests), inside a savepoint.
WRITE_QUERIES = {"put": 15, "patch": 15, "delete": 14}


@pytest.mark.parametrize("method", sorted(WRITE_QUERIES))
def test_a_write_reads_its_record_once(api_client, expired_cert, method, django_assert_num_queries):
    api_client.get(url(expired_cert))  # the client's first request loads what every later one has cached
    body = {"expires_at": "2029-01-01T00:00:00Z"} if method != "delete" else None
    with CaptureQueriesContext(connection) as queries, django_assert_num_queries(WRITE_QUERIES[method]):
        response = getattr(api_client, method)(url(expired_cert), body, format="json")
    assert response.status_code == 200, response.content
    assert len(_record_loads(queries)) == 1, _record_loads(queries)  # no lookup before the lock


def test_an_unknown_id_is_a_404_before_its_body_is_a_400(api_client):
    with unchanged():
        response = api_client.patch(url("cert_ZZZZZZZZ"), {"status": "lapsed"}, format="json")
    assert_error(response, 404, "not_found")
