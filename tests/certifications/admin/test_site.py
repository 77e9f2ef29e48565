"""CertHub's admin site as a whole: its class, the beat schedule, who may enter, the coordinators' group."""

from __future__ import annotations

import pytest
from django.contrib import admin as django_admin
from django.contrib.auth.models import Group

from certhub.admin import CertHubAdminSite
from tests.certifications.admin.helpers import (
    CERTS,
    LOGS,
    MENTORS,
    RUN_PAGE,
    RUNS,
    staff_user,
)

pytestmark = pytest.mark.django_db


def test_admin_site_is_certhubs_and_keeps_the_beat_schedule(coordinator_client):
    assert isinstance(django_admin.site, CertHubAdminSite)
    response = coordinator_client.get("/admin/django_celery_beat/periodictask/")
    assert response.status_code == 200
    assert "expiry job daily at 01:00 UTC" in response.content.decode()


def test_staff_without_any_permission_are_refused(client):
    client.force_login(staff_user("helpdesk"))
    for url in (CERTS, MENTORS, RUNS, LOGS, RUN_PAGE):
        assert client.get(url).status_code == 403


def test_coordinators_group_has_exactly_the_permissions_a_coordinator_needs():
    perms = set(Group.objects.get(name="Coordinators").permissions.values_list("content_type__app_label", "codename"))
    assert perms == {
        ("certifications", "view_certificationtype"),
        ("certifications", "view_mentor"),
        ("certifications", "change_mentor"),
        ("certifications", "view_certification"),
        ("certifications", "add_certification"),
        ("certifications", "change_certification"),
        ("certifications", "delete_certification"),
        ("certifications", "view_expiryjobrun"),
        ("certifications", "run_expiry_job"),
        ("certifications", "view_autopauselog"),
        ("certifications", "view_renewalrequest"),
        ("certifications", "add_renewalrequest"),
        ("certifications", "change_renewalrequest"),
        ("certifications", "review_renewalrequest"),
        ("django_celery_beat", "view_periodictask"),
        ("django_celery_beat", "change_periodictask"),
        ("django_celery_beat", "view_crontabschedule"),
        ("notifications", "view_notification"),
        ("notifications", "change_notification"),  # resend a failed one
    }


def test_coordinator_can_edit_the_daily_schedule(coordinator_client):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="expiry job daily at 01:00 UTC")
    page = coordinator_client.get(f"/admin/django_celery_beat/periodictask/{task.pk}/change/")
    assert page.status_code == 200 and page.context["has_change_permission"]
