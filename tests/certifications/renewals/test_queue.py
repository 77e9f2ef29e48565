"""The renewal queue at scale: a page's statements and an approval's are fixed, whatever the queue's length."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from certifications.models import Certification, RenewalRequest, SubmittedVia
from tests.certifications.api_helpers import client_with
from tests.factories import CertificationFactory, MentorFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/renewal-requests"
REVIEWER = ("view_renewalrequest", "review_renewalrequest")


def pending(cert: Certification, *, age: dt.timedelta, number: int) -> RenewalRequest:
    """A pending request to renew ``cert``, filed ``age`` ago (its evidence a name only: no file is read)."""
    now = timezone.now()
    return RenewalRequest.objects.create(
        renewal_request_id=f"rnw_{number:010d}",
        mentor=cert.mentor,
        certification_type=cert.certification_type,
        issued_at=now - dt.timedelta(days=2),
        evidence=f"bench/{number}.pdf",
        evidence_content_type="application/pdf",
        evidence_size=100,
        submitted_via=SubmittedVia.API,
        created_at=now - age,
    )


def expired_record(**mentor) -> Certification:
    now = timezone.now()
    return CertificationFactory(
        mentor=MentorFactory(**mentor),
        issued_at=now - dt.timedelta(days=3 * 365),
        expires_at=now - dt.timedelta(days=3),
        status="expired",
    )


def queue(size: int) -> list[str]:
    """``size`` pending requests, each of its own mentor, filed in an order that is not their ids' (oldest first)."""
    made = [pending(expired_record(), age=dt.timedelta(minutes=(n * 7) % size + 1), number=n) for n in range(size)]
    return [r.renewal_request_id for r in sorted(made, key=lambda r: (r.created_at, r.pk))]


def test_every_page_is_oldest_first_and_costs_the_same_statements(django_assert_num_queries):
    oldest_first = queue(23)
    RenewalRequest.objects.filter(renewal_request_id=oldest_first[4]).update(
        state="withdrawn", decided_at=timezone.now()
    )
    waiting = [rid for rid in oldest_first if rid != oldest_first[4]]
    client = client_with(*REVIEWER)
    client.get(BASE)  # the first request of a client reads its content types once

    seen = []
    for page in (1, 2, 3):
        # the token, the user's and the groups' permissions, the total, the page (ids from the index, then rows)
        with django_assert_num_queries(5):
            body = client.get(BASE, {"state": "pending", "limit": 10, "page": page}).json()
        seen += [row["renewal_request_id"] for row in body["data"]]
        assert body["pagination"] == {"page": page, "limit": 10, "total": 22}
    assert seen == waiting
    with django_assert_num_queries(4):  # past the end: no page is read
        assert client.get(BASE, {"state": "pending", "limit": 10, "page": 4}).json()["data"] == []


@pytest.mark.parametrize(
    ("mentor", "statements"),
    [
        # the token and permissions (3); the request read, then locked; the duplicate check; the record, its
        # history, tallies, event (an id check, the insert, the endpoints); the auto-resume's lock and flags; the
        # request's update and event; its notice and the notices' per-state tally; and the savepoints of the
        # nested writes
        ({}, 28),
        # and the resume: lapsed check, update, its log, history, tallies, event (3), the mentor's notice and its tally
        ({"status": "paused", "paused_by": "auto", "paused_at": timezone.now()}, 42),
    ],
    ids=["active", "auto-paused"],
)
def test_an_approval_costs_a_fixed_number_of_statements(django_assert_num_queries, mentor, statements):
    requests = [pending(expired_record(**mentor), age=dt.timedelta(minutes=n + 1), number=n) for n in range(3)]
    client = client_with(*REVIEWER)
    client.post(f"{BASE}/{requests[0].renewal_request_id}/approve", format="json")  # the client's first request

    for request in requests[1:]:
        with django_assert_num_queries(statements):
            response = client.post(f"{BASE}/{request.renewal_request_id}/approve", format="json")
        assert response.status_code == 200, response.content
        assert response.json()["state"] == "approved"
    assert RenewalRequest.objects.filter(state="approved").count() == 3
