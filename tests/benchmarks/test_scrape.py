"""``manage.py bench_scrape``: it seeds deliveries and notices, checks the state gauges against them, and reports."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from events.models import WebhookDelivery
from notifications.models import Notification


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bench_scrape_seeds_deliveries_and_notices_and_reports_a_scrape_of_them():
    out = io.StringIO()
    options = ("--certs", "300", "--deliveries", "101", "--notifications", "40", "--scrapes", "3", "--requests", "10")
    call_command("bench_scrape", *options, "--json", stdout=out)

    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert (figures["deliveries"], figures["notifications"]) == (101, 40)
    assert WebhookDelivery.objects.filter(state="delivered").count() == 97
    assert Notification.objects.filter(state="sent").count() == 36
    assert figures["queries_per_scrape"] == 9
    assert figures["scrape_p99_ms"] >= figures["scrape_median_ms"] > 0
    assert figures["database_ms"] > 0
