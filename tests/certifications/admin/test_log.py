"""The auto-pause log page: read-only for everyone, its filters and search."""

from __future__ import annotations

import pytest

from certifications import services
from certifications.models import (
    AutoPauseLog,
    ExpiryJobRun,
)
from tests.certifications.admin.helpers import (
    DAY,
    LOGS,
    auto_paused_cert,
    clock,
)
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.django_db


# --- The auto-pause log --------------------------------------------------------------------------------


def test_log_is_read_only_even_for_superusers(superuser_client):
    cert = auto_paused_cert()
    entry = AutoPauseLog.objects.get(certification=cert)
    listing = superuser_client.get(LOGS)
    assert listing.status_code == 200 and listing.context["action_form"] is None
    assert superuser_client.get(LOGS + "add/").status_code == 403
    page = superuser_client.get(f"{LOGS}{entry.pk}/change/")
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert superuser_client.post(f"{LOGS}{entry.pk}/change/", {"reason": "edited"}).status_code == 403
    assert superuser_client.post(f"{LOGS}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.reason.startswith("Certification peer_mentor_basic expired on")


def test_log_filters_by_event_job_run_and_date_and_searches(coordinator_client):
    paused = auto_paused_cert()
    resumed = auto_paused_cert()
    services.certification_renew(by=TEST_ACTOR, certification=resumed, now=clock())
    run = ExpiryJobRun.objects.get(dry_run=False, auto_paused=1, logs__certification=resumed)

    def logged(**params):
        return {
            (row.certification_id, row.event) for row in coordinator_client.get(LOGS, params).context["cl"].result_list
        }

    assert logged(event__exact="auto_resume") == {(resumed.pk, "auto_resume")}
    assert logged(job_run__id__exact=run.pk) == {(resumed.pk, "auto_pause")}
    assert logged(job_run__isnull="True") == {(resumed.pk, "auto_resume")}
    # The "Today" link of the date filter: aware midnights, as the filter writes them.
    today = clock().replace(hour=0, minute=0, second=0)
    assert len(logged(applied_at__gte=str(today), applied_at__lt=str(today + DAY))) == 3
    assert logged(applied_at__gte=str(today + DAY)) == set()
    assert logged(q=paused.mentor.mentor_id) == {(paused.pk, "auto_pause")}
    assert logged(q=resumed.certification_id) == {(resumed.pk, "auto_pause"), (resumed.pk, "auto_resume")}
