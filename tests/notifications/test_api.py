"""``GET /api/v1/notifications``: the envelope, newest first, filters, and ``view_notification`` always."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from certifications.services import expiry_job_run
from notifications.models import Notification
from notifications.services import reminders_scan
from tests.certifications.services.lapse.helpers import lapsed_cert
from tests.conftest import _token_client, _user_with
from tests.factories import CertificationFactory, MentorFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications"
UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 8, 0, tzinfo=UTC)


def client_with(*codenames: str) -> APIClient:
    return _token_client(_user_with("u-" + "-".join(codenames or ("none",)), *codenames))


@pytest.fixture
def viewer() -> APIClient:
    return client_with("view_notification")


@pytest.fixture
def rows():
    """A reminder (sent by scan at NOW) and a pause notice (the job, a day earlier), one mentor each."""
    reminded = CertificationFactory(
        mentor=MentorFactory(mentor_id="mntr_0REM1NDED0"),
        issued_at=NOW - dt.timedelta(days=700),
        expires_at=NOW + dt.timedelta(days=10),
    )
    reminders_scan(now=NOW)
    paused = lapsed_cert(MentorFactory(mentor_id="mntr_0PAVSED000", email=""))
    expiry_job_run(now=NOW - dt.timedelta(days=1))
    return reminded, paused


def test_the_list_is_the_envelope_newest_first(viewer, rows):
    reminded, _ = rows
    response = viewer.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["pagination"] == {"page": 1, "limit": 20, "total": 2}
    first, second = body["data"]
    assert (first["kind"], second["kind"]) == ("expiry_reminder", "mentor_paused")
    assert first == {
        "notification_id": Notification.objects.get(kind="expiry_reminder").notification_id,
        "kind": "expiry_reminder",
        "mentor_id": "mntr_0REM1NDED0",
        "certification_id": reminded.certification_id,
        "cycle_expires_at": "2026-04-05T08:00:00Z",
        "offset_days": 30,
        "recipient": reminded.mentor.email,
        "subject": first["subject"],
        "state": "queued",
        "attempts": 0,
        "last_error": None,
        "created_at": "2026-03-26T08:00:00Z",
        "sent_at": None,
    }
    assert (second["state"], second["last_error"], second["offset_days"]) == ("skipped", "no email address", None)


@pytest.mark.parametrize(
    ("query", "kinds"),
    [
        ("mentor_id=mntr_0PAVSED000", ["mentor_paused"]),
        ("kind=expiry_reminder", ["expiry_reminder"]),
        ("kind=expiry_reminder,mentor_paused", ["expiry_reminder", "mentor_paused"]),
        ("state=skipped", ["mentor_paused"]),
        ("created_after=2026-03-26", ["expiry_reminder"]),
        ("created_before=2026-03-26", ["mentor_paused"]),
        ("mentor_id=mntr_00000000", []),
    ],
)
def test_filters(viewer, rows, query, kinds):
    response = viewer.get(f"{URL}?{query}")
    assert response.status_code == 200
    assert [row["kind"] for row in response.json()["data"]] == kinds


def test_the_certification_filter(viewer, rows):
    reminded, _ = rows
    response = viewer.get(URL, {"certification_id": reminded.certification_id})
    assert [row["certification_id"] for row in response.json()["data"]] == [reminded.certification_id]


@pytest.mark.parametrize(
    "query", ["kind=reminder", "state=sent,lost", "created_after=2026-03-26T08:00:00", "mentor_id=bob", "limit=0"]
)
def test_a_bad_filter_is_a_400_in_the_envelope(viewer, query):
    response = viewer.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_it_needs_view_notification_whatever_public_reads_says(settings, rows):
    settings.API_PUBLIC_READS = True
    anonymous = APIClient().get(URL)
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "not_authenticated")
    denied = client_with("view_mentor").get(URL)
    assert (denied.status_code, denied.json()["error"]["code"]) == (403, "permission_denied")


def test_it_answers_with_and_without_the_trailing_slash_and_only_reads(viewer):
    assert viewer.get(URL + "/").status_code == 200
    response = viewer.post(URL, {}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (405, "method_not_allowed")
