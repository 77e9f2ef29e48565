"""``/metrics``: every series DESIGN names, gauges that never vanish, bounded labels, who may scrape."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from certifications import services
from certifications.models import JobTrigger
from certifications.tasks import reap_expiry_runs
from certifications.totals.tallies import tallies_rebuild
from events.delivery import deliveries_claim, delivery_attempt
from events.endpoints import endpoint_create
from tests.events.receiver import running_receiver
from tests.factories import CertificationFactory, MentorFactory, cert_type
from tests.operations.helpers import DESIGN_SERIES, samples, value

pytestmark = pytest.mark.django_db
RAW_ID = re.compile(r"(cert|mntr|job|log|evt|whe|ntf|dlv)_[0-9A-Z]{6,}")


def scrape(client: Client | None = None, **extra) -> str:
    response = (client or Client()).get("/metrics", REMOTE_ADDR="127.0.0.1", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return response.content.decode()


def test_every_named_series_is_present_after_a_job_run_and_a_delivery(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOK_DISPATCH_ON_COMMIT = False
    now = timezone.now()
    lapsed = CertificationFactory(
        certification_type=cert_type(), issued_at=now - dt.timedelta(days=900), expires_at=now - dt.timedelta(days=3)
    )
    MentorFactory()  # an active mentor beside the one the job pauses
    tallies_rebuild()  # the factories wrote behind the services, as a bulk load does
    with running_receiver() as receiver:
        endpoint_create(url=receiver.url, now=now)
        run = services.expiry_job_run(now=now, trigger=JobTrigger.CLI, batch_size=1)
        claim = deliveries_claim(now=now)
        assert [delivery_attempt(pk=pk, token=claim.token, now=now) for pk in claim.pks]
    reap_expiry_runs.apply()  # a task, run the way a worker runs it (its signals included)
    client = Client()
    client.get(f"/api/v1/certifications/{lapsed.certification_id}")

    text = scrape(client)
    names = {sample.name for sample in samples(text)}
    assert names >= DESIGN_SERIES, DESIGN_SERIES - names
    assert value(text, "certhub_mentors", status="paused", paused_by="auto") == 1
    assert value(text, "certhub_mentors", status="active", paused_by="none") == 1
    assert value(text, "certhub_mentors", status="paused", paused_by="staff") == 0  # present, at zero
    assert value(text, "certhub_webhook_deliveries", state="delivered") >= 1
    assert {s.labels["state"] for s in samples(text) if s.name == "certhub_webhook_deliveries"} == {
        "pending",
        "delivered",
        "failed",
    }
    run.refresh_from_db()
    assert run.batches == 1 and value(text, "certhub_expiry_job_last_batches") == 1
    assert value(text, "certhub_expiry_job_last_success_timestamp_seconds") == run.completed_at.timestamp()
    assert value(text, "certhub_expiry_job_last_duration_seconds") == run.duration_seconds
    assert value(text, "certhub_celery_tasks_total", task=reap_expiry_runs.name, outcome="succeeded") >= 1


def test_routes_are_url_pattern_names_never_raw_paths():
    client = Client()
    before = scrape(client)
    for cert_id in ("cert_AAAAAAAA", "cert_BBBBBBBB", "cert_CCCCCCCC"):
        assert client.get(f"/api/v1/certifications/{cert_id}").status_code == 404
    client.get("/no/such/page/mntr_01HX4V2K8P")
    client.generic("BREW", "/healthz")
    text = scrape(client)
    labels = [v for s in samples(text) if s.name.startswith("certhub_http_") for v in s.labels.values()]
    assert not [v for v in labels if RAW_ID.search(v) or "/" in v], labels
    detail = {"method": "GET", "route": "certification-detail", "status": "404"}
    assert (
        value(text, "certhub_http_requests_total", **detail) - value(before, "certhub_http_requests_total", **detail)
        == 3
    )
    assert value(text, "certhub_http_requests_total", route="unmatched") >= 1
    assert value(text, "certhub_http_requests_total", method="other") >= 1  # an invented method is not a label


def test_outside_loopback_a_scrape_needs_the_bearer_token(settings):
    client = Client()
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 404
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 401
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    ok = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert ok.status_code == 200 and b"certhub_mentors" in ok.content


def test_loopback_is_open_only_while_the_setting_says_so(settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_OPEN_ON_LOOPBACK = False  # production's default
    assert Client().get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


def test_a_scrape_reads_a_fixed_number_of_queries(django_assert_max_num_queries):
    MentorFactory.create_batch(5)
    with django_assert_max_num_queries(12):
        scrape()
