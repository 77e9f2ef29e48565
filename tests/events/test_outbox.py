"""Every write path writes its events, and one delivery per matching active endpoint, in its transaction."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from certifications import services
from certifications.models import Certification, Mentor, MentorStatus
from events.models import DeliveryState, Event, WebhookDelivery
from tests.events.helpers import endpoint
from tests.factories import TEST_ACTOR, CertificationFactory, MentorFactory

pytestmark = pytest.mark.django_db
UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 1, 0, tzinfo=UTC)


def types() -> list[str]:
    return list(Event.objects.order_by("id").values_list("type", flat=True))


def test_a_record_written_through_its_lifecycle_leaves_one_event_per_change():
    result = services.certification_create(
        by=TEST_ACTOR, mentor_id="mntr_01HX4V2K8P", certification_type="peer_mentor_basic", issued_at=NOW, now=NOW
    )
    cert = result.certification
    services.certification_renew(by=TEST_ACTOR, certification=cert, now=NOW, expires_at=NOW + dt.timedelta(days=2000))
    services.certification_revoke(
        by=TEST_ACTOR, certification=Certification.objects.get(pk=cert.pk), now=NOW, reason="audit"
    )
    services.certification_delete(by=TEST_ACTOR, certification=Certification.objects.get(pk=cert.pk), now=NOW)
    services.certification_restore(by=TEST_ACTOR, certification=Certification.objects.get(pk=cert.pk), now=NOW)
    assert types() == [
        "certification.created",
        "certification.renewed",
        "certification.revoked",
        "certification.deleted",
        "certification.restored",
    ]
    created = Event.objects.order_by("id").first()
    assert created.event_id.startswith("evt_") and len(created.event_id) == 16
    assert created.occurred_at == NOW
    assert created.data == {
        "certification_id": cert.certification_id,
        "mentor_id": "mntr_01HX4V2K8P",
        "certification_type": "peer_mentor_basic",
        "status": "valid",
        "issued_at": "2026-03-26T01:00:00Z",
        "expires_at": created.data["expires_at"],
        "revoked_at": None,
        "deleted_at": None,
    }
    renewed = Event.objects.get(type="certification.renewed")
    assert renewed.data["previous_expires_at"] == created.data["expires_at"]
    assert Event.objects.filter(sequence__isnull=False).count() == 0  # published only when the feed is read


def test_a_write_that_rolls_back_leaves_no_event_and_no_delivery():
    endpoint()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.certification_create(
            by=TEST_ACTOR, mentor_id="mntr_01HX4V2K8P", certification_type="peer_mentor_basic", issued_at=NOW, now=NOW
        )
        raise RuntimeError("the request failed after the write")
    assert not Event.objects.exists() and not WebhookDelivery.objects.exists()


def test_staff_pause_and_resume_are_events_without_names_or_emails():
    mentor = MentorFactory(name="Ada Okafor", email="ada@example.org")
    services.mentor_pause(by=TEST_ACTOR, mentor=mentor, now=NOW, reason="On leave")
    services.mentor_resume(by=TEST_ACTOR, mentor=mentor, now=NOW)
    paused, resumed = Event.objects.order_by("id")
    assert paused.type == "mentor.paused"
    assert paused.data == {
        "mentor_id": mentor.mentor_id,
        "status": "paused",
        "paused_by": "staff",
        "paused_at": "2026-03-26T01:00:00Z",
    }
    assert resumed.type == "mentor.resumed"
    assert resumed.data["resumed_by"] == "staff" and resumed.data["was_paused_by"] == "staff"
    for event in (paused, resumed):
        assert "Ada" not in str(event.data) and "example.org" not in str(event.data)


def test_the_job_writes_expired_paused_and_completed_events_and_a_renewal_resumes():
    mentors = [MentorFactory() for _ in range(3)]
    certs = [
        CertificationFactory(
            mentor=mentor,
            issued_at=dt.datetime(2022, 1, 1, tzinfo=UTC),
            expires_at=dt.datetime(2026, 3, 1, tzinfo=UTC),
        )
        for mentor in mentors
    ]
    run = services.expiry_job_run(now=NOW, batch_size=2)
    assert run.auto_paused == 3
    assert types() == ["certification.expired"] * 3 + ["mentor.paused"] * 3 + ["expiry_job.completed"]
    expired = Event.objects.filter(type="certification.expired").order_by("id")
    assert [event.data["certification_id"] for event in expired] == [cert.certification_id for cert in certs]
    assert {event.data["mentor_id"] for event in Event.objects.filter(type="mentor.paused")} == {
        mentor.mentor_id for mentor in mentors
    }
    completed = Event.objects.get(type="expiry_job.completed")
    assert completed.data["job_run_id"] == run.job_run_id and completed.data["auto_paused"] == 3

    services.certification_renew(
        by=TEST_ACTOR, certification=certs[0], now=NOW, expires_at=NOW + dt.timedelta(days=400)
    )
    assert Mentor.objects.get(pk=mentors[0].pk).status == MentorStatus.ACTIVE
    resumed = Event.objects.get(type="mentor.resumed")
    assert resumed.data["resumed_by"] == "auto" and resumed.data["certification_id"] == certs[0].certification_id


def test_a_dry_run_writes_no_event():
    CertificationFactory(expires_at=dt.datetime(2026, 3, 1, tzinfo=UTC))
    services.expiry_job_run(now=NOW, dry_run=True)
    assert not Event.objects.exists()


def test_one_delivery_per_event_and_matching_active_endpoint():
    every = endpoint()
    pauses_only = endpoint(event_types=["mentor.paused"])
    endpoint(active=False)
    mentor = MentorFactory()
    services.mentor_pause(by=TEST_ACTOR, mentor=mentor, now=NOW, reason="")
    services.mentor_resume(by=TEST_ACTOR, mentor=mentor, now=NOW)
    deliveries = WebhookDelivery.objects.select_related("event", "endpoint")
    assert sorted((d.event.type, d.endpoint_id) for d in deliveries) == sorted(
        [("mentor.paused", every.pk), ("mentor.paused", pauses_only.pk), ("mentor.resumed", every.pk)]
    )
    for delivery in deliveries:
        assert delivery.state == DeliveryState.PENDING and delivery.next_attempt_at == NOW
        assert delivery.delivery_id == "whd_" + delivery.event.event_id[4:] + delivery.endpoint.endpoint_id[4:]


def _job_queries(batch_size: int) -> int:
    """Statements of one job run over the seeded due records, rolled back after."""
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            run = services.expiry_job_run(now=NOW, batch_size=batch_size)
        assert run.auto_paused == 40
        transaction.set_rollback(True)
    return len(queries)


def test_the_job_pausing_many_mentors_with_two_endpoints_writes_events_and_deliveries_set_based():
    first, second = endpoint(), endpoint(event_types=["mentor.paused"])
    mentors = MentorFactory.create_batch(40)
    for mentor in mentors:
        CertificationFactory(mentor=mentor, expires_at=dt.datetime(2026, 3, 1, tzinfo=UTC))
    # A fixed number of statements per batch, whatever its size: 2 batches cost one batch more than 1.
    one, two, four = _job_queries(40), _job_queries(20), _job_queries(10)
    assert four - two == 2 * (two - one) and two > one

    with transaction.atomic():
        run = services.expiry_job_run(now=NOW, batch_size=20)
    assert run.auto_paused == 40
    assert Event.objects.filter(type="certification.expired").count() == 40
    assert Event.objects.filter(type="mentor.paused").count() == 40
    assert Event.objects.filter(type="expiry_job.completed").count() == 1
    # The first endpoint takes every event (81), the second the pauses only (40).
    assert WebhookDelivery.objects.filter(endpoint=first).count() == 81
    assert WebhookDelivery.objects.filter(endpoint=second).count() == 40
    assert set(WebhookDelivery.objects.filter(endpoint=second).values_list("event__data__mentor_id", flat=True)) == {
        mentor.mentor_id for mentor in mentors
    }


@pytest.mark.postgres
def test_the_jobs_events_built_in_sql_are_those_built_in_python():
    """On PostgreSQL the job's hooks build events and deliveries in one statement: the same rows as ``events_write``."""
    from certifications.models import ExpiryJobRun
    from events import outbox
    from events.outbox import endpoint_wants, expired_items, paused_items

    everything = endpoint()
    expired_only = endpoint(event_types=["certification.expired"])
    endpoint(active=False)
    endpoint(event_types=["mentor.resumed"])
    certs = [
        CertificationFactory(
            issued_at=dt.datetime(2023, 3, 1, 9, 30, 15, 250_000, tzinfo=UTC),
            expires_at=dt.datetime(2026, 3, 1, 23, 59, 59, 999_999, tzinfo=UTC),
        )
        for _ in range(5)
    ]
    run = ExpiryJobRun.objects.create(job_run_id="job_26MAR2026_01", started_at=NOW)
    pks = sorted(cert.pk for cert in certs)[1:]
    mentors = sorted(cert.mentor_id for cert in certs)[:3]

    outbox.job_records_expired(pks=pks, now=NOW, run=run)
    outbox.job_batch_applied(flagged=pks, paused=mentors, now=NOW, run=run)

    expected = expired_items(pks=pks, run=run) + paused_items(paused=mentors, now=NOW, run=run)
    events = list(Event.objects.order_by("id"))
    assert [(event.type, event.data) for event in events] == expected
    assert all(event.occurred_at == NOW and len(event.event_id) == 16 for event in events)
    assert len({event.event_id for event in events}) == len(events)
    wanted = {
        (event.pk, hook.pk)
        for event in events
        for hook in (everything, expired_only)
        if endpoint_wants(hook.event_types, event.type)
    }
    deliveries = WebhookDelivery.objects.select_related("event", "endpoint")
    assert {(d.event_id, d.endpoint_id) for d in deliveries} == wanted
    assert len(wanted) == 2 * 4 + 3
    for delivery in deliveries:
        assert delivery.delivery_id == outbox.delivery_id_for(delivery.event.event_id, delivery.endpoint.endpoint_id)
        assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (DeliveryState.PENDING, 0, NOW)
        assert delivery.created_at == NOW
