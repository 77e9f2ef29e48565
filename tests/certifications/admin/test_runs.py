"""The expiry job's pages: preview then run, the lock, permissions, the read-only run history."""

from __future__ import annotations

import pytest
from django.urls import reverse

from certifications.models import (
    AutoPauseLog,
    ExpiryJobRun,
    JobLock,
    JobTrigger,
    LogEvent,
    MentorStatus,
)
from tests.certifications.admin.helpers import (
    DAY,
    RUN_PAGE,
    RUNS,
    clock,
    make_cert,
    messages_of,
)

pytestmark = pytest.mark.django_db


# --- The expiry job ----------------------------------------------------------------------------------


def test_run_page_previews_then_runs_for_real(coordinator_client, coordinator):
    due = make_cert(days=-2)
    make_cert(days=100)
    page = coordinator_client.get(RUN_PAGE)
    assert page.status_code == 200 and "Preview (dry run)" in page.content.decode()
    # The page's breadcrumbs (the shared admin/certhub/model_page.html) lead back to the run history.
    assert '<div class="breadcrumbs">' in page.content.decode()
    assert f'href="{reverse("admin:certifications_expiryjobrun_changelist")}"' in page.content.decode()

    preview = coordinator_client.post(RUN_PAGE, {"preview": "1"})

    dry = preview.context["preview"]
    assert (dry.dry_run, dry.trigger, dry.requested_by, dry.expired_found, dry.auto_paused) == (
        True,
        JobTrigger.ADMIN,
        coordinator,
        1,
        1,
    )
    assert [item.certification_id for item in preview.context["items"]] == [due.certification_id]
    assert due.mentor.mentor_id in preview.content.decode()
    due.refresh_from_db()
    assert (due.auto_pause_applied, due.mentor.status) == (False, MentorStatus.ACTIVE)  # a dry run changes nothing

    response = coordinator_client.post(RUN_PAGE, {"run": "1"}, follow=True)

    run = ExpiryJobRun.objects.get(dry_run=False)
    assert (run.trigger, run.requested_by, run.state, run.auto_paused) == (
        JobTrigger.ADMIN,
        coordinator,
        "succeeded",
        1,
    )
    assert response.redirect_chain[-1][0] == f"{RUNS}{run.pk}/change/"
    assert any(text.startswith(f"Expiry job {run.job_run_id} succeeded") for text in messages_of(response))
    due.refresh_from_db()
    assert due.auto_pause_applied and due.mentor.status == MentorStatus.PAUSED
    log = AutoPauseLog.objects.get(certification=due)
    assert (log.event, log.job_run, log.reason) == (
        LogEvent.AUTO_PAUSE,
        run,
        f"Certification peer_mentor_basic expired on {due.expires_at:%Y-%m-%d}",
    )


def test_run_page_says_clearly_when_a_run_is_in_progress(coordinator_client):
    make_cert(days=-2)
    JobLock.objects.update_or_create(
        name="expiry_job",
        defaults={"holder": "job_01JAN2026_01", "acquired_at": clock(), "lease_until": clock() + 60 * DAY},
    )
    page = coordinator_client.get(RUN_PAGE)
    assert "job_01JAN2026_01" in page.content.decode() and "is running now" in page.content.decode()

    response = coordinator_client.post(RUN_PAGE, {"run": "1"}, follow=True)

    assert "Expiry job job_01JAN2026_01 is already running. Nothing was started" in " ".join(messages_of(response))
    assert not ExpiryJobRun.objects.filter(dry_run=False).exists()
    assert not AutoPauseLog.objects.exists()


def test_run_page_and_button_need_the_run_permission(viewer_client):
    assert viewer_client.get(RUN_PAGE).status_code == 403
    assert viewer_client.post(RUN_PAGE, {"run": "1"}).status_code == 403
    assert not ExpiryJobRun.objects.exists()
    listing = viewer_client.get(RUNS)
    assert listing.status_code == 200 and "run-expiry-job" not in listing.content.decode()


def test_run_history_is_read_only_and_shows_failures(superuser_client):
    run = ExpiryJobRun.objects.create(
        job_run_id="job_01JAN2026_01",
        trigger=JobTrigger.SCHEDULE,
        state="succeeded",
        expired_found=2,
        failures=[{"mentor_id": "mntr_01HX4V2K8P", "certification_id": "cert_ABCDEFGH", "error": "boom"}],
    )
    listing = superuser_client.get(RUNS)
    assert "run-expiry-job" in listing.content.decode()
    assert superuser_client.get(RUNS, {"state__exact": "succeeded"}).context["cl"].result_count == 1
    page = superuser_client.get(f"{RUNS}{run.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert "cert_ABCDEFGH" in html and "boom" in html
    assert superuser_client.get(RUNS + "add/").status_code == 403
    assert superuser_client.post(f"{RUNS}{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ExpiryJobRun.objects.filter(pk=run.pk).exists()
