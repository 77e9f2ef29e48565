"""A paused mentor renews from the link in their notice, on a phone, and a coordinator approves it, in Chromium.

The mentor opens the link of the pause notice as it is mailed, sends a PDF
from the plain form and sees the confirmation; the coordinator finds the
request in the admin's queue, approves it on its page and sees the mentor
resumed.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from certifications import services
from certifications.models import JobTrigger, Mentor, RenewalRequest
from notifications.messages import notification_message
from notifications.models import Notification
from tests.certifications.renewals.conftest import PDF
from tests.factories import TEST_ACTOR

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DAY = dt.timedelta(days=1)
PASSWORD = "a-coordinator-password"
MENTOR_ID = "mntr_01HX4V2K8PMO"


@pytest.fixture
def evidence_in_tmp(settings, tmp_path):
    settings.RENEWAL_EVIDENCE_STORAGE = {**settings.RENEWAL_EVIDENCE_STORAGE, "DIR": str(tmp_path / "evidence")}


def _paused_mentor_and_notice(now: dt.datetime) -> Notification:
    """Maya's basic certification lapsed four days ago; last night's job paused her and wrote her notice."""
    expires_at = now - 4 * DAY
    services.certification_create(
        by=TEST_ACTOR,
        mentor_id=MENTOR_ID,
        certification_type="peer_mentor_basic",
        issued_at=expires_at - 3 * 365 * DAY,
        expires_at=expires_at,
        now=expires_at - DAY,
    )
    Mentor.objects.filter(mentor_id=MENTOR_ID).update(name="Maya Okafor", email="maya@example.org")
    services.expiry_job_run(now=now - DAY, trigger=JobTrigger.SCHEDULE)
    return Notification.objects.get(kind="mentor_paused", mentor__mentor_id=MENTOR_ID)


def test_a_mentor_renews_from_the_notice_and_a_coordinator_approves(
    browser, page, live_server, settings, evidence_in_tmp, screenshot, tmp_path
):
    settings.PUBLIC_BASE_URL = live_server.url
    now = timezone.now()
    notice = _paused_mentor_and_notice(now)
    user = User.objects.create_user("coordinator", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Coordinators"))

    shots = Path(os.environ.get("SAVE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    # The mentor, on a phone, without JavaScript: the link as the notice mails it.
    [link] = re.findall(r"https?://\S+/renew/\S+", notification_message(notice, now=now).body)
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, java_script_enabled=False
    )
    mentor_page = phone.new_page()
    mentor_page.goto(link)
    assert "Expired on" in mentor_page.inner_text("main")
    mentor_page.fill("#id_issued_at", (now - DAY).date().isoformat())
    mentor_page.set_input_files(
        "#id_evidence", files=[{"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    mentor_page.fill("#id_note", "Renewed at the March workshop")
    mentor_page.screenshot(path=str(shots / "renewal-page-phone.png"), full_page=True)
    mentor_page.click("button[type=submit]")
    mentor_page.wait_for_selector("text=your request is sent")
    request = RenewalRequest.objects.get()
    assert (request.submitted_via, request.state) == ("mentor_link", "pending")
    phone.close()

    # The coordinator approves it in the admin.
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.click("#renewals-pending")
    page.click(f"text={request.renewal_request_id}")
    page.wait_for_selector("#evidence-link")
    screenshot("renewal-request-admin", full=True)
    page.click("#approve-button")
    page.wait_for_selector("ul.messagelist li")
    assert "Approved" in page.inner_text("ul.messagelist")
    request.refresh_from_db()
    assert request.state == "approved"
    page.goto(f"{live_server.url}/admin/certifications/mentor/{request.mentor_id}/change/")
    assert Mentor.objects.get(mentor_id=MENTOR_ID).status == "active"
    assert "Active" in page.inner_text("div.field-status")
