"""The deliveries' and notices' gauges, read from their state tallies, equal real counts after every kind of write.

A job run writes deliveries and pause notices set-based (one statement each on
PostgreSQL); deliveries are then delivered, retried, failed, replayed, deleted
with their endpoint; notices sent, retried, failed, resent and requeued, and
written one at a time (a resume notice). After each step the scrape's
``certhub_webhook_deliveries`` and ``certhub_notifications`` equal a real grouped
count (decision 0044); the fold and a rebuild change nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Count
from django.test import Client

from certifications import services
from certifications.models import JobTrigger
from certifications.totals.models import StateTally
from certifications.totals.tallies import tallies_fold, tallies_rebuild
from events.delivery import deliveries_claim, deliveries_send
from events.endpoints import delivery_replay, endpoint_create, endpoint_delete, endpoint_send_test
from events.models import DeliveryState, WebhookDelivery
from notifications.models import Notification
from notifications.services import notification_resend, notification_send, notifications_requeue_stale
from tests.events.receiver import Reply, running_receiver
from tests.factories import TEST_ACTOR, cert_type
from tests.notifications.conftest import smtp  # noqa: F401 (a fixture)
from tests.operations.helpers import samples

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)
NOW = dt.datetime(2026, 3, 26, 8, 0, tzinfo=dt.UTC)
GAUGES = {WebhookDelivery: "certhub_webhook_deliveries", Notification: "certhub_notifications"}


def scraped(model) -> dict[str, int]:
    """The gauge's samples of one scrape, by state (zeros left out)."""
    response = Client().get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    found = {}
    for sample in samples(response.content.decode()):
        if sample.name == GAUGES[model] and sample.value:
            found[sample.labels["state"]] = int(sample.value)
    return found


def counted(model) -> dict[str, int]:
    return dict(model.objects.order_by().values_list("state").annotate(n=Count("*")))


def exact(model) -> dict[str, int]:
    """The gauge's samples, once checked equal to a real count."""
    found = scraped(model)
    assert found == counted(model)
    return found


def lapsed_records(count: int, *, email: str = "") -> None:
    """``count`` records of as many mentors that lapsed three days before ``NOW`` (written through the services)."""
    for n in range(count):
        mentor_id = f"mntr_{email[:1].upper() or 'Z'}{n:09d}"
        services.mentor_create(mentor_id=mentor_id, now=NOW - 900 * DAY, by=TEST_ACTOR, email=email)
        services.certification_create(
            mentor_id=mentor_id,
            certification_type=cert_type("peer_mentor_basic"),
            issued_at=NOW - 800 * DAY,
            expires_at=NOW - 3 * DAY,
            now=NOW - 800 * DAY,
            by=TEST_ACTOR,
        )


def send_due(now: dt.datetime) -> None:
    claim = deliveries_claim(now=now)
    assert claim.pks
    deliveries_send(pks=claim.pks, token=claim.token, now=now)


def test_the_delivery_gauge_equals_a_real_count_after_the_job_sends_retries_failures_replays_and_deletes(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOK_DISPATCH_ON_COMMIT = False
    settings.WEBHOOK_RETRY_SCHEDULE = [60.0]  # one retry, then failed
    lapsed_records(3)
    with running_receiver() as good, running_receiver() as bad:
        bad.default = Reply(status=503)
        endpoint_create(url=good.url, now=NOW)
        failing = endpoint_create(url=bad.url, now=NOW)
        assert exact(WebhookDelivery) == {}

        # The job: 3 expired and 3 paused events in three batches (and the run's own), each to both endpoints.
        run = services.expiry_job_run(now=NOW, trigger=JobTrigger.CLI, batch_size=1)
        assert run.expired_found == 3
        total = WebhookDelivery.objects.count()
        assert total >= 12
        assert exact(WebhookDelivery) == {"pending": total}

        # One sweep: the good receiver's delivered, the bad one's pending for a retry.
        send_due(NOW)
        after_sweep = exact(WebhookDelivery)
        assert after_sweep["delivered"] >= 6 and after_sweep["pending"] >= 6

        # The retries fail too: failed for good.
        send_due(NOW + dt.timedelta(seconds=61))
        after_retry = exact(WebhookDelivery)
        assert after_retry["failed"] >= 6 and after_retry["delivered"] >= after_sweep["delivered"]

        # A replay of a failed and of a delivered one; a pending one is left as it is.
        for state in (DeliveryState.FAILED, DeliveryState.DELIVERED):
            assert delivery_replay(delivery=WebhookDelivery.objects.filter(state=state).first(), now=NOW)
        assert not delivery_replay(delivery=WebhookDelivery.objects.filter(state="pending").first(), now=NOW)
        replayed = exact(WebhookDelivery)
        assert replayed["pending"] == after_retry.get("pending", 0) + 2

        # A test event to one endpoint, then the failing endpoint deleted with its deliveries.
        endpoint_send_test(endpoint=failing, now=NOW)
        assert exact(WebhookDelivery)["pending"] == replayed["pending"] + 1
        endpoint_delete(endpoint=failing)
        assert "failed" not in (kept := exact(WebhookDelivery))

    # The fold sums the deltas into one row per state; a rebuild recounts the same.
    assert StateTally.objects.count() > len(kept)
    tallies_fold()
    assert StateTally.objects.filter(counted="events.webhookdelivery").count() == len(kept)
    assert exact(WebhookDelivery) == kept
    tallies_rebuild()
    assert exact(WebhookDelivery) == kept


def test_the_notification_gauge_equals_a_real_count_after_the_job_sends_retries_failures_resends_and_requeues(
    settings,
    smtp,  # noqa: F811 (the fixture)
):
    settings.WEBHOOK_DISPATCH_ON_COMMIT = False
    lapsed_records(3, email="mentor@example.org")
    lapsed_records(1)  # a mentor without an address: a skipped notice
    services.expiry_job_run(now=NOW, trigger=JobTrigger.CLI, batch_size=2)
    assert exact(Notification) == {"queued": 3, "skipped": 1}

    first, second, third = Notification.objects.filter(state="queued").order_by("pk")
    assert notification_send(notification_id=first.notification_id, now=NOW, last_attempt=False) == "sent"
    assert notification_send(notification_id=first.notification_id, now=NOW, last_attempt=False) == "nothing"
    assert exact(Notification) == {"queued": 2, "sent": 1, "skipped": 1}

    # The mail server is unreachable: a retry stays queued, a last attempt is failed.
    settings.EMAIL_PORT = 9
    assert notification_send(notification_id=second.notification_id, now=NOW, last_attempt=False) == "retry"
    assert exact(Notification) == {"queued": 2, "sent": 1, "skipped": 1}
    assert notification_send(notification_id=second.notification_id, now=NOW, last_attempt=True) == "failed"
    assert exact(Notification) == {"queued": 1, "sent": 1, "failed": 1, "skipped": 1}

    # Staff resend the failed one; the reaper nudges the queued ones again (no state moves).
    assert notification_resend(notification=second)
    assert not notification_resend(notification=third)
    assert notifications_requeue_stale(now=NOW + DAY) == 2
    assert exact(Notification) == {"queued": 2, "sent": 1, "skipped": 1}

    # A renewal resumes a paused mentor automatically: one resume notice, written alone.
    record = services.certification_create(
        mentor_id=first.mentor.mentor_id,
        certification_type=cert_type("peer_mentor_basic"),
        issued_at=NOW,
        expires_at=NOW + 700 * DAY,
        now=NOW,
        by=TEST_ACTOR,
    )
    assert record is not None
    assert exact(Notification) == {"queued": 3, "sent": 1, "skipped": 1}

    tallies_fold()
    assert exact(Notification) == {"queued": 3, "sent": 1, "skipped": 1}
    tallies_rebuild()
    assert exact(Notification) == {"queued": 3, "sent": 1, "skipped": 1}
