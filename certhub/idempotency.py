"""``Idempotency-Key`` support for write endpoints, implemented once.

A client that may retry a write (a timeout, a dropped connection) sends a key
of its choosing in the ``Idempotency-Key`` header:

- the first request with a key runs and, when it succeeds (2xx), its status
  and body are stored;
- a retry with the same key and the same body gets that stored response back
  (header ``Idempotent-Replayed: true``) and runs nothing;
- the same key with another body, another endpoint or another method is a 422
  ``idempotency_key_reused``;
- a retry while the first request still runs is a 409
  ``idempotency_key_in_progress``; it never runs twice;
- an error answer (4xx, 5xx, an exception) releases the key, so the client
  may fix the request and retry with it.

Keys belong to the authenticated user (anonymous clients cannot write) and
expire ``IDEMPOTENCY_KEY_TTL_HOURS`` (default 24) after first use. The key row
is inserted in its own transaction before the write runs, guarded by a unique
constraint, so concurrent duplicates cannot both execute. A row left "in
progress" by a process that died is taken over after
``IDEMPOTENCY_IN_PROGRESS_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from certhub.errors import Conflict, DomainError, RuleViolation
from certhub.models import IdempotencyKey

logger = logging.getLogger("certhub.api")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# What the schema promises a key looks like: 1-255 printable ASCII characters, no space
# at either end (an HTTP server strips those before the application sees the header).
KEY_PATTERN = r"^[!-~]([ -~]{0,253}[!-~])?$"

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name=HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Optional key (1-255 printable ASCII characters) that makes a retry safe: a repeat with the same key "
        "and body returns the first response (header `Idempotent-Replayed: true`) and changes nothing; the "
        "same key with another body is a 422 `idempotency_key_reused`; a repeat while the first request still "
        "runs is a 409 `idempotency_key_in_progress`. Keys are per user and expire after "
        "`IDEMPOTENCY_KEY_TTL_HOURS` (default 24) hours. Only successful responses are remembered."
    ),
)


class IdempotencyKeyReused(DomainError):
    """The key was already used for a different request."""


class IdempotencyKeyInProgress(Conflict):
    """The first request with this key has not finished yet."""


def _ttl() -> dt.timedelta:
    return dt.timedelta(hours=getattr(settings, "IDEMPOTENCY_KEY_TTL_HOURS", 24))


def _in_progress_timeout() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "IDEMPOTENCY_IN_PROGRESS_TIMEOUT_SECONDS", 600))


def _valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and all(" " <= char <= "~" for char in key)


def request_fingerprint(*, scope: str, method: str, data: object) -> str:
    """SHA-256 of the endpoint scope, the method and the canonical JSON body."""
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{scope}\n{method}\n{body}".encode()).hexdigest()


def _claim(*, user, key: str, fingerprint: str, now: dt.datetime) -> IdempotencyKey | None:
    """Insert the key row in its own transaction; return the existing row if the key is taken."""
    # Expired rows of this user go first, so an expired key is free to use again.
    IdempotencyKey.objects.filter(user=user, expires_at__lte=now).delete()
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(
                user=user, key=key, fingerprint=fingerprint, created_at=now, expires_at=now + _ttl()
            )
        return None
    except IntegrityError:
        existing = IdempotencyKey.objects.filter(user=user, key=key).first()
        if existing is None:  # released between our insert and this read: try once more
            return _claim(user=user, key=key, fingerprint=fingerprint, now=now)
        return existing


def _take_over_abandoned(row: IdempotencyKey, *, now: dt.datetime) -> bool:
    """Take an in-progress row whose request died; True when this request now owns it."""
    if row.created_at > now - _in_progress_timeout():
        return False
    return bool(
        IdempotencyKey.objects.filter(pk=row.pk, status_code__isnull=True, created_at=row.created_at).update(
            created_at=now, expires_at=now + _ttl()
        )
    )


def _release(user, key: str) -> None:
    try:
        IdempotencyKey.objects.filter(user=user, key=key, status_code__isnull=True).delete()
    except Exception:  # the database may be what failed; the row then waits for its timeout
        logger.warning("could not release an idempotency key after a failed request")


def idempotent(scope: str, *, fingerprint_data: Callable[[Request], object] | None = None) -> Callable:
    """Decorate a DRF handler method (``post``, ``create``) to honour ``Idempotency-Key``.

    ``scope`` names the endpoint; it is part of the request fingerprint so a
    key sent to another endpoint counts as a different request. The handler
    runs after authentication, permissions and throttling, so only a user
    allowed to write ever stores a key. ``fingerprint_data(request)`` gives what
    identifies the request when ``request.data`` does not (an uploaded file's
    content, the query string).
    """

    def decorator(handler: Callable) -> Callable:
        @functools.wraps(handler)
        def wrapper(view, request: Request, *args, **kwargs) -> Response:
            key = request.headers.get(HEADER)
            if key is None or not request.user.is_authenticated:
                return handler(view, request, *args, **kwargs)
            if not _valid_key(key):
                raise RuleViolation(
                    f"{HEADER} must be 1-{MAX_KEY_LENGTH} printable ASCII characters.",
                    fields={HEADER: ["Must be 1-255 printable ASCII characters."]},
                )
            now = timezone.now()
            data = request.data if fingerprint_data is None else fingerprint_data(request)
            fingerprint = request_fingerprint(scope=scope, method=request.method, data=data)
            row = _claim(user=request.user, key=key, fingerprint=fingerprint, now=now)
            if row is not None:
                if row.fingerprint != fingerprint:
                    raise IdempotencyKeyReused(
                        f"This {HEADER} was already used for a different request; use a new key."
                    )
                if row.status_code is not None:
                    return Response(row.response_body, status=row.status_code, headers={REPLAYED_HEADER: "true"})
                if not _take_over_abandoned(row, now=now):
                    raise IdempotencyKeyInProgress(
                        f"A request with this {HEADER} is still being processed; retry shortly."
                    )
            try:
                response = handler(view, request, *args, **kwargs)
            except BaseException:
                _release(request.user, key)
                raise
            if 200 <= response.status_code < 300:
                IdempotencyKey.objects.filter(user=request.user, key=key).update(
                    status_code=response.status_code, response_body=response.data
                )
            else:
                _release(request.user, key)
            return response

        return wrapper

    return decorator
