"""API keys: making one (the secret shown once), revoking one, and finding the key a request sends.

A key is ``chk_`` and 40 URL-safe characters (240 random bits). Only
HMAC-SHA256 of it under a key derived from ``SECRET_KEY`` is stored
(decision 0039): a secret that random cannot be guessed from its hash, so a slow
password hasher would only cost every request time; the HMAC key means a copy of
the database alone does not even let one test a candidate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils.encoding import force_bytes

from access.models import ApiKey, SecurityEventKind
from access.security_log import Origin, security_event_write
from certhub.api.scopes import SCOPES
from certhub.errors import RuleViolation
from certhub.ids import create_with_unique_id

PREFIX = "chk_"
SECRET_CHARS = 40
MAX_DAYS = 400
# last_used_at is written when it is older than this: at most one UPDATE a minute per key.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def secret_hash(secret: str, signing_key: str | None = None) -> str:
    """The stored form of a key: HMAC-SHA256 under a key derived from ``SECRET_KEY`` (or a fallback)."""
    derived = hashlib.sha256(force_bytes("certhub.api-key\n" + (signing_key or settings.SECRET_KEY))).digest()
    return hmac.new(derived, force_bytes(secret), hashlib.sha256).hexdigest()


def candidate_hashes(secret: str) -> list[str]:
    """The hashes a stored key may have: under ``SECRET_KEY``, then each of ``SECRET_KEY_FALLBACKS``."""
    return [secret_hash(secret, key) for key in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]]


def _clean_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted({scope.strip() for scope in scopes if scope.strip()})
    unknown = [scope for scope in chosen if scope not in SCOPES]
    if unknown:
        raise RuleViolation(
            f"Unknown scopes: {', '.join(unknown)}.", fields={"scopes": [f"Choose from {', '.join(SCOPES)}."]}
        )
    if not chosen:
        raise RuleViolation("A key needs at least one scope.", fields={"scopes": ["Choose at least one scope."]})
    return chosen


def api_key_create(
    *, user, name: str, scopes: Iterable[str], expires_at: dt.datetime, now: dt.datetime, by, origin: Origin
) -> tuple[ApiKey, str]:
    """Make a key for ``user`` and log it; returns the key and its secret (shown once, never stored)."""
    scopes = _clean_scopes(scopes)
    if not name.strip():
        raise RuleViolation("A key needs a name.", fields={"name": ["This field may not be blank."]})
    if not user.is_active:
        raise RuleViolation("A key cannot be made for an inactive user.", fields={"user": ["The user is inactive."]})
    if expires_at <= now:
        raise RuleViolation("A key must expire in the future.", fields={"expires_at": ["Must be in the future."]})
    if expires_at > now + dt.timedelta(days=MAX_DAYS):
        raise RuleViolation(
            f"A key lives at most {MAX_DAYS} days.", fields={"expires_at": [f"At most {MAX_DAYS} days from now."]}
        )
    secret = PREFIX + secrets.token_urlsafe(30)  # 30 bytes: exactly 40 URL-safe characters
    with transaction.atomic():
        key = create_with_unique_id(
            ApiKey,
            field="key_id",
            prefix="key_",
            values={
                "name": name.strip()[:100],
                "user": user,
                "scopes": scopes,
                "secret_hash": secret_hash(secret),
                "expires_at": expires_at,
                "created_at": now,
                "created_by": by,
            },
        )
        security_event_write(
            kind=SecurityEventKind.KEY_CREATED,
            user=user,
            actor=by,
            origin=origin,
            now=now,
            detail=f"{key.key_id} {key.name!r}: {', '.join(scopes)}; expires {expires_at:%Y-%m-%d}",
        )
    return key, secret


def api_key_revoke(*, key: ApiKey, now: dt.datetime, by, origin: Origin) -> ApiKey:
    """Revoke ``key`` (repeat-safe: a revoked key keeps its first ``revoked_at``) and log it."""
    with transaction.atomic():
        if ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now):
            security_event_write(
                kind=SecurityEventKind.KEY_REVOKED, user=key.user, actor=by, origin=origin, now=now, detail=key.key_id
            )
    key.refresh_from_db(fields=["revoked_at"])
    return key


def api_key_find(secret: str) -> ApiKey | None:
    """The key whose secret this is, with its user (one query), or None."""
    if not secret.startswith(PREFIX) or len(secret) != len(PREFIX) + SECRET_CHARS:
        return None
    return ApiKey.objects.select_related("user").filter(secret_hash__in=candidate_hashes(secret)).first()


def api_key_touch(*, key: ApiKey, now: dt.datetime) -> None:
    """Record a use: an UPDATE only when ``last_used_at`` is a minute old (or unset), never more often."""
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
