"""The reminder scan's and the digest's beat entries, made by a migration next to the expiry job's."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django_celery_beat.models import PeriodicTask

from config.celery import app as celery_app

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "task", "minute", "hour"),
    [
        ("reminders daily at 08:00 UTC", "notifications.tasks.scan_reminders", "0", "8"),
        ("coordinators' digest daily at 08:30 UTC", "notifications.tasks.send_digests", "30", "8"),
    ],
)
def test_the_entries_are_daily_utc_crontabs_of_registered_tasks(name, task, minute, hour):
    entry = PeriodicTask.objects.select_related("crontab").get(name=name)
    assert (entry.task, entry.enabled, entry.kwargs) == (task, True, "{}")
    crontab = entry.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week, crontab.day_of_month, crontab.month_of_year) == (
        minute,
        hour,
        "*",
        "*",
        "*",
    )
    assert str(crontab.timezone) == "UTC"
    celery_app.loader.import_default_modules()
    assert task in celery_app.tasks


def test_coordinators_may_view_notifications_and_resend_them():
    codenames = set(Group.objects.get(name="Coordinators").permissions.values_list("codename", flat=True))
    assert {"view_notification", "change_notification"} <= codenames
