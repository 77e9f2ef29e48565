"""Webhook signing secrets encrypted at rest, so that a database dump alone cannot forge a signature.

The column holds a Fernet token (AES-128-CBC and HMAC-SHA256) made with a key
derived from ``SECRET_KEY``; the keys of ``SECRET_KEY_FALLBACKS`` still open
older tokens, so rotating ``SECRET_KEY`` the Django way keeps every endpoint
working (a token is sealed again with the current key when its endpoint is saved).

The key is never derived from the development key published in the repository
(settings refuse it as ``SECRET_KEY``). Tokens sealed with it by an earlier
embedded default are sealed again with the current key by migration 0003
(``reseal_published``), which is the only reader of that key.
"""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

PURPOSE = b"certhub.webhooks.secret:"


def _fernet(key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(PURPOSE + key.encode()).digest()))


def _keys() -> MultiFernet:
    return MultiFernet([_fernet(key) for key in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]])


def seal(secret: str) -> str:
    """The stored form of ``secret``."""
    return _keys().encrypt(secret.encode()).decode() if secret else ""


def unseal(stored: str) -> str:
    """``secret`` back from its stored form; a value that no key opens raises ``InvalidToken``."""
    if not stored:
        return ""
    return _unseal(stored, settings.SECRET_KEY, tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ())))


@functools.lru_cache(maxsize=1024)
def _unseal(stored: str, key: str, fallbacks: tuple[str, ...]) -> str:
    # Cached: a batch of deliveries reads the same endpoints' tokens over and over.
    return MultiFernet([_fernet(each) for each in (key, *fallbacks)]).decrypt(stored.encode()).decode()


def reseal_published(stored: str) -> str | None:
    """``stored`` sealed again with the current key if only the published development key opens it; else None."""
    try:
        unseal(stored)
        return None
    except InvalidToken:
        pass
    try:
        plain = _fernet(settings.PUBLISHED_DEV_SECRET_KEY).decrypt(stored.encode()).decode()
    except InvalidToken:
        return None  # no key of ours opens it: left as it is (reading it raises, as before)
    return seal(plain)


class SealedField(models.CharField):
    """A CharField whose value is encrypted in the database and plain in Python."""

    def from_db_value(self, value, expression, connection):
        return unseal(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return seal(value) if value else value


__all__ = ["InvalidToken", "SealedField", "reseal_published", "seal", "unseal"]
