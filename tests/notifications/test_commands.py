"""``send_reminders [--dry-run] [--json]`` and ``mail_settings``."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from notifications.models import Notification
from tests.factories import CertificationFactory, MentorFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 26, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def owed():
    for mentor in (MentorFactory(), MentorFactory(email="")):
        CertificationFactory(
            mentor=mentor, issued_at=NOW - dt.timedelta(days=700), expires_at=NOW + dt.timedelta(days=9)
        )


def run(*args: str) -> str:
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


def test_a_dry_run_prints_what_it_would_create_and_creates_nothing(owed):
    assert run("--dry-run") == "Reminders would create: 2 (1 to send, 1 skipped: no email address).\n"
    assert Notification.objects.count() == 0


def test_a_run_creates_the_reminders_and_says_so_in_json(owed):
    assert json.loads(run("--json")) == {"trigger": "cli", "dry_run": False, "created": 2, "queued": 1, "skipped": 1}
    assert Notification.objects.count() == 2
    assert json.loads(run("--json"))["created"] == 0  # nothing owed twice


def test_mail_settings_says_where_mail_goes(settings, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = "/srv/certhub/var/mail"
    call_command("mail_settings")
    assert "written as files under /srv/certhub/var/mail" in capsys.readouterr().out
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "smtp.example.org", 587
    call_command("mail_settings")
    assert "sent over SMTP via smtp.example.org:587" in capsys.readouterr().out
