"""Each object's History page in the admin, and the admin's writes recorded with their user."""

from __future__ import annotations

import datetime as dt

import pytest

from certifications.history.models import HistoryEntry
from certifications.models import CertificationType
from certifications.services import certification_update, expiry_job_run
from tests.certifications.admin.test_types import type_form
from tests.certifications.services.lapse.helpers import NOW, UTC, lapsed_cert
from tests.factories import TEST_ACTOR, MentorFactory

pytestmark = pytest.mark.django_db


def test_the_type_policy_page_saves_through_the_service_with_a_history_row(superuser_client):
    basic = CertificationType.objects.get(code="peer_mentor_basic")
    url = f"/admin/certifications/certificationtype/{basic.pk}/change/"
    response = superuser_client.post(url, type_form(basic, grace_days=14))
    assert response.status_code == 302
    [row] = HistoryEntry.objects.filter(subject="certification_type", object_pk=basic.pk)
    assert (row.source, row.actor, row.changes) == ("admin", row.user.username, {"grace_days": [0, 14]})
    page = superuser_client.get(f"/admin/certifications/certificationtype/{basic.pk}/history/").content.decode()
    assert "grace_days" in page and "0 &rarr; 14" in page


def test_adding_a_type_in_the_admin_records_its_creation(superuser_client):
    response = superuser_client.post(
        "/admin/certifications/certificationtype/add/",
        {"code": "first_aid", "name": "First aid", "validity_months": 12, "is_active": "on", "reminder_days": "[]"}
        | {"renewal_window_days": 30, "grace_days": 0},
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    created = CertificationType.objects.get(code="first_aid")
    [row] = HistoryEntry.objects.filter(subject="certification_type", object_pk=created.pk)
    assert row.change == "created" and row.changes["validity_months"] == [None, 12]


def test_a_mentor_edit_in_the_admin_is_recorded_with_the_user(coordinator_client):
    mentor = MentorFactory(name="Old", email="")
    response = coordinator_client.post(
        f"/admin/certifications/mentor/{mentor.pk}/change/",
        {
            "name": "New",
            "email": "",
            "certifications-TOTAL_FORMS": "0",
            "certifications-INITIAL_FORMS": "0",
            "renewal_requests-TOTAL_FORMS": "0",
            "renewal_requests-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    [row] = HistoryEntry.objects.filter(subject="mentor", object_pk=mentor.pk)
    assert (row.actor, row.source, row.changes) == ("coordinator", "admin", {"name": ["Old", "New"]})


def test_a_certifications_history_page_shows_each_change_newest_first(coordinator_client):
    cert = lapsed_cert()
    run = expiry_job_run(now=NOW)
    certification_update(
        certification=cert, changes={"expires_at": dt.datetime(2029, 1, 1, tzinfo=UTC)}, now=NOW, by=TEST_ACTOR
    )
    page = coordinator_client.get(f"/admin/certifications/certification/{cert.pk}/history/").content.decode()
    # Newest first: the update (and its auto-resume), then the job's rows.
    assert page.index("2029-01-01T00:00:00Z") < page.index(run.job_run_id)
    assert "auto_pause_applied</strong>: False &rarr; True" in page
    assert "status</strong>: valid &rarr; expired" in page
    assert "system:job" in page and "Expiry job" in page


def test_the_history_page_needs_view_permission(client):
    from django.contrib.auth.models import User

    User.objects.create_user("nobody", password="pw", is_staff=True)
    client.login(username="nobody", password="pw")
    cert = lapsed_cert()
    response = client.get(f"/admin/certifications/certification/{cert.pk}/history/")
    assert response.status_code == 403
