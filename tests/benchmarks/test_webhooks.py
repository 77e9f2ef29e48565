"""The webhook benchmarks: the job and its floor write the same events and deliveries; throughput runs."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from events.models import Event, WebhookDelivery, WebhookEndpoint


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_two_endpoints_the_job_and_the_floor_leave_the_same_events_and_deliveries():
    out = io.StringIO()
    args = ("--certs", "5000", "--due", "100", "--naive-sample", "10", "--endpoints", "2", "--json")
    call_command("bench_expiry", *args, stdout=out)
    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert figures["identical"] is True and figures["endpoints"] == 2
    assert figures["differences"]["event"] == 0 and figures["differences"]["delivery"] == 0
    # The command removes its endpoints and the contenders' events.
    assert not WebhookEndpoint.objects.exists() and not Event.objects.exists()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bench_webhooks_delivers_everything_and_reports_both_throughputs():
    out = io.StringIO()
    call_command("bench_webhooks", "--deliveries", "60", "--json", stdout=out)
    figures = json.loads(out.getvalue().strip().splitlines()[-1])
    assert figures["deliveries"] == 60 and figures["bare_ok"] == 60
    assert figures["product_per_s"] > 0 and figures["bare_per_s"] > 0
    assert figures["ratio"] == pytest.approx(figures["product_per_s"] / figures["bare_per_s"], rel=0.01)
    assert not WebhookDelivery.objects.exists()
