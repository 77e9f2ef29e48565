"""The certification actions: renew, revoke, soft delete and restore, with the API's effects."""

from __future__ import annotations

import datetime as dt

import pytest

from certifications import services
from certifications.dates import add_months
from certifications.models import (
    Certification,
    CertificationStatus,
    LogEvent,
    MentorStatus,
    PausedBy,
)
from tests.certifications.admin.helpers import (
    CERTS,
    DAY,
    UTC,
    act,
    auto_paused_cert,
    clock,
    make_cert,
    messages_of,
    snapshot,
)
from tests.factories import TEST_ACTOR, CertificationFactory

pytestmark = pytest.mark.django_db


# --- Certifications: actions -----------------------------------------------------------------


def test_hard_delete_action_is_replaced_by_soft_delete_and_restore(coordinator_client):
    make_cert(days=10)
    actions = dict(coordinator_client.get(CERTS).context["action_form"].fields["action"].choices)
    assert "delete_selected" not in actions
    assert {"renew", "revoke", "soft_delete", "restore"} <= set(actions)


def test_renew_asks_how_then_renews_by_the_types_validity(coordinator_client):
    cert = make_cert(days=10)
    page = act(coordinator_client, CERTS, "renew", [cert])
    assert page.status_code == 200 and "Renew certifications" in page.content.decode()
    cert.refresh_from_db()
    before = cert.expires_at

    response = act(coordinator_client, CERTS, "renew", [cert], apply="Renew", mode="validity")

    cert.refresh_from_db()
    assert cert.expires_at == add_months(before, cert.certification_type.validity_months)
    assert cert.status == CertificationStatus.VALID
    assert "Renewed 1 certification." in messages_of(response)


def test_renew_to_an_entered_date(coordinator_client):
    cert = make_cert(days=-3)
    target = (clock() + 400 * DAY).date()
    act(coordinator_client, CERTS, "renew", [cert], apply="Renew", mode="date", expires_on=target.isoformat())
    cert.refresh_from_db()
    assert cert.expires_at == dt.datetime(target.year, target.month, target.day, tzinfo=UTC)
    assert cert.status == CertificationStatus.VALID


def test_renew_to_a_date_needs_the_date_and_a_future_one(coordinator_client):
    cert = make_cert(days=5)
    before = cert.expires_at
    page = act(coordinator_client, CERTS, "renew", [cert], apply="Renew", mode="date")
    assert "Enter the new expiry date." in page.content.decode()
    past = (clock() - 10 * DAY).date().isoformat()
    response = act(coordinator_client, CERTS, "renew", [cert], apply="Renew", mode="date", expires_on=past)
    assert f"{cert.certification_id}: A renewal must end in the future." in messages_of(response)
    cert.refresh_from_db()
    assert cert.expires_at == before


def test_renew_in_admin_resumes_the_mentor_as_the_api_does(coordinator_client, api_client):
    via_admin = auto_paused_cert()
    via_api = auto_paused_cert()
    target = (clock() + 365 * DAY).date()

    response = act(
        coordinator_client, CERTS, "renew", [via_admin], apply="Renew", mode="date", expires_on=target.isoformat()
    )
    api = api_client.put(
        f"/api/v1/certifications/{via_api.certification_id}",
        {"expires_at": f"{target.isoformat()}T00:00:00Z", "status": "valid"},
        format="json",
    )

    assert api.status_code == 200
    assert any("Resumed 1 auto-paused mentor" in text for text in messages_of(response))
    admin_effects, api_effects = snapshot(via_admin.mentor), snapshot(via_api.mentor)
    assert admin_effects == api_effects
    assert admin_effects["status"] == MentorStatus.ACTIVE
    assert (LogEvent.AUTO_RESUME, f"Certification peer_mentor_basic renewed until {target}", True) in admin_effects[
        "logs"
    ]


def test_renewal_never_lifts_a_staff_pause(coordinator_client):
    cert = make_cert(days=-3)
    services.mentor_pause(by=TEST_ACTOR, mentor=cert.mentor, now=clock(), reason="Conduct review")
    response = act(coordinator_client, CERTS, "renew", [cert], apply="Renew", mode="validity")
    cert.mentor.refresh_from_db()
    assert cert.mentor.paused_by == PausedBy.STAFF
    assert not any("Resumed" in text for text in messages_of(response))


def test_revoke_needs_a_reason_and_records_it(coordinator_client):
    cert = make_cert(days=100)
    page = act(coordinator_client, CERTS, "revoke", [cert], apply="Revoke", reason="")
    assert page.context["form"].errors == {"reason": ["This field is required."]}
    cert.refresh_from_db()
    assert cert.status == CertificationStatus.VALID

    response = act(coordinator_client, CERTS, "revoke", [cert], apply="Revoke", reason="Training not completed")

    cert.refresh_from_db()
    assert (cert.status, cert.revocation_reason) == (CertificationStatus.REVOKED, "Training not completed")
    assert cert.revoked_at is not None
    assert "Revoked 1 certification." in messages_of(response)


def test_soft_delete_and_restore_match_the_api(coordinator_client, api_client):
    via_admin = auto_paused_cert()
    via_api = auto_paused_cert()

    response = act(coordinator_client, CERTS, "soft_delete", [via_admin])
    assert api_client.delete(f"/api/v1/certifications/{via_api.certification_id}").status_code == 200

    assert snapshot(via_admin.mentor) == snapshot(via_api.mentor)
    assert snapshot(via_admin.mentor)["status"] == MentorStatus.ACTIVE
    assert Certification.objects.filter(pk=via_admin.pk, deleted_at__isnull=False).exists()
    assert "Deleted 1 certification." in messages_of(response)

    response = act(coordinator_client, CERTS + "?deleted=yes", "restore", [via_admin])
    via_admin.refresh_from_db()
    assert via_admin.deleted_at is None
    assert "Restored 1 certification." in messages_of(response)


def test_restore_of_live_records_explains_where_deleted_ones_are(coordinator_client):
    live = make_cert(days=100)
    response = act(coordinator_client, CERTS, "restore", [live])
    assert "None of the selected records is deleted; the 'Deleted' filter lists those." in messages_of(response)


def test_restore_refused_when_a_live_record_takes_its_place(coordinator_client):
    gone = make_cert(days=100, deleted_at=clock())
    CertificationFactory(
        mentor=gone.mentor,
        certification_type=gone.certification_type,
        issued_at=gone.issued_at,
        expires_at=gone.expires_at,
    )
    response = act(coordinator_client, CERTS + "?deleted=yes", "restore", [gone])
    gone.refresh_from_db()
    assert gone.deleted_at is not None
    assert any("already holds a peer_mentor_basic certification" in text for text in messages_of(response))


def test_delete_from_the_change_page_is_a_soft_delete(coordinator_client):
    cert = auto_paused_cert()
    url = f"{CERTS}{cert.pk}/delete/"
    page = coordinator_client.get(url)
    assert page.status_code == 200 and "can be restored" in page.content.decode()
    coordinator_client.post(url, {"post": "yes"})
    cert.refresh_from_db()
    assert cert.deleted_at is not None
    assert snapshot(cert.mentor)["status"] == MentorStatus.ACTIVE
