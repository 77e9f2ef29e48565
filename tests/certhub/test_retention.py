"""Retention of notifications, evidence files and failed sign-ins; the command, the task and the beat entry."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from access.models import SecurityEvent, SecurityEventKind
from certhub.models import LoginFailure
from certhub.retention import retention_apply
from certhub.tasks import apply_retention
from certifications.history import Actor, Source
from certifications.models import RenewalRequest
from certifications.renewals.download import evidence_response
from certifications.services import renewal_request_reject, renewal_request_submit
from notifications.models import Notification, NotificationState
from tests.certifications.renewals.conftest import PDF, stored_files, upload
from tests.factories import CertificationFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 4, 3, 30, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)


def days_before(days: int) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def rows(report) -> dict[str, int]:
    return {kind.kind: kind.rows for kind in report.kinds}


def notice(n: int, *, at: dt.datetime, state: str = NotificationState.SENT, kind: str = "mentor_paused"):
    return Notification.objects.create(
        notification_id=f"ntf_{n:08d}",
        kind=kind,
        recipient=f"person{n}@example.org",
        subject=f"Subject {n}",
        state=state,
        last_error="550 mailbox person@example.org unknown" if state == NotificationState.FAILED else "",
        created_at=at,
        digest_date=at.date() if kind == "coordinator_digest" else None,
    )


def test_notifications_past_the_window_are_blanked_and_kept_queued_and_newer_ones_untouched():
    cutoff = days_before(730)
    sent, failed = notice(1, at=cutoff - SECOND), notice(2, at=cutoff - SECOND, state=NotificationState.FAILED)
    digests = [notice(n, at=cutoff - SECOND, kind="coordinator_digest") for n in (3, 4)]  # same day, two recipients
    queued, at_cutoff = notice(5, at=cutoff - SECOND, state=NotificationState.QUEUED), notice(6, at=cutoff)

    assert rows(retention_apply(now=NOW))["notifications"] == 4

    for row in (sent, failed):
        row.refresh_from_db()
        assert (row.recipient, row.subject, row.last_error) == ("", "", "")
    assert failed.state == NotificationState.FAILED and Notification.objects.count() == 6  # the audit's shape
    # One digest per recipient and day is a constraint: a digest's recipient becomes its own id, not empty.
    blanked = Notification.objects.filter(pk__in=[d.pk for d in digests]).order_by("pk")
    assert list(blanked.values_list("recipient", "subject")) == [("ntf_00000003", ""), ("ntf_00000004", "")]
    for row in (queued, at_cutoff):
        row.refresh_from_db()
        assert row.subject and row.recipient
    assert rows(retention_apply(now=NOW))["notifications"] == 0  # blanked rows are passed by


@pytest.fixture
def evidence_dir(settings, tmp_path) -> Path:
    directory = tmp_path / "evidence"
    settings.RENEWAL_EVIDENCE_STORAGE = {**settings.RENEWAL_EVIDENCE_STORAGE, "DIR": str(directory), "OPTIONS": {}}
    return directory


def decided_request(*, decided_at: dt.datetime) -> RenewalRequest:
    cert = CertificationFactory()
    request = renewal_request_submit(
        mentor_id=cert.mentor.mentor_id,
        certification_type=cert.certification_type.code,
        issued_at=decided_at - dt.timedelta(days=30),
        evidence=upload(PDF),
        now=decided_at - dt.timedelta(days=1),
        by=Actor(source=Source.API),
    )
    return renewal_request_reject(
        renewal_request=request, reason="unreadable", now=decided_at, by=Actor(source=Source.API)
    )


def test_evidence_files_go_after_commit_the_window_after_the_decision_and_the_request_stays(
    evidence_dir, django_capture_on_commit_callbacks
):
    cutoff = days_before(90)
    old, at_cutoff = decided_request(decided_at=cutoff - SECOND), decided_request(decided_at=cutoff)
    pending = renewal_request_submit(
        mentor_id=CertificationFactory().mentor.mentor_id,
        certification_type="peer_mentor_basic",
        issued_at=days_before(400),
        evidence=upload(PDF),
        now=days_before(300),
        by=Actor(source=Source.API),
    )
    old_file = evidence_dir / old.evidence.name
    assert len(stored_files(evidence_dir)) == 3

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert rows(retention_apply(now=NOW))["evidence_files"] == 1
    assert old_file.exists()  # not before the commit
    for callback in callbacks:
        callback()

    assert not old_file.exists() and len(stored_files(evidence_dir)) == 2
    old.refresh_from_db()
    assert old.evidence.name == "" and old.state == "rejected" and old.evidence_size == len(PDF)
    assert evidence_response(old) is None
    for kept in (at_cutoff, pending):
        kept.refresh_from_db()
        assert (evidence_dir / kept.evidence.name).exists()


def test_failed_sign_ins_go_after_30_days_and_the_rest_of_the_security_log_stays():
    cutoff = days_before(30)

    def logged(kind: str, at: dt.datetime) -> SecurityEvent:
        return SecurityEvent.objects.create(kind=kind, username="mallory", address="203.0.113.9", occurred_at=at)

    gone = [
        logged(SecurityEventKind.SIGN_IN_FAILED, cutoff - SECOND),
        logged(SecurityEventKind.FACTOR_FAILED, cutoff - SECOND),
    ]
    kept = [logged(SecurityEventKind.SIGN_IN_FAILED, cutoff), logged(SecurityEventKind.SIGN_IN, cutoff - SECOND)]
    LoginFailure.objects.create(key="a" * 64, count=3, window_ends_at=cutoff - SECOND)
    LoginFailure.objects.create(key="b" * 64, count=1, window_ends_at=cutoff)

    report = rows(retention_apply(now=NOW))

    assert report["security_log_failed_sign_ins"] == 2 and report["login_failures"] == 1
    assert not SecurityEvent.objects.filter(pk__in=[row.pk for row in gone]).exists()
    assert set(SecurityEvent.objects.values_list("pk", flat=True)) == {row.pk for row in kept}
    assert list(LoginFailure.objects.values_list("key", flat=True)) == ["b" * 64]


def test_the_command_dry_run_reports_each_kind_as_json_and_changes_nothing(capsys):
    notice(1, at=timezone.now() - dt.timedelta(days=731))
    call_command("apply_retention", "--dry-run", "--json", "--batch-size", "5")
    report = json.loads(capsys.readouterr().out)
    assert report["dry_run"] is True and report["batch_size"] == 5
    by_kind = {kind["kind"]: kind for kind in report["kinds"]}
    assert set(by_kind) == {
        "login_failures",
        "evidence_files",
        "webhook_deliveries",
        "events",
        "notifications",
        "security_log_failed_sign_ins",
    }
    assert by_kind["notifications"]["rows"] == 1 and by_kind["notifications"]["window_days"] == 730
    assert Notification.objects.get().subject == "Subject 1"
    call_command("apply_retention")
    assert "notifications: 1 were blanked (older than 730 days" in capsys.readouterr().out
    assert Notification.objects.get().subject == ""


def test_the_windows_come_from_the_settings(settings):
    settings.RETENTION = {**settings.RETENTION, "NOTIFICATIONS_DAYS": 10}
    notice(1, at=days_before(11))
    notice(2, at=days_before(9))
    assert rows(retention_apply(now=NOW))["notifications"] == 1


def test_the_task_applies_retention_and_returns_the_report():
    notice(1, at=timezone.now() - dt.timedelta(days=800))
    result = apply_retention.apply().get()
    assert {kind["kind"]: kind["rows"] for kind in result["kinds"]}["notifications"] == 1
    assert result["dry_run"] is False


def test_the_daily_beat_entry_exists_after_migrate():
    task = PeriodicTask.objects.get(task="certhub.tasks.apply_retention")
    assert task.enabled and task.crontab is not None
    assert (task.crontab.minute, task.crontab.hour, str(task.crontab.timezone)) == ("30", "3", "UTC")


@pytest.mark.parametrize(
    "arguments",
    [
        ["--batch-size", "0"],
        ["--pause-ms", "-1"],
        ["--rest-factor", "-1"],
        ["--rest-factor", "101"],
        ["--rest-factor", "nan"],
    ],
)
def test_the_command_refuses_a_batch_size_below_one_or_a_negative_pause(arguments):
    notice(1, at=timezone.now() - dt.timedelta(days=800))
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        call_command("apply_retention", *arguments)
    assert Notification.objects.get().subject == "Subject 1"


def test_each_batch_that_changed_rows_rests_the_pause_plus_the_factor_times_its_own_length(monkeypatch):
    """The pacing: a batch that took 40 ms (on the run's clock) is followed by 5 ms + 3 x 40 ms of rest."""
    import certhub.retention as retention

    for n in range(5):
        notice(n, at=timezone.now() - dt.timedelta(days=800))
    ticks, rests = iter(range(0, 10_000, 40)), []
    monkeypatch.setattr(retention.time, "monotonic", lambda: next(ticks) / 1000)
    monkeypatch.setattr(retention.time, "sleep", rests.append)
    report = retention.retention_apply(now=timezone.now(), batch_size=2, pause_ms=5, rest_factor=3)
    notifications = next(kind for kind in report.kinds if kind.kind == "notifications")
    assert (notifications.rows, notifications.batches) == (5, 3)
    assert rests == [pytest.approx(0.005 + 3 * 0.040)] * 3  # only the batches that changed rows rest
    rests.clear()
    retention.retention_apply(now=timezone.now(), batch_size=2, pause_ms=5, rest_factor=3)
    assert rests == []  # nothing left to blank: no rest at all
