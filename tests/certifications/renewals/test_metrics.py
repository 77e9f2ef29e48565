"""The renewal queue on ``/metrics``: how many requests wait, and how long the oldest has waited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from certifications.services import renewal_request_reject, renewal_request_submit
from tests.certifications.renewals.conftest import upload
from tests.factories import TEST_ACTOR, CertificationFactory
from tests.operations.helpers import value

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def scrape() -> str:
    response = Client().get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    return response.content.decode()


def submit(cert, at: dt.datetime):
    return renewal_request_submit(
        mentor_id=cert.mentor.mentor_id,
        certification_type=cert.certification_type.code,
        issued_at=dt.datetime(2026, 2, 20, tzinfo=UTC),
        evidence=upload(),
        now=at,
        by=TEST_ACTOR,
    )


def test_the_queue_gauges_count_pending_requests_and_age_the_oldest(lapsed, now):
    text = scrape()
    assert value(text, "certhub_renewal_requests_pending") == 0
    assert "certhub_renewal_requests_oldest_pending_age_seconds 0.0" in text  # present, at zero

    other = CertificationFactory(certification_type=lapsed.certification_type)
    decided = submit(lapsed, now - dt.timedelta(days=4))
    renewal_request_reject(renewal_request=decided, reason="Unreadable scan", now=now, by=TEST_ACTOR)
    oldest_pending = now - dt.timedelta(days=2)
    submit(lapsed, oldest_pending)
    submit(other, now - dt.timedelta(days=1))
    before = timezone.now()
    text = scrape()
    after = timezone.now()

    assert value(text, "certhub_renewal_requests_pending") == 2  # the rejected one no longer waits
    age = value(text, "certhub_renewal_requests_oldest_pending_age_seconds")
    assert (before - oldest_pending).total_seconds() <= age <= (after - oldest_pending).total_seconds()
