"""Signing secrets are encrypted at rest, never with the published development key, and still open after a
SECRET_KEY rotation with fallbacks or an upgrade from the published key."""

from __future__ import annotations

import importlib
import types

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from events.endpoints import endpoint_rotate_secret
from events.models import WebhookEndpoint
from events.sealing import InvalidToken, _fernet, seal
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


def test_nothing_is_sealed_with_the_published_development_key(settings):
    assert settings.SECRET_KEY != settings.PUBLISHED_DEV_SECRET_KEY
    make_endpoint()
    with pytest.raises(InvalidToken):
        _fernet(settings.PUBLISHED_DEV_SECRET_KEY).decrypt(stored("secret").encode())


def test_an_upgrade_seals_again_the_secrets_sealed_with_the_published_key(settings):
    """An embedded database from before the per-installation key: the migration opens and seals again."""
    endpoint = make_endpoint(previous_secret="whsec_old" + "A" * 40)
    published = _fernet(settings.PUBLISHED_DEV_SECRET_KEY)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE events_webhookendpoint SET secret = %s",
            [published.encrypt(endpoint.secret.encode()).decode()],
        )
    current = stored("previous_secret")  # sealed with today's key: left as it is
    migration = importlib.import_module("events.migrations.0005_reseal_secrets_sealed_with_the_published_key")
    migration.reseal(apps, types.SimpleNamespace(connection=connection, quote_name=connection.ops.quote_name))
    with pytest.raises(InvalidToken):
        published.decrypt(stored("secret").encode())
    assert stored("previous_secret") == current
    again = WebhookEndpoint.objects.get()
    assert (again.secret, again.previous_secret) == (endpoint.secret, endpoint.previous_secret)
    assert seal(endpoint.secret) != stored("secret")  # Fernet tokens differ each time; the secret is the same
