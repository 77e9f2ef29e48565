"""The mentor's renewal link in reminders, pause notices and rejections; the renewal notices' text."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from certifications.history import Actor, Source
from certifications.services import renewal_request_reject, renewal_request_submit
from notifications.messages import notification_message
from notifications.models import Notification, NotificationKind
from tests.certifications.renewals.conftest import evidence_dir, lapsed, upload  # noqa: F401  (fixtures)
from tests.factories import CertificationFactory

LINK_RE = re.compile(r"https://certhub\.example\.org(/renew/[^\s\"<]+)")


def _bodies(notification: Notification, now: dt.datetime) -> tuple[str, str]:
    message = notification_message(notification, now=now)
    return message.body, message.alternatives[0][0]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [NotificationKind.EXPIRY_REMINDER, NotificationKind.MENTOR_PAUSED])
def test_reminders_and_pause_notices_carry_a_working_link(settings, now, kind):
    settings.PUBLIC_BASE_URL = "https://certhub.example.org"
    cert = CertificationFactory()
    notification = Notification.objects.create(
        notification_id="ntf_TESTLINK",
        kind=kind,
        mentor=cert.mentor,
        certification=cert,
        cycle_expires_at=cert.expires_at,
        offset_days=30,
        subject="s",
    )
    text, html = _bodies(notification, now)
    [path] = LINK_RE.findall(text)
    assert LINK_RE.findall(html) == [path]
    assert Client().get(path).status_code == 200


@pytest.mark.django_db
def test_without_public_base_url_a_notice_says_whom_to_write_and_has_no_link(settings, now):
    settings.PUBLIC_BASE_URL = ""
    cert = CertificationFactory()
    notification = Notification.objects.create(
        notification_id="ntf_TESTLINK", kind="mentor_paused", mentor=cert.mentor, certification=cert, subject="s"
    )
    text, _ = _bodies(notification, now)
    assert "/renew/" not in text and "send your new certificate to" in text


@pytest.mark.django_db
def test_a_rejection_tells_the_reason_and_links_a_new_request(settings, lapsed, now):  # noqa: F811
    settings.PUBLIC_BASE_URL = "https://certhub.example.org"
    request = renewal_request_submit(
        mentor_id=lapsed.mentor.mentor_id,
        certification_type="peer_mentor_basic",
        issued_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        evidence=upload(),
        now=now,
        by=Actor(source=Source.API),
    )
    renewal_request_reject(renewal_request=request, reason="The scan is cut off", now=now, by=Actor(source=Source.API))
    notice = Notification.objects.get(kind="renewal_rejected")
    text, html = _bodies(notice, now)
    assert "The reason: The scan is cut off" in text and "The scan is cut off" in html
    assert LINK_RE.search(text) and request.renewal_request_id in text
