"""OpenAPI: the API key scheme (bearer) beside DRF's token scheme (deprecated)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "access.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "chk_ followed by 40 URL-safe characters",
            "description": (
                "An API key, sent as `Authorization: Bearer chk_...` (or `Token chk_...`). A request needs the "
                "operation's scope (`x-required-scope`) and the key's user's permission."
            ),
        }


class LegacyTokenScheme(OpenApiAuthenticationExtension):
    target_class = "access.authentication.LegacyTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Deprecated: a DRF token as `Token <key>`, accepted while API_LEGACY_TOKENS is on.",
        }
