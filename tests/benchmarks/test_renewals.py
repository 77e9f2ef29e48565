"""bench_renewals: the renewal queue's pages and one-by-one approvals on the data set in place."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from certifications.models import Certification, RenewalRequest
from tests.factories import CertificationFactory


@pytest.fixture(autouse=True)
def _evidence_in_tmp(settings, tmp_path):
    settings.RENEWAL_EVIDENCE_STORAGE = {**settings.RENEWAL_EVIDENCE_STORAGE, "DIR": str(tmp_path)}


@pytest.mark.django_db
def test_it_pages_the_queue_approves_one_by_one_and_cleans_up():
    for _ in range(12):
        CertificationFactory(expires_at=timezone.now() - dt.timedelta(days=3))
    out = io.StringIO()
    call_command("bench_renewals", "--pending", "10", "--approvals", "4", "--limit", "3", "--json", stdout=out)
    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert figures["list"]["pages"] == 4 and len(figures["list"]["queries_per_page"]) == 1
    assert 0 < figures["approve"]["p50_ms"] <= figures["approve"]["p99_ms"] <= figures["approve"]["max_ms"]
    assert list(RenewalRequest.objects.values_list("state", flat=True)) == ["approved"] * 4  # the pending ones go
    assert Certification.objects.count() == 16  # the approvals are renewals
    assert not User.objects.filter(username="bench-renewals").exists()


@pytest.mark.django_db
def test_it_refuses_a_database_with_too_few_mentors():
    with pytest.raises(CommandError, match="seed a data set first"):
        call_command("bench_renewals", "--pending", "5", "--approvals", "1", stdout=io.StringIO())
