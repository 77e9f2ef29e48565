"""Helpers of the events tests: endpoints made directly, and the certification writes that make events."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from certhub.ids import new_id
from events.models import WebhookEndpoint

UTC = dt.UTC
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def endpoint(url: str = "https://hooks.example.org/certhub", *, event_types=(), active: bool = True, **fields):
    """An endpoint row as the service would save it (the URL checks are tested on their own)."""
    now = timezone.now()
    return WebhookEndpoint.objects.create(
        endpoint_id=new_id("whe_"),
        url=url,
        event_types=list(event_types),
        secret=fields.pop("secret", SECRET),
        is_active=active,
        created_at=now,
        updated_at=now,
        **fields,
    )
