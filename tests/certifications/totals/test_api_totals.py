"""The list envelope's ``total`` comes from the maintained counts when the filters allow, and stays exact."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from certifications.models import Certification
from tests.certifications.totals.helpers import NOW, random_write, stray_delta
from tests.factories import cert_type

pytestmark = pytest.mark.django_db

BASE = "/api/v1/certifications"


@pytest.fixture
def records():
    rng = random.Random(11)
    types = [cert_type("peer_mentor_basic"), cert_type("peer_mentor_advanced")]
    for _ in range(60):
        random_write(rng, now=NOW, types=types)
    return Certification.objects.alive()


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"status": "expired"},
        {"status": "valid,revoked", "certification_type": "peer_mentor_advanced"},
        {"status": "expired", "expires_before": "2026-01-01T00:00:00Z"},
        {"expires_after": "2025-11-03T07:12:00Z", "expires_before": "2026-09-14T13:00:00+02:00"},
        {"expires_after": "2026-02-01", "ordering": "-expires_at"},
    ],
)
def test_the_total_is_exact_for_every_filter_the_tallies_serve(anon_client, records, params):
    response = anon_client.get(BASE, params)
    assert response.status_code == 200
    expected = records
    if "status" in params:
        expected = expected.filter(status__in=params["status"].split(","))
    if "certification_type" in params:
        expected = expected.filter(certification_type__code=params["certification_type"])
    if "expires_before" in params:
        expected = expected.filter(expires_at__lt=dt.datetime.fromisoformat(params["expires_before"]))
    if "expires_after" in params:
        moment = dt.datetime.fromisoformat(params["expires_after"])
        expected = expected.filter(expires_at__gte=moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC))
    assert response.json()["pagination"]["total"] == expected.count() > 0


def test_the_total_is_read_from_the_tallies_not_counted(anon_client, records):
    """A stray delta shows in the unfiltered total: the envelope trusts the maintained count."""
    real = records.count()
    stray_delta(cert_type(), dt.date(2026, 1, 1), valid=5)
    assert anon_client.get(BASE).json()["pagination"]["total"] == real + 5


def test_a_filter_the_tallies_do_not_keep_is_counted(anon_client, records):
    stray_delta(cert_type(), dt.date(2026, 1, 1), valid=5)
    issued = anon_client.get(BASE, {"issued_after": "2000-01-01"}).json()["pagination"]["total"]
    flagged = anon_client.get(BASE, {"auto_pause_applied": "false"}).json()["pagination"]["total"]
    assert issued == flagged == records.count()
