"""``manage.py bench_reminders`` and its SQL floor (``benchmarks.reminders``), on PostgreSQL."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from certifications.models import CertificationType
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_bench_reminders_needs_postgresql(on_postgres):
    if on_postgres:
        pytest.skip("this checks the refusal on other databases")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("bench_reminders", "--certs", "100", stdout=io.StringIO())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_small_run_writes_the_floors_rows_and_leaves_nothing_behind():
    policy = dict(CertificationType.objects.values_list("code", "reminder_days"))
    out = io.StringIO()
    call_command("bench_reminders", "--certs", "3000", "--in-window", "300", "--repeat", "2", "--json", stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["identical"] is True
    assert result["rows"] == result["owed"] > 200
    assert result["scan_s"] > 0 and result["floor_s"] > 0 and len(result["rounds"]) == 2
    assert Notification.objects.count() == 0  # every round rolled back
    assert dict(CertificationType.objects.values_list("code", "reminder_days")) == policy  # the policy restored
