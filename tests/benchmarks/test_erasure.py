"""bench_erasure: seeds a data set, adds history and notices at its scale, erases the busiest mentors, times each."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from certifications.history.models import HistoryEntry
from certifications.models import Mentor
from notifications.models import Notification


@pytest.mark.postgres
@pytest.mark.django_db
def test_it_seeds_fills_and_erases_the_busiest_mentors():
    out = io.StringIO()
    call_command("bench_erasure", "--certs", "300", "--erase", "3", "--json", "--verbosity", "0", stdout=out)
    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert (figures["certifications"], figures["erased"]) == (300, 3)
    assert 0 < figures["p50_ms"] <= figures["max_ms"] and figures["statements"] > 0
    assert Mentor.objects.filter(erased_at__isnull=False).count() == 3
    assert Notification.objects.count() == Mentor.objects.count()  # one sent notice per mentor
    assert HistoryEntry.objects.filter(subject="certification").count() == 300
    # A second run finds the data set in place and erases the next busiest mentors.
    call_command("bench_erasure", "--erase", "2", "--verbosity", "0", stdout=io.StringIO())
    assert Mentor.objects.filter(erased_at__isnull=False).count() == 5


@pytest.mark.django_db
def test_it_measures_postgresql_only():
    from django.db import connection

    if connection.vendor == "postgresql":
        pytest.skip("the refusal is for other databases")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("bench_erasure", "--certs", "10", stdout=io.StringIO())
