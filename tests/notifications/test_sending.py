"""Sending through a real SMTP server on loopback: once, with retries, failed with its error, resent by staff."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certifications.history import Actor, Source
from certifications.services import mentor_create
from certifications.text import BIDI_CONTROLS
from notifications.models import Notification, NotificationState
from notifications.services import SEND_TASK_NAME, notification_resend, notifications_requeue_stale, reminders_scan
from notifications.services.sending import SEND_GROUP
from notifications.tasks import send_notification, send_notifications
from tests.certifications.broker_helpers import celery_broker, queued_messages
from tests.factories import CertificationFactory, MentorFactory
from tests.notifications.conftest import parts

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 8, 0, tzinfo=UTC)


@pytest.fixture
def reminder() -> Notification:
    """A queued reminder for a record expiring in 10 days (the 30-day window)."""
    mentor = MentorFactory(name="Ada Okafor", email="ada@example.org")
    CertificationFactory(mentor=mentor, issued_at=NOW - dt.timedelta(days=700), expires_at=NOW + dt.timedelta(days=10))
    reminders_scan(now=NOW)
    return Notification.objects.get()


def send(notification: Notification) -> str:
    """The task as a worker runs it, an hour after the scan (the task reads the clock)."""
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        return send_notification.apply(args=[notification.notification_id]).get()


def test_a_queued_reminder_is_sent_once_with_a_text_and_an_html_part(smtp, reminder):
    assert send(reminder) == "sent"
    [message] = smtp.messages
    assert (message["To"], message["From"], message["Subject"]) == (
        "ada@example.org",
        "certhub@program.example",
        reminder.subject,
    )
    text, html = parts(message)
    for body in (text, html):
        assert reminder.certification.certification_type.name in body  # what expires
        assert "2026-04-05" in body  # when
        assert "10 days left" in body  # how many days are left
        assert "renewals@program.example" in body  # how to renew: the program's contact
    reminder.refresh_from_db()
    assert (reminder.state, reminder.attempts, reminder.last_error) == (NotificationState.SENT, 1, "")
    assert reminder.sent_at is not None


def test_a_redelivered_task_sends_nothing_twice(smtp, reminder):
    assert send(reminder) == "sent"
    assert send(reminder) == "nothing"  # the same message delivered again
    assert len(smtp.messages) == 1
    reminder.refresh_from_db()
    assert reminder.attempts == 1


def test_a_failure_is_retried_and_a_later_success_recorded(smtp, reminder):
    smtp.refuse = 2
    assert send(reminder) == "sent"  # eager retries run at once
    assert len(smtp.messages) == 1
    reminder.refresh_from_db()
    assert (reminder.state, reminder.attempts, reminder.last_error) == (NotificationState.SENT, 3, "")


def test_after_the_last_retry_the_message_is_failed_with_its_error_and_staff_can_resend_it(
    smtp, reminder, django_capture_on_commit_callbacks
):
    smtp.refuse = 4  # the first attempt and the three retries (1 min, 10 min, 1 h)
    assert send(reminder) == "failed"
    reminder.refresh_from_db()
    assert (reminder.state, reminder.attempts) == (NotificationState.FAILED, 4)
    assert "451" in reminder.last_error and "Try again later" in reminder.last_error
    assert smtp.messages == []
    assert send(reminder) == "nothing"  # a failed message is not sent by a stray task

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert notification_resend(notification=reminder) is True
    assert len(callbacks) == 1  # sent again after commit
    assert send(reminder) == "sent"
    assert len(smtp.messages) == 1
    assert notification_resend(notification=reminder) is False  # only a failed message is resent


def test_an_unreachable_server_is_a_failure_too(settings, reminder):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # discard: nothing listens
    settings.NOTIFICATION_RETRY_DELAYS = [0]
    assert send(reminder) == "failed"
    reminder.refresh_from_db()
    assert (reminder.state, reminder.attempts) == (NotificationState.FAILED, 2)
    assert "ConnectionRefusedError" in reminder.last_error


def test_html_in_names_reaching_an_email_is_escaped(smtp):
    mentor = MentorFactory(name='<script>alert("x")</script> & <b>Co</b>', email="eve@example.org")
    CertificationFactory(mentor=mentor, issued_at=NOW - dt.timedelta(days=700), expires_at=NOW + dt.timedelta(days=3))
    reminders_scan(now=NOW)
    send(Notification.objects.get())
    text, html = parts(smtp.messages[0])
    assert "<script>" not in html and "<b>Co</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;Co&lt;/b&gt;" in html
    assert '<script>alert("x")</script> & <b>Co</b>' in text  # the text part shows the name as it is


def test_the_embedded_default_writes_messages_under_the_mail_directory(settings, tmp_path, reminder):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    assert send(reminder) == "sent"
    [written] = list((tmp_path / "mail").iterdir())
    assert reminder.subject in written.read_text()


def test_a_message_still_queued_hours_later_is_nudged_again_by_the_scan(reminder, django_capture_on_commit_callbacks):
    Notification.objects.filter(pk=reminder.pk).update(attempts=1)  # it failed once: its retry is on its way
    later = NOW + dt.timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert notifications_requeue_stale(now=later) == 0  # its retry may still be on its way
        assert notifications_requeue_stale(now=NOW + dt.timedelta(hours=4)) == 1  # lost: nudged again
    assert len(callbacks) == 1


def test_a_message_never_attempted_minutes_later_is_nudged_again(reminder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert notifications_requeue_stale(now=NOW + dt.timedelta(minutes=4)) == 0  # its task may be on its way
        assert notifications_requeue_stale(now=NOW + dt.timedelta(minutes=6)) == 1  # lost (a killed worker)
    assert len(callbacks) == 1


def reminders_for(*names: str) -> list[str]:
    """A queued reminder for each of ``names`` (``<name>@example.org``); their ids in the recipients' order."""
    for name in names:
        CertificationFactory(
            mentor=MentorFactory(email=f"{name}@example.org"),
            issued_at=NOW - dt.timedelta(days=700),
            expires_at=NOW + dt.timedelta(days=10),
        )
    reminders_scan(now=NOW)
    return list(Notification.objects.order_by("recipient").values_list("notification_id", flat=True))


def test_a_batch_task_sends_its_notices_itself_and_a_failed_one_retries_alone(smtp):
    ids = reminders_for("ada", "bo", "cy")
    smtp.refuse = 1  # the first one fails once
    with celery_broker("memory://"):
        queued_messages()
        with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
            assert send_notifications.apply(args=[ids]).get() == 2
        [(headers, (args, _, _))] = queued_messages()  # no message per notice: only the failed one's retry
    assert (headers["task"], args, headers["retries"]) == (SEND_TASK_NAME, [ids[0]], 1)
    assert sorted(message["To"] for message in smtp.messages) == ["bo@example.org", "cy@example.org"]


def test_a_batch_task_records_its_notices_in_a_fixed_number_of_statements_a_group(smtp):
    ids = reminders_for(*(f"m{n:02}" for n in range(3 * SEND_GROUP + 1)))
    statements = []
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        for part in (ids[: SEND_GROUP + 1], ids[SEND_GROUP + 1 :]):  # two groups each: 11 notices, then 20
            with CaptureQueriesContext(connection) as queries:
                assert send_notifications.apply(args=[part]).get() == len(part)
            statements.append(len(queries))
    assert statements[0] == statements[1]  # per group, not per notice
    assert len(smtp.messages) == len(ids) == Notification.objects.filter(state=NotificationState.SENT).count()


def test_the_embedded_broker_polls_for_messages_ten_times_a_second(monkeypatch):
    import importlib

    import config.settings

    for name in ("CELERY_BROKER_URL", "REDIS_URL", "CELERY_FILESYSTEM_POLLING_INTERVAL"):
        monkeypatch.delenv(name, raising=False)
    try:
        options = importlib.reload(config.settings).CELERY_BROKER_TRANSPORT_OPTIONS
        assert options["polling_interval"] == 0.1  # kombu's default, 1 s, sent about one message a second
    finally:
        monkeypatch.undo()
        importlib.reload(config.settings)


def test_the_retry_schedule_is_1_min_10_min_1_h_by_default(monkeypatch):
    import importlib

    import config.settings

    monkeypatch.delenv("NOTIFICATION_RETRY_DELAYS", raising=False)
    assert importlib.reload(config.settings).NOTIFICATION_RETRY_DELAYS == [60, 600, 3600]
    monkeypatch.setenv("NOTIFICATION_RETRY_DELAYS", "5,30")
    assert importlib.reload(config.settings).NOTIFICATION_RETRY_DELAYS == [5, 30]
    monkeypatch.delenv("NOTIFICATION_RETRY_DELAYS")
    importlib.reload(config.settings)


def test_line_breaks_and_bidi_controls_in_a_name_never_reach_a_message(smtp):
    # Written before names were normalised (straight to the table), then one written through the service.
    legacy = MentorFactory(name="Eve\r\nBcc: all@example.org\u202e\tgnp.exe", email="eve@example.org")
    CertificationFactory(mentor=legacy, issued_at=NOW - dt.timedelta(days=700), expires_at=NOW + dt.timedelta(days=3))
    fresh = mentor_create(
        mentor_id="mntr_01HX4V2K8P",
        name="Ada\n\u2066Lovelace\u2069",
        email="ada@example.org",
        now=NOW,
        by=Actor(source=Source.CLI),
    )
    CertificationFactory(mentor=fresh, issued_at=NOW - dt.timedelta(days=700), expires_at=NOW + dt.timedelta(days=3))
    reminders_scan(now=NOW)
    for notification in Notification.objects.order_by("recipient"):
        assert send(notification) == "sent"
    greetings = {}
    for message in smtp.messages:
        for body in parts(message):
            assert not BIDI_CONTROLS & set(body)
            assert "\t" not in body
        text, _ = parts(message)
        greetings[message["To"]] = text.splitlines()[0]
    assert greetings == {
        "ada@example.org": "Hello Ada Lovelace,",
        "eve@example.org": "Hello Eve Bcc: all@example.org gnp.exe,",
    }
