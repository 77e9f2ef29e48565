"""Two reminder scans at once on PostgreSQL: each reminder is created once, the constraint decides."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction

from notifications.models import Notification
from notifications.services import reminders_scan
from tests.factories import CertificationFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 8, 0, tzinfo=UTC)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_scans_at_once_create_each_reminder_once():
    for days in (3, 10, 20, 45, 80):
        CertificationFactory(issued_at=NOW - dt.timedelta(days=700), expires_at=NOW + dt.timedelta(days=days))
    first_inserted = threading.Event()
    results: dict[str, object] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                results["first"] = reminders_scan(now=NOW)
                first_inserted.set()
                # Hold the uncommitted rows while the second scan inserts the same windows.
                threading.Event().wait(0.5)
        finally:
            first_inserted.set()
            connection.close()

    def second() -> None:
        try:
            first_inserted.wait(10)
            results["second"] = reminders_scan(now=NOW)  # waits on the first's rows, then finds them taken
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert (results["first"].created, results["second"].created) == (5, 0)
    assert Notification.objects.count() == 5
    keys = list(Notification.objects.values_list("certification_id", "offset_days", "cycle_expires_at"))
    assert len(set(keys)) == 5
