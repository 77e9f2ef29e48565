"""DRF authentication by API key (``Bearer chk_...`` or ``Token chk_...``), and the legacy DRF tokens.

An expired or revoked key is a 401 that says which; a DRF token (a value
without ``chk_``) goes on to DRF's ``TokenAuthentication`` while
``API_LEGACY_TOKENS`` is on and is a 401 otherwise.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, TokenAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from access.keys import PREFIX, api_key_find, api_key_touch

KEYWORDS = {b"bearer", b"token"}


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer <key>`` or ``Token <key>``: the key's user, with the key as ``request.auth``."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() not in KEYWORDS:
            return None
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid API key.", code="authentication_failed") from None
        if not secret.startswith(PREFIX):
            if parts[0].lower() == b"token" and settings.API_LEGACY_TOKENS:
                return None  # a DRF token: LegacyTokenAuthentication decides
            if parts[0].lower() == b"token":
                raise AuthenticationFailed("DRF tokens are no longer accepted: use an API key.", code="legacy_token")
            raise AuthenticationFailed("Invalid API key.", code="authentication_failed")
        key = api_key_find(secret)
        if key is None:
            raise AuthenticationFailed("Invalid API key.", code="authentication_failed")
        now = timezone.now()
        if key.revoked_at is not None:
            raise AuthenticationFailed(
                f"This API key was revoked at {key.revoked_at:%Y-%m-%dT%H:%M:%SZ}.", code="key_revoked"
            )
        if key.expires_at <= now:
            raise AuthenticationFailed(
                f"This API key expired at {key.expires_at:%Y-%m-%dT%H:%M:%SZ}.", code="key_expired"
            )
        if not key.user.is_active:
            raise AuthenticationFailed("The API key's user is inactive.", code="authentication_failed")
        api_key_touch(key=key, now=now)
        return key.user, key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class LegacyTokenAuthentication(TokenAuthentication):
    """DRF's ``Token <key>`` (deprecated): accepted while ``API_LEGACY_TOKENS`` is on."""

    def authenticate(self, request):
        if not settings.API_LEGACY_TOKENS:
            return None
        return super().authenticate(request)
