"""OpenAPI schema hooks."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

ALIAS_MARKER = "/api/v1/certifications/api/v1/certifications"


def exclude_contract_aliases(endpoints: list, **kwargs) -> list:
    """Keep the contract's literal doubled paths and trailing-slash twins out of the schema."""
    kept = []
    for path, path_regex, method, callback in endpoints:
        if ALIAS_MARKER in path or (path.endswith("/") and path.startswith("/api/v1/")):
            continue
        kept.append((path, path_regex, method, callback))
    return kept


class _ErrorBody(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


class ErrorEnvelopeSerializer(serializers.Serializer):
    """``{"error": {"code", "message", "fields"?}}``"""

    error = _ErrorBody()


ERROR_DESCRIPTIONS = {
    400: "Invalid input (validation_error, parse_error)",
    401: "No or invalid credentials (not_authenticated)",
    403: "Not allowed (permission_denied)",
    404: "Not found (not_found)",
    405: "Method not allowed (method_not_allowed)",
    409: "Conflict (conflict, job_already_running, idempotency_key_in_progress)",
    415: "Unsupported media type",
    422: "Idempotency-Key already used for a different request (idempotency_key_reused)",
    429: "Too many requests (throttled)",
    503: "A dependency is unavailable (service_unavailable)",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """Schema entries for the error envelope at the given statuses (429 always included)."""
    wanted = sorted({*statuses, 429})
    return {code: OpenApiResponse(ErrorEnvelopeSerializer, description=ERROR_DESCRIPTIONS[code]) for code in wanted}
