"""The gauges read at scrape time equal real counts after writes through every door, at a fixed query count.

The mentors' gauge is read from a maintained tally (decision 0034): it is compared
with a real grouped count after the API, an admin action, an import, the job and
an auto-resume wrote; a scrape's statements are pinned and do not grow with the data.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from certifications import services
from certifications.models import JobTrigger, Mentor
from tests.certifications.admin.helpers import MENTORS as ADMIN_MENTORS
from tests.certifications.admin.helpers import act, staff_user
from tests.certifications.api_helpers import client_with
from tests.certifications.test_api_import import URL as IMPORT_URL
from tests.certifications.test_api_import import csv
from tests.certifications.totals.helpers import mentors_counted
from tests.factories import TEST_ACTOR, cert_type
from tests.operations.helpers import samples

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)
# The gauges' statements of one scrape: the mentors' tally, the last successful run (one read
# for its four figures), the outbox (2), deliveries and notices by state (one read of their tally),
# disabled endpoints, the oldest queued notice, the pending renewal requests and the oldest of them.
SCRAPE_QUERIES = 9


def scraped_mentors() -> dict[tuple[str, str], int]:
    """The ``certhub_mentors`` samples of a scrape, as ``mentors_counted()`` spells them (zeros left out)."""
    response = Client().get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    found = {}
    for sample in samples(response.content.decode()):
        if sample.name == "certhub_mentors" and sample.value:
            by = sample.labels["paused_by"]
            found[(sample.labels["status"], "" if by == "none" else by)] = int(sample.value)
    return found


def test_the_mentor_gauge_equals_a_real_count_after_writes_through_every_door(client):
    cert_type("peer_mentor_basic")
    now = timezone.now()
    api = client_with("add_certification", "change_certification", "view_certification", "view_mentor", "change_mentor")

    def create(mentor_id: str, expires: dt.datetime) -> dict:
        body = {
            "mentor_id": mentor_id,
            "certification_type": "peer_mentor_basic",
            "issued_at": (expires - 700 * DAY).isoformat(),
            "expires_at": expires.isoformat(),
        }
        response = api.post("/api/v1/certifications", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    # The API: records that create their mentors, a staff pause and a resume.
    lapsed = create("mntr_0000000A01", now - 3 * DAY)
    create("mntr_0000000A02", now + 300 * DAY)
    create("mntr_0000000A03", now + 300 * DAY)
    assert api.post("/api/v1/mentors/mntr_0000000A02/pause", {"reason": "On leave"}, format="json").status_code == 200
    assert api.post("/api/v1/mentors/mntr_0000000A02/resume", format="json").status_code == 200
    assert api.post("/api/v1/mentors/mntr_0000000A03/pause", {"reason": "Review"}, format="json").status_code == 200
    assert scraped_mentors() == mentors_counted() == {("active", ""): 2, ("paused", "staff"): 1}

    # An admin action: a coordinator pauses a mentor.
    client.force_login(staff_user("coordinator", groups=("Coordinators",)))
    act(client, ADMIN_MENTORS, "pause", [Mentor.objects.get(mentor_id="mntr_0000000A02")], apply="Pause", reason="R")
    assert scraped_mentors() == mentors_counted() == {("active", ""): 1, ("paused", "staff"): 2}

    # An import: two new mentors, one of them holding a lapsed record.
    rows = [
        f"mntr_0000000B01,peer_mentor_basic,{(now - 800 * DAY).date()},{(now - 2 * DAY).date()},,,,",
        f"mntr_0000000B02,peer_mentor_basic,{(now - 10 * DAY).date()},,,,,",
    ]
    importer = client_with("add_certification", "change_certification", "view_certification")
    response = importer.post(IMPORT_URL, data=csv(*rows), content_type="text/csv")
    assert response.status_code in (200, 201), response.content
    assert scraped_mentors() == mentors_counted() == {("active", ""): 3, ("paused", "staff"): 2}

    # The job pauses the two mentors holding a lapsed record, in two batches.
    run = services.expiry_job_run(now=now, trigger=JobTrigger.CLI, batch_size=1)
    assert run.auto_paused == 2
    assert scraped_mentors() == mentors_counted() == {("active", ""): 1, ("paused", "auto"): 2, ("paused", "staff"): 2}

    # A renewal through the API (its expiry moved later) resumes its mentor automatically.
    renewed = {"expires_at": (now + 300 * DAY).isoformat()}
    response = api.patch(f"/api/v1/certifications/{lapsed['certification_id']}", renewed, format="json")
    assert response.status_code == 200, response.content
    assert scraped_mentors() == mentors_counted() == {("active", ""): 2, ("paused", "auto"): 1, ("paused", "staff"): 2}


def _scrape_queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        assert Client().get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    return len(queries)


def test_a_scrape_reads_a_fixed_number_of_statements_whatever_the_data():
    cert_type("peer_mentor_basic")
    now = timezone.now()
    assert _scrape_queries() == SCRAPE_QUERIES
    for n in range(6):
        services.certification_create(
            mentor_id=f"mntr_00000000C{n}",
            certification_type=cert_type("peer_mentor_basic"),
            issued_at=now - 800 * DAY,
            expires_at=now - (n + 1) * DAY,
            now=now,
            by=TEST_ACTOR,
        )
    for day in range(3):
        services.expiry_job_run(now=now + day * DAY, trigger=JobTrigger.CLI, batch_size=2)
    assert _scrape_queries() == SCRAPE_QUERIES
