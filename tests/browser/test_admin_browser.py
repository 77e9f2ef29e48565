"""A coordinator's morning in the admin, in a real browser.

Logs in, finds expiring and lapsed certifications with the filters, renews
them and sees the auto-paused mentor resumed, previews and runs the expiry job,
and reads the auto-pause log.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from certifications import services
from certifications.models import AutoPauseLog, Certification, ExpiryJobRun, JobTrigger, LogEvent, Mentor
from tests.factories import TEST_ACTOR

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DAY = dt.timedelta(days=1)
PASSWORD = "a-coordinator-password"


def _seed() -> dict[str, Certification]:
    """A small program: one record expiring soon, one lapsed and auto-paused, one lapsed but not yet applied."""
    now = timezone.now()
    user = User.objects.create_user("coordinator", password=PASSWORD, is_staff=True, first_name="Sam")
    user.groups.add(Group.objects.get(name="Coordinators"))

    def record(mentor_id, name, *, days, type_code="peer_mentor_basic"):
        expires_at = now + days * DAY
        cert = services.certification_create(
            by=TEST_ACTOR,
            mentor_id=mentor_id,
            certification_type=type_code,
            issued_at=expires_at - 3 * 365 * DAY,
            expires_at=expires_at,
            now=now + min(days, 0) * DAY - DAY,  # recorded while still valid
        ).certification
        Mentor.objects.filter(pk=cert.mentor_id).update(name=name, email=f"{name.split()[0].lower()}@example.org")
        return cert

    certs = {
        "expiring": record("mntr_01HX4V2K8PAD", "Ada Lovelace", days=12),
        "lapsed": record("mntr_01HX4V2K8PMO", "Maya Okafor", days=-4),
    }
    for offset, name in enumerate(["Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov"]):
        record(f"mntr_01HX4V2K8P0{offset}", name, days=40 + 70 * offset, type_code="peer_mentor_advanced")
    # Last night's scheduled run paused Maya.
    services.expiry_job_run(now=now - DAY, trigger=JobTrigger.SCHEDULE)
    certs["due"] = record("mntr_01HX4V2K8PKJ", "Katherine Johnson", days=-0.5)
    return certs


def _message_texts(page) -> list[str]:
    page.wait_for_selector("ul.messagelist li")
    return [text.strip() for text in page.locator("ul.messagelist li").all_inner_texts()]


def test_coordinator_renews_sees_the_mentor_resumed_runs_the_job_and_reads_the_log(live_server, page, screenshot):
    certs = _seed()
    base = live_server.url

    # Log in and land on the dashboard.
    page.goto(f"{base}/admin/")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#dashboard")
    assert page.inner_text("#card-expiring .ch-figure") == "1"
    assert page.inner_text("#card-lapsed .ch-figure") == "1"
    assert page.inner_text("#card-paused-auto .ch-figure") == "1"
    assert page.locator("#expiry-chart a").count() == 12
    screenshot("01-dashboard", full=True)

    # Find the certification expiring soon with the filter, and renew it by the type's validity.
    page.click("#certifications-certification a")
    page.wait_for_selector("#result_list")
    page.get_by_role("link", name="Within 30 days").click()
    page.wait_for_url(re.compile(r"expiring=30"))
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "expires in 11 days" in rows.first.inner_text() or "expires in 12 days" in rows.first.inner_text()
    screenshot("02-expiring-within-30-days")
    rows.first.locator("input.action-select").check()
    page.select_option("select[name=action]", "renew")
    page.click("button[name=index]")
    page.wait_for_selector("text=Renew certifications")
    screenshot("03-renew")
    page.click("input[name=apply]")
    assert "Renewed 1 certification." in _message_texts(page)
    certs["expiring"].refresh_from_db()
    assert certs["expiring"].expires_at > timezone.now() + 3 * 365 * DAY

    # The lapsed record whose mentor the job paused: renew it to a date, and the mentor is resumed.
    page.goto(f"{base}/admin/certifications/certification/?lapsed=applied")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1 and "Maya Okafor" in rows.first.inner_text()
    rows.first.locator("input.action-select").check()
    page.select_option("select[name=action]", "renew")
    page.click("button[name=index]")
    page.check("input[name=mode][value=date]")
    new_expiry = (timezone.now() + 730 * DAY).date()
    page.fill("input[name=expires_on]", new_expiry.isoformat())
    page.click("input[name=apply]")
    texts = _message_texts(page)
    assert "Renewed 1 certification." in texts
    assert "Resumed 1 auto-paused mentor: Maya Okafor (mntr_01HX4V2K8PMO)." in texts
    page.goto(f"{base}/admin/certifications/mentor/?q=Okafor")
    page.get_by_role("link", name="mntr_01HX4V2K8PMO").click()
    page.wait_for_selector("text=Change mentor")
    assert page.inner_text(".field-status .readonly") == "Active"
    screenshot("04-mentor-resumed")

    # Preview the expiry job, then run it for real.
    page.goto(f"{base}/admin/certifications/expiryjobrun/")
    page.click("#run-expiry-job")
    page.click("#preview-button")
    page.wait_for_selector("#preview")
    assert page.inner_text("#preview-expired-found") == "1"
    assert page.inner_text("#preview-auto-paused") == "1"
    assert "Katherine Johnson" in page.inner_text("#preview-items")
    screenshot("05-expiry-job-preview")
    assert Mentor.objects.get(mentor_id="mntr_01HX4V2K8PKJ").status == "active"  # the preview changed nothing
    page.click("#run-for-real")
    page.wait_for_selector("text=View expiry job run")  # the run's page (read-only)
    run = ExpiryJobRun.objects.get(trigger=JobTrigger.ADMIN, dry_run=False)
    assert (run.state, run.auto_paused, run.requested_by.username) == ("succeeded", 1, "coordinator")
    assert any(re.match(rf"Expiry job {run.job_run_id} succeeded", text) for text in _message_texts(page))
    screenshot("06-expiry-job-run")

    # The log: last night's pause of Maya, her resume by the renewal, and Katherine's pause just now.
    page.get_by_role("link", name="Entries written by this run").click()
    assert page.locator("#result_list tbody tr").count() == 1
    page.goto(f"{base}/admin/certifications/autopauselog/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 3
    table = page.inner_text("#result_list")
    assert "Certification peer_mentor_basic renewed until" in table
    assert "Katherine Johnson" in table
    screenshot("07-auto-pause-log")
    assert not page.locator("a.addlink").count()  # read-only: nothing to add
    assert AutoPauseLog.objects.filter(event=LogEvent.AUTO_RESUME, mentor__name="Maya Okafor").count() == 1
