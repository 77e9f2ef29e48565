"""Signing secrets are encrypted at rest and still open after a SECRET_KEY rotation with fallbacks."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from events.endpoints import endpoint_rotate_secret
from events.models import WebhookEndpoint
from events.sealing import InvalidToken
from tests.events.helpers import endpoint as make_endpoint

pytestmark = pytest.mark.django_db


def stored(column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM events_webhookendpoint")
        return cursor.fetchone()[0]


def test_the_database_holds_no_secret_in_the_clear():
    endpoint = endpoint_rotate_secret(endpoint=make_endpoint(), now=timezone.now())
    for column, plain in (("secret", endpoint.secret), ("previous_secret", endpoint.previous_secret)):
        raw = stored(column)
        assert plain.startswith("whsec_") and plain not in raw and plain[6:] not in raw
    assert WebhookEndpoint.objects.get().secret == endpoint.secret


def test_a_rotated_secret_key_still_opens_secrets_through_the_fallbacks(settings):
    endpoint = make_endpoint()
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-key-" + "x" * 50
    with pytest.raises(InvalidToken):
        WebhookEndpoint.objects.get()
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert WebhookEndpoint.objects.get().secret == endpoint.secret
