"""Replacing the demo data (``seed_demo --flush``, the benchmarks) takes the notifications that point at it along."""

from __future__ import annotations

import datetime as dt

import pytest

from certifications.demo.loader import flush
from certifications.models import Certification, Mentor
from notifications.models import Notification
from notifications.services import reminders_scan
from tests.factories import CertificationFactory

NOW = dt.datetime(2026, 3, 26, 8, 0, tzinfo=dt.UTC)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_flush_empties_the_notifications_with_the_records_they_name():
    CertificationFactory(issued_at=NOW - dt.timedelta(days=700), expires_at=NOW + dt.timedelta(days=5))
    reminders_scan(now=NOW)
    assert Notification.objects.count() == 1
    flush()
    assert (Notification.objects.count(), Certification.objects.count(), Mentor.objects.count()) == (0, 0, 0)
