"""The coordinators' digest: once per coordinator per day, only with news, and what it says."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User

from certifications.services import expiry_job_run
from notifications.models import Notification, NotificationKind
from notifications.services import digests_create, notification_send
from tests.certifications.services.lapse.helpers import lapsed_cert
from tests.factories import CertificationFactory
from tests.notifications.conftest import parts

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 8, 30, tzinfo=UTC)
DAY = dt.timedelta(days=1)


def coordinator(username: str, email: str, **fields) -> User:
    user = User.objects.create_user(username=username, email=email, is_staff=True, **fields)
    user.groups.add(Group.objects.get(name="Coordinators"))
    return user


@pytest.fixture
def coordinators():
    coordinator("cora", "cora@program.example")
    coordinator("dan", "dan@program.example")
    coordinator("no-mail", "")  # no address: no digest
    coordinator("gone", "gone@program.example", is_active=False)
    User.objects.create_user(username="staff", email="staff@program.example", is_staff=True)  # not a coordinator


def digests() -> list[tuple[str, dt.date]]:
    return sorted(
        Notification.objects.filter(kind=NotificationKind.COORDINATOR_DIGEST).values_list("recipient", "digest_date")
    )


def test_no_news_no_digest(coordinators):
    CertificationFactory(issued_at=NOW - 700 * DAY, expires_at=NOW + 200 * DAY)
    result = digests_create(now=NOW)
    assert (result.sent, result.no_news) == (0, 2)
    assert digests() == []


def test_one_digest_per_active_coordinator_with_an_email_once_a_day(coordinators):
    CertificationFactory(issued_at=NOW - 700 * DAY, expires_at=NOW + 30 * DAY - dt.timedelta(hours=1))
    assert digests_create(now=NOW).sent == 2
    assert digests() == [("cora@program.example", NOW.date()), ("dan@program.example", NOW.date())]
    again = digests_create(now=NOW + dt.timedelta(hours=3))  # the same day
    assert (again.sent, again.already) == (0, 2)
    assert len(digests()) == 2


def test_the_next_day_reports_only_what_is_new_since_the_previous_digest(coordinators):
    CertificationFactory(issued_at=NOW - 700 * DAY, expires_at=NOW + 29 * DAY)
    digests_create(now=NOW)
    assert digests_create(now=NOW + DAY).sent == 0  # that record entered its last 30 days before the last digest
    lapsed_cert()
    expiry_job_run(now=NOW + DAY + dt.timedelta(hours=1))  # a pause: news
    result = digests_create(now=NOW + 2 * DAY)
    assert result.sent == 2
    latest = Notification.objects.filter(kind=NotificationKind.COORDINATOR_DIGEST).latest("created_at")
    assert latest.subject == "CertHub digest 2026-03-28: 0 entering their last 30 days, 1 paused, 0 resumed"


def test_the_digest_lists_the_news_and_escapes_names(coordinators, smtp):
    entering = NOW + 30 * DAY - dt.timedelta(hours=5)  # entered its last 30 days five hours ago
    CertificationFactory(mentor__name="<b>Bold</b>", issued_at=NOW - 700 * DAY, expires_at=entering)
    paused = lapsed_cert()
    expiry_job_run(now=NOW - dt.timedelta(hours=2))
    digests_create(now=NOW)
    digest = Notification.objects.filter(kind=NotificationKind.COORDINATOR_DIGEST).first()
    assert notification_send(notification_id=digest.notification_id, now=NOW, last_attempt=True) == "sent"
    text, html = parts(smtp.messages[0])
    assert "Entered their last 30 days: 1" in text and "<b>Bold</b>" in text
    assert "&lt;b&gt;Bold&lt;/b&gt;" in html and "<b>Bold</b>" not in html
    assert "Mentors paused automatically: 1" in text and paused.mentor.mentor_id in text


def test_the_digest_lists_the_pending_renewal_requests_oldest_first(coordinators, settings, tmp_path):
    from django.core.files.base import ContentFile

    from certifications.history import Actor, Source
    from certifications.services import renewal_request_submit, renewal_request_withdraw

    settings.RENEWAL_EVIDENCE_STORAGE = {**settings.RENEWAL_EVIDENCE_STORAGE, "DIR": str(tmp_path)}
    records = [CertificationFactory(issued_at=NOW - 900 * DAY, expires_at=NOW + 200 * DAY) for _ in range(3)]
    requests = [
        renewal_request_submit(
            mentor_id=cert.mentor.mentor_id,
            certification_type=cert.certification_type,
            issued_at=NOW - 10 * DAY,
            evidence=ContentFile(b"%PDF-1.4\n", name="c.pdf"),
            now=NOW - (3 - index) * DAY,
            by=Actor(source=Source.API),
        )
        for index, cert in enumerate(records)
    ]
    renewal_request_withdraw(renewal_request=requests[1], now=NOW - DAY, by=Actor(source=Source.API))
    assert digests_create(now=NOW).sent == 2  # nothing else new: the waiting requests are enough
    digest = Notification.objects.filter(kind=NotificationKind.COORDINATOR_DIGEST).first()
    assert digest.subject.endswith(", 2 renewal requests pending")
    text, html = parts(mailed(digest))
    assert "Renewal requests waiting for a decision: 2" in text
    first, last = requests[0].renewal_request_id, requests[2].renewal_request_id
    assert text.index(first) < text.index(last) and requests[1].renewal_request_id not in text
    assert first in html


def mailed(notification):
    """The digest as it is mailed."""
    import email

    from notifications.messages import notification_message

    return email.message_from_bytes(
        notification_message(notification, now=NOW).message().as_bytes(), policy=email.policy.default
    )
