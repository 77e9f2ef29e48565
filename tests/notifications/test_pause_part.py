"""The job batch's notices inside its own statement on PostgreSQL (decision 0051).

The batch statement writes the paused mentors' notices, their states' tally and
the mentors' tally move (``effects.job_batch_parts``): the rows must be those
the separate statements write (``pause_notices_create``, the ORM engine's road),
the tallies exact, a failure must roll the whole batch back, and a drawn notice
id already taken must not leave a mentor without their notice.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.models import Count

from certifications.models import JobState, JobTrigger, Mentor
from certifications.services import expiry_job_run, mentor_pause
from certifications.services.lapse import expiry_run_create
from certifications.services.lapse.engines import OrmEngine, PostgreSQLEngine
from certifications.totals.mentors import mentor_totals
from certifications.totals.states import state_totals
from certifications.totals.tallies import tallies_rebuild
from notifications.models import Notification, NotificationKind, NotificationState
from notifications.services import notices as notice_services
from notifications.services.bulk import draw_id_sql
from tests.certifications.services.lapse.helpers import NOW, lapsed_cert
from tests.factories import TEST_ACTOR, MentorFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the batch statement is PostgreSQL's"),
]

NOTICE_FIELDS = (
    "kind",
    "mentor_id",
    "certification_id",
    "renewal_request_id",
    "cycle_expires_at",
    "offset_days",
    "recipient",
    "subject",
    "state",
    "attempts",
    "last_error",
    "created_at",
)


def mixed_batches() -> None:
    """Mentors with one and two due records, one without an address, one paused by staff (no notice)."""
    two = MentorFactory()
    lapsed_cert(two)
    lapsed_cert(two, code="peer_mentor_advanced")
    lapsed_cert(MentorFactory(email=""))
    staff = lapsed_cert()
    mentor_pause(by=TEST_ACTOR, mentor=staff.mentor, now=NOW, reason="On leave")
    for _ in range(4):
        lapsed_cert()
    tallies_rebuild()  # the factories write rows, not tallies: start from exact ones


def written(monkeypatch, engine) -> tuple[list[tuple], dict, dict]:
    """The job's notices, the notices' tally and the mentors' tally with ``engine``, each checked against a count."""
    monkeypatch.setattr("certifications.services.lapse.job.batch_engine", engine)
    run = expiry_job_run(now=NOW, batch_size=3)
    assert (run.auto_paused, run.failures) == (6, [])
    notices = sorted(Notification.objects.values_list(*NOTICE_FIELDS))
    states = state_totals().get("notifications.notification", {})
    assert states == dict(Notification.objects.order_by().values_list("state").annotate(n=Count("*")))
    mentors = mentor_totals()
    assert mentors == mentors_counted()
    return notices, states, mentors


def mentors_counted() -> dict[tuple[str, str], int]:
    real = Mentor.objects.order_by().values_list("status", "paused_by").annotate(n=Count("*"))
    return {(status, paused_by): n for status, paused_by, n in real}


def test_the_statement_writes_the_notices_and_tallies_the_separate_statements_write(monkeypatch):
    mixed_batches()
    with transaction.atomic():
        by_orm = written(monkeypatch, OrmEngine)
        transaction.set_rollback(True)
    in_statement = written(monkeypatch, PostgreSQLEngine)
    assert in_statement == by_orm
    notices, states, _ = in_statement
    assert len(notices) == 6 and states == {NotificationState.QUEUED: 5, NotificationState.SKIPPED: 1}


def test_a_failing_notice_in_the_statement_rolls_the_batch_back():
    cert = lapsed_cert()
    tallies_rebuild()
    with connection.cursor() as cursor:  # dropped with the test's transaction
        cursor.execute(
            "CREATE FUNCTION refuse_notice() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'the notice insert failed'; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER refuse_notice BEFORE INSERT ON {Notification._meta.db_table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_notice()"
        )
    run = expiry_job_run(now=NOW)
    assert [failure["certification_id"] for failure in run.failures] == [cert.certification_id]
    cert.mentor.refresh_from_db()
    assert (run.auto_paused, cert.mentor.status, Notification.objects.count()) == (0, "active", 0)
    assert state_totals().get("notifications.notification", {}) == {}
    assert mentor_totals() == mentors_counted()


def test_a_drawn_notice_id_already_taken_is_drawn_again(monkeypatch):
    due = [lapsed_cert() for _ in range(3)]
    taken = "ntf_TAKEN000"
    other = MentorFactory()
    Notification.objects.create(
        notification_id=taken,
        kind=NotificationKind.MENTOR_RESUMED,
        mentor=other,
        recipient=other.email,
        subject="x",
        state=NotificationState.SENT,
        created_at=NOW,
    )
    # The statement draws the taken id for the mentor with the lowest key.
    lowest = min(cert.mentor_id for cert in due)
    drawn = draw_id_sql("p.id")
    assert drawn in notice_services.PAUSE_PART_CTES
    forced = f"CASE WHEN p.id = {lowest} THEN '{taken}' ELSE {drawn} END"
    monkeypatch.setattr(notice_services, "PAUSE_PART_CTES", notice_services.PAUSE_PART_CTES.replace(drawn, forced))
    retried = []
    real = notice_services.pause_notices_create

    def spy(**kwargs):
        retried.append(sorted(kwargs["paused"]))
        return real(**kwargs)

    monkeypatch.setattr(notice_services, "pause_notices_create", spy)
    run = expiry_run_create(now=NOW, dry_run=False, trigger=JobTrigger.API, state=JobState.RUNNING)
    with transaction.atomic():
        result = PostgreSQLEngine().apply(ids=[cert.pk for cert in due], now=NOW, run=run)
    assert result.paused == 3 and retried == [[lowest]]
    paused = Notification.objects.filter(kind=NotificationKind.MENTOR_PAUSED)
    assert sorted(paused.values_list("mentor_id", flat=True)) == sorted(cert.mentor_id for cert in due)
    assert Notification.objects.get(notification_id=taken).mentor_id == other.pk
