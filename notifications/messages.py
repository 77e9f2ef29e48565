"""A notification as an email: ``EmailMultiAlternatives`` with a text and an HTML part from ``templates/email/``.

Both parts are rendered when the message is sent, from the rows as they are
then. The HTML templates are autoescaped (every name, reason and id that comes
from data is escaped); the text templates turn autoescaping off, since a text
part shows characters as they are; so every name and reason from data passes
through ``one_line`` (``notifications/templatetags/mail_text.py``) in both parts, and
no line break or bidi control of a name written before names were normalised
reaches the message.
"""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from certifications.renewals.links import program_contact, renewal_link
from notifications.models import Notification, NotificationKind
from notifications.news import digest_news, previous_digest_at

# The notices that carry the mentor's renewal link.
WITH_RENEWAL_LINK = (
    NotificationKind.EXPIRY_REMINDER,
    NotificationKind.MENTOR_PAUSED,
    NotificationKind.RENEWAL_REJECTED,
)
DIGEST_ITEMS = 50  # per section; the counts say how many there are in all


def notification_context(notification: Notification, *, now: dt.datetime) -> dict:
    """What the templates of ``notification``'s kind are given."""
    context: dict = {
        "notification": notification,
        "mentor": notification.mentor,
        "certification": notification.certification,
        "contact": program_contact(),
        "now": now,
        "renewal_request": notification.renewal_request,
    }
    if notification.kind in WITH_RENEWAL_LINK and notification.mentor is not None:
        context["renew_url"] = renewal_link(notification.mentor)
    cert = notification.certification
    if cert is not None:
        context["certification_type"] = cert.certification_type
        left = math.ceil((cert.expires_at - now) / dt.timedelta(days=1))
        context["days_left"] = left
    if notification.kind == NotificationKind.COORDINATOR_DIGEST:
        since = previous_digest_at(recipient=notification.recipient, before=notification.created_at)
        news = digest_news(since=since, until=notification.created_at)
        context.update(
            since=news.since,
            until=news.until,
            entering_count=news.entering.count(),
            entering=list(news.entering[:DIGEST_ITEMS]),
            paused_count=news.paused.count(),
            paused=list(news.paused[:DIGEST_ITEMS]),
            resumed_count=news.resumed.count(),
            resumed=list(news.resumed[:DIGEST_ITEMS]),
            pending_count=news.pending.count(),
            pending=list(news.pending[:DIGEST_ITEMS]),
        )
    return context


def notification_message(notification: Notification, *, now: dt.datetime) -> EmailMultiAlternatives:
    """The email for ``notification``: its subject, a text body and an HTML alternative."""
    context = notification_context(notification, now=now)
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=render_to_string(f"email/{notification.kind}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient],
        headers={"X-CertHub-Notification": notification.notification_id},
    )
    message.attach_alternative(render_to_string(f"email/{notification.kind}.html", context), "text/html")
    return message
