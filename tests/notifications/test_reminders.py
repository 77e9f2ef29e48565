"""The reminder scan: each window once per expiry cycle, catch-up without storms, never for a renewed record."""

from __future__ import annotations

import datetime as dt

import pytest

from certifications.models import CertificationStatus
from notifications.models import Notification, NotificationKind, NotificationState
from notifications.services import reminders_scan
from tests.factories import CertificationFactory, MentorFactory, cert_type

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 8, 0, tzinfo=UTC)
DAY = dt.timedelta(days=1)


def expiring_in(days: float, **kwargs):
    """A valid basic record (offsets [90, 30, 7]) expiring ``days`` after NOW."""
    return CertificationFactory(expires_at=NOW + days * DAY, issued_at=NOW - 300 * DAY, **kwargs)


def reminders(cert=None) -> list[tuple[int, dt.datetime]]:
    rows = Notification.objects.filter(kind=NotificationKind.EXPIRY_REMINDER)
    if cert is not None:
        rows = rows.filter(certification=cert)
    return sorted(rows.values_list("offset_days", "cycle_expires_at"))


def test_a_record_created_ten_days_before_expiry_gets_the_30_day_notice_then_the_7_day_one():
    cert = expiring_in(10)
    result = reminders_scan(now=NOW)
    assert (result.created, result.queued, result.skipped) == (1, 1, 0)
    assert reminders(cert) == [(30, cert.expires_at)]
    reminders_scan(now=NOW + DAY)  # 9 days left: still the 30-day window, already sent
    assert reminders(cert) == [(30, cert.expires_at)]
    reminders_scan(now=NOW + 3 * DAY)  # exactly 7 days left: the 7-day window
    assert reminders(cert) == [(7, cert.expires_at), (30, cert.expires_at)]


def test_a_scan_that_missed_a_week_sends_one_notice_not_three():
    cert = expiring_in(95)
    reminders_scan(now=NOW)  # 95 days left: no window yet
    assert reminders(cert) == []
    # Scans stopped; the next one runs with 5 days left: the 90, 30 and 7 windows all passed.
    result = reminders_scan(now=NOW + 90 * DAY)
    assert result.created == 1
    assert reminders(cert) == [(7, cert.expires_at)]


def test_the_window_bounds_are_whole_days_rounded_up():
    # 30 days and one second left is 31 days: the 90-day window; exactly 30 days is the 30-day one.
    over = expiring_in(30 + 1 / 86400)
    exact = expiring_in(30)
    reminders_scan(now=NOW)
    assert reminders(over) == [(90, over.expires_at)]
    assert reminders(exact) == [(30, exact.expires_at)]


def test_a_second_scan_at_the_same_moment_creates_nothing():
    expiring_in(10)
    expiring_in(60)
    assert reminders_scan(now=NOW).created == 2
    assert reminders_scan(now=NOW).created == 0
    assert Notification.objects.count() == 2


def test_a_renewal_starts_a_new_cycle():
    cert = expiring_in(5)
    reminders_scan(now=NOW)
    old_expiry = cert.expires_at
    cert.expires_at = NOW + 20 * DAY  # renewed (a short renewal, so a window is open at once)
    cert.save()
    reminders_scan(now=NOW + DAY)
    assert reminders(cert) == [(7, old_expiry), (30, cert.expires_at)]


@pytest.mark.parametrize(
    "change",
    [
        {"status": CertificationStatus.REVOKED, "revoked_at": NOW - DAY},
        {"deleted_at": NOW - DAY},
        {"status": CertificationStatus.EXPIRED, "expires_at": NOW - DAY},
    ],
    ids=["revoked", "deleted", "expired"],
)
def test_a_revoked_deleted_or_expired_record_gets_no_reminder(change):
    cert = expiring_in(10)
    for name, value in change.items():
        setattr(cert, name, value)
    cert.save()
    assert reminders_scan(now=NOW).created == 0
    assert Notification.objects.count() == 0


def test_a_superseded_record_gets_no_reminder_and_its_renewal_is_reminded_in_its_own_time():
    old = expiring_in(10)
    new = CertificationFactory(mentor=old.mentor, issued_at=NOW - DAY, expires_at=NOW + 400 * DAY)
    assert reminders_scan(now=NOW).created == 0
    assert reminders(old) == [] and reminders(new) == []


def test_a_record_of_a_type_without_reminder_days_gets_none():
    basic = cert_type()
    basic.reminder_days = []
    basic.save()
    expiring_in(10)
    assert reminders_scan(now=NOW).created == 0


def test_each_type_uses_its_own_offsets():
    advanced = expiring_in(12, certification_type=cert_type("peer_mentor_advanced"))  # [60, 14, 3]
    basic = expiring_in(12)  # [90, 30, 7]
    reminders_scan(now=NOW)
    assert reminders(advanced) == [(14, advanced.expires_at)]
    assert reminders(basic) == [(30, basic.expires_at)]


def test_a_mentor_without_an_email_gets_a_skipped_row_not_an_error():
    cert = expiring_in(10, mentor=MentorFactory(email=""))
    result = reminders_scan(now=NOW)
    assert (result.created, result.queued, result.skipped) == (1, 0, 1)
    row = Notification.objects.get(certification=cert)
    assert (row.state, row.last_error, row.recipient) == (NotificationState.SKIPPED, "no email address", "")


def test_changing_reminder_days_never_resends_a_window_already_sent_this_cycle():
    cert = expiring_in(25)
    reminders_scan(now=NOW)
    assert reminders(cert) == [(30, cert.expires_at)]
    basic = cert_type()
    basic.reminder_days = [45, 7]  # 25 days left is now in the 45-day window: wider than the one sent
    basic.save()
    assert reminders_scan(now=NOW + DAY).created == 0
    basic.reminder_days = [90, 60, 30, 7]  # the same window under a new list
    basic.save()
    assert reminders_scan(now=NOW + DAY).created == 0
    assert reminders_scan(now=NOW + 18 * DAY).created == 1  # 7 days left: a narrower window
    assert reminders(cert) == [(7, cert.expires_at), (30, cert.expires_at)]


def test_the_reminder_row_says_what_expires_and_when():
    cert = expiring_in(10)
    reminders_scan(now=NOW)
    row = Notification.objects.get(certification=cert)
    assert row.notification_id.startswith("ntf_") and len(row.notification_id) == 12
    assert row.subject == f"Reminder: your {cert.certification_type.name} certification expires on 2026-04-05"
    assert (row.mentor_id, row.recipient, row.state, row.created_at) == (
        cert.mentor_id,
        cert.mentor.email,
        NotificationState.QUEUED,
        NOW,
    )


def test_a_dry_run_creates_nothing():
    expiring_in(10)
    expiring_in(20, mentor=MentorFactory(email=""))
    result = reminders_scan(now=NOW, dry_run=True)
    assert (result.dry_run, result.created, result.queued, result.skipped) == (True, 2, 1, 1)
    assert Notification.objects.count() == 0


def test_the_scan_sends_after_commit(django_capture_on_commit_callbacks):
    expiring_in(10)
    expiring_in(10, mentor=MentorFactory(email=""))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reminders_scan(now=NOW)
    assert len(callbacks) == 1  # one nudge for the queued reminder; the skipped one sends nothing
