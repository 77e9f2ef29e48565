"""Reading an exposition: the samples of a scrape, and the series DESIGN names."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

# Every series DESIGN's "Operations" names (the renewal request gauges come with the requests).
DESIGN_SERIES = {
    "certhub_outbox_pending_events",
    "certhub_outbox_oldest_pending_age_seconds",
    "certhub_webhook_deliveries",
    "certhub_webhook_endpoints_disabled",
    "certhub_notifications",
    "certhub_notifications_oldest_queued_age_seconds",
    "certhub_expiry_job_last_success_timestamp_seconds",
    "certhub_expiry_job_last_duration_seconds",
    "certhub_mentors",
    "certhub_http_requests_total",
    "certhub_http_request_duration_seconds_bucket",
    "certhub_celery_tasks_total",
    "certhub_renewal_requests_pending",
    "certhub_renewal_requests_oldest_pending_age_seconds",
}


def samples(text: str) -> list:
    """Every sample of an exposition (name, labels, value)."""
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels`` (0 when none)."""
    return sum(s.value for s in samples(text) if s.name == name and labels.items() <= s.labels.items())
