"""The admin index's dashboard: its figures, who sees it, where its links lead."""

from __future__ import annotations

import re

import pytest

from certifications import services
from certifications.models import (
    JobTrigger,
)
from tests.certifications.admin.helpers import (
    DAY,
    RUN_PAGE,
    auto_paused_cert,
    clock,
    listed_ids,
    make_cert,
    staff_user,
)
from tests.factories import TEST_ACTOR, CertificationFactory, MentorFactory

pytestmark = pytest.mark.django_db


def test_dashboard_counts_what_a_coordinator_checks_first(coordinator_client):
    make_cert(days=10)
    make_cert(days=25)
    make_cert(days=100)
    make_cert(days=400)
    CertificationFactory(expires_at=clock() + 5 * DAY, deleted_at=clock())  # deleted: not counted
    lapsed = make_cert(days=-2)
    staff_paused = MentorFactory()
    services.mentor_pause(by=TEST_ACTOR, mentor=staff_paused, now=clock(), reason="On leave")
    auto = auto_paused_cert()
    # The job above applied ``lapsed`` too; a fresh one stays due.
    due = make_cert(days=-1)

    response = coordinator_client.get("/admin/")

    assert response.status_code == 200
    board = response.context["dashboard"]
    assert board.valid == 4
    assert board.expiring_soon == 2
    assert board.lapsed_awaiting_job == 1
    assert board.paused_auto == 2  # ``lapsed`` and ``auto``'s mentors
    assert board.paused_staff == 1
    assert board.last_run.trigger == JobTrigger.CLI
    assert sum(bar.count for bar in board.months) == 3  # the 400-day one is beyond 12 months
    assert len(board.months) == 12
    assert max(bar.percent for bar in board.months) == 100
    html = response.content.decode()
    assert 'id="expiry-chart"' in html
    # The page's random tokens and ids may spell anything; what it loads may not come from a CDN.
    assert not [url for url in re.findall(r'(?:src|href)="([^"]+)"', html) if "cdn" in url or "//" in url]
    assert board.last_run.job_run_id in html
    assert RUN_PAGE in html
    assert lapsed.pk and auto.pk and due.pk


def test_dashboard_says_when_nothing_expires_within_a_year(viewer_client):
    make_cert(days=500)
    response = viewer_client.get("/admin/")
    assert [bar.count for bar in response.context["dashboard"].months] == [0] * 12
    html = response.content.decode()
    assert "No valid certification expires in the next 12 months." in html
    assert RUN_PAGE not in html  # no run permission, no link to the run page


def test_dashboard_hidden_from_staff_who_cannot_view_certifications(client):
    client.force_login(staff_user("helpdesk"))
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "dashboard" not in response.context


def test_dashboard_links_filter_the_changelists(coordinator_client):
    soon = make_cert(days=10)
    make_cert(days=200)
    links = coordinator_client.get("/admin/").context["dashboard_links"]
    assert listed_ids(coordinator_client.get(links["expiring_soon"])) == {soon.certification_id}
    assert len(listed_ids(coordinator_client.get(links["valid"]))) == 2
