"""The renewal request queue in the admin: order, search, evidence, approve and reject, dashboard, mentor page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin import helpers
from django.utils import timezone

from certifications.history import Actor, Source
from certifications.models import Certification, HistoryEntry, RenewalRequest
from certifications.services import renewal_request_submit
from events.models import Event
from notifications.models import Notification
from tests.certifications.admin.helpers import staff_user
from tests.certifications.renewals.conftest import PNG, upload
from tests.factories import CertificationFactory, MentorFactory

QUEUE = "/admin/certifications/renewalrequest/"


def lapsed_record(name: str = "Maya Okafor") -> Certification:
    now = timezone.now()
    mentor = MentorFactory(name=name, status="paused", paused_by="auto", paused_at=now, pause_reason="lapsed")
    return CertificationFactory(
        mentor=mentor,
        issued_at=now - dt.timedelta(days=1000),
        expires_at=now - dt.timedelta(days=10),
        status="expired",
        auto_pause_applied=True,
        auto_pause_applied_at=now,
    )


def submitted(cert: Certification, *, ago: dt.timedelta = dt.timedelta(0), content: bytes | None = None):
    now = timezone.now() - ago
    request = renewal_request_submit(
        mentor_id=cert.mentor.mentor_id,
        certification_type=cert.certification_type,
        issued_at=now - dt.timedelta(days=1),
        evidence=upload(content) if content else upload(),
        now=now,
        by=Actor(source=Source.MENTOR),
    )
    return request


@pytest.fixture
def coordinator_client(client):
    client.force_login(staff_user("coordinator", groups=("Coordinators",)))
    return client


@pytest.mark.django_db
def test_the_queue_lists_pending_first_then_oldest_first(coordinator_client):
    old_decided = submitted(lapsed_record("Ada Lovelace"), ago=dt.timedelta(days=9))
    RenewalRequest.objects.filter(pk=old_decided.pk).update(state="withdrawn", decided_at=timezone.now())
    newer = submitted(lapsed_record("Beatrice Okoro"), ago=dt.timedelta(days=1))
    older = submitted(lapsed_record("Chen Wei"), ago=dt.timedelta(days=3))
    page = coordinator_client.get(QUEUE).content.decode()
    positions = [page.index(r.renewal_request_id) for r in (older, newer, old_decided)]
    assert positions == sorted(positions)
    filtered = coordinator_client.get(QUEUE, {"state__exact": "pending", "q": "Beatrice"}).content.decode()
    assert newer.renewal_request_id in filtered and older.renewal_request_id not in filtered


@pytest.mark.django_db
def test_the_change_page_shows_an_image_inline_and_streams_it_as_an_attachment(coordinator_client):
    request = submitted(lapsed_record(), content=PNG)
    page = coordinator_client.get(f"{QUEUE}{request.pk}/change/").content.decode()
    evidence_url = f"{QUEUE}{request.pk}/evidence/"
    assert f'<img src="{evidence_url}"' in page and 'id="approve-button"' in page
    response = coordinator_client.get(evidence_url)
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Disposition"].startswith("attachment;") and response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_a_viewer_without_review_sees_no_decision_and_cannot_decide(client):
    request = submitted(lapsed_record())
    client.force_login(staff_user("viewer", "view_renewalrequest"))
    assert 'id="approve-button"' not in client.get(f"{QUEUE}{request.pk}/change/").content.decode()
    assert client.post(f"{QUEUE}{request.pk}/decide/", {"approve": "1"}).status_code == 403
    assert RenewalRequest.objects.get().state == "pending"


@pytest.mark.django_db
def test_approve_on_the_change_page_with_a_corrected_expiry_resumes_the_mentor(coordinator_client):
    cert = lapsed_record()
    request = submitted(cert)
    response = coordinator_client.post(
        f"{QUEUE}{request.pk}/decide/", {"approve": "Approve", "issued_on": "", "expires_on": "2031-05-01"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == "approved" and request.decided_by.username == "coordinator"
    assert request.certification.expires_at == dt.datetime(2031, 5, 1, tzinfo=dt.UTC)
    cert.mentor.refresh_from_db()
    assert cert.mentor.status == "active"


@pytest.mark.django_db
def test_reject_asks_a_reason(coordinator_client):
    request = submitted(lapsed_record())
    coordinator_client.post(f"{QUEUE}{request.pk}/decide/", {"reject": "Reject", "reason": ""})
    assert RenewalRequest.objects.get().state == "pending"
    coordinator_client.post(f"{QUEUE}{request.pk}/decide/", {"reject": "Reject", "reason": "Blurry"})
    assert RenewalRequest.objects.get().decision_reason == "Blurry"


@pytest.mark.django_db
def test_the_reject_action_asks_a_reason_then_rejects_the_selection(coordinator_client):
    request = submitted(lapsed_record())
    data = {"action": "reject", helpers.ACTION_CHECKBOX_NAME: [request.pk]}
    page = coordinator_client.post(QUEUE, data)
    assert page.status_code == 200 and "Reject renewal requests" in page.content.decode()
    coordinator_client.post(QUEUE, {**data, "apply": "1", "reason": "Wrong certificate"})
    assert RenewalRequest.objects.get().state == "rejected"


@pytest.mark.django_db
def test_the_dashboard_shows_the_pending_count_and_the_oldest_age(coordinator_client):
    submitted(lapsed_record("A"), ago=dt.timedelta(days=4, hours=1))
    submitted(lapsed_record("B"))
    page = coordinator_client.get("/admin/").content.decode()
    assert "<strong>2</strong> pending" in page and '<strong id="renewals-oldest">4 d</strong>' in page


@pytest.mark.django_db
def test_the_mentor_page_lists_their_requests(coordinator_client):
    cert = lapsed_record()
    request = submitted(cert)
    page = coordinator_client.get(f"/admin/certifications/mentor/{cert.mentor.pk}/change/").content.decode()
    assert request.renewal_request_id in page


def _rows(mentor_pk: int) -> dict:
    """What an approval leaves, without ids, times or the door it came through."""
    cert = Certification.objects.filter(mentor_id=mentor_pk).order_by("-id").first()
    history = HistoryEntry.objects.filter(subject="certification", object_pk=cert.pk)
    return {
        "history": sorted((h.actor, h.change, sorted(h.changes)) for h in history),
        "events": sorted(Event.objects.filter(data__mentor_id=cert.mentor.mentor_id).values_list("type", flat=True)),
        "notices": sorted(Notification.objects.filter(mentor_id=mentor_pk).values_list("kind", "state")),
        "certification": (cert.status, cert.mentor.status),
    }


@pytest.mark.django_db
def test_approval_through_the_api_and_the_admin_leaves_the_same_rows(client):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    reviewer = staff_user("coordinator", groups=("Coordinators",))
    by_admin, by_api = submitted(lapsed_record("A")), submitted(lapsed_record("B"))
    client.force_login(reviewer)
    client.post(f"{QUEUE}{by_admin.pk}/decide/", {"approve": "Approve"})
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=reviewer).key}")
    assert api.post(f"/api/v1/renewal-requests/{by_api.renewal_request_id}/approve").status_code == 200
    admin_rows, api_rows = _rows(by_admin.mentor_id), _rows(by_api.mentor_id)
    assert admin_rows == api_rows
    assert admin_rows["history"][0][0] == "coordinator"
