"""The JSON error envelope, produced in one place for every API error.

``{"error": {"code": "...", "message": "...", "fields": {...}}}`` — ``fields``
appears only for errors about particular input fields.

Domain errors know nothing of HTTP: :data:`DOMAIN_ERRORS` is the one table that
gives each class its status and envelope code.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from certhub.errors import (
    AlreadyDecided,
    Conflict,
    CursorExpired,
    DomainError,
    JobAlreadyRunning,
    MentorErased,
    NotFound,
    PendingRequestExists,
    RuleViolation,
    ServiceUnavailable,
    StillLapsed,
    TooLarge,
)
from certhub.idempotency import IdempotencyKeyInProgress, IdempotencyKeyReused

STATUS_CODES = {
    400: "validation_error",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "gone",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "throttled",
    500: "server_error",
    503: "service_unavailable",
}
STATUS_MESSAGES = {
    400: "The request is invalid.",
    401: "Authentication credentials were not provided.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    405: "Method not allowed.",
    500: "A server error occurred.",
    503: "The service is temporarily unavailable.",
}


# Domain error class -> (HTTP status, envelope code). A class not listed takes the
# entry of its nearest listed base, so a new subclass answers like its parent.
DOMAIN_ERRORS: dict[type[DomainError], tuple[int, str]] = {
    DomainError: (400, "validation_error"),
    RuleViolation: (400, "validation_error"),
    NotFound: (404, "not_found"),
    Conflict: (409, "conflict"),
    StillLapsed: (409, "still_lapsed"),
    PendingRequestExists: (409, "pending_request_exists"),
    AlreadyDecided: (409, "already_decided"),
    MentorErased: (409, "mentor_erased"),
    JobAlreadyRunning: (409, "job_already_running"),
    CursorExpired: (410, "cursor_expired"),
    IdempotencyKeyInProgress: (409, "idempotency_key_in_progress"),
    IdempotencyKeyReused: (422, "idempotency_key_reused"),
    TooLarge: (413, "too_large"),
    ServiceUnavailable: (503, "service_unavailable"),
}


def domain_error_status(exc: DomainError) -> tuple[int, str]:
    """The HTTP status and envelope code of a domain error, from :data:`DOMAIN_ERRORS`."""
    return next(DOMAIN_ERRORS[cls] for cls in type(exc).__mro__ if cls in DOMAIN_ERRORS)


def envelope(code: str, message: str, fields: dict[str, list[str]] | None = None, **extra: Any) -> dict:
    """Build the error envelope body."""
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    error.update(extra)
    return {"error": error}


def error_response(status_code: int, message: str | None = None, code: str | None = None) -> JsonResponse:
    """A plain Django JSON error response (for errors raised outside DRF views)."""
    body = envelope(
        code or STATUS_CODES.get(status_code, "error"),
        message or STATUS_MESSAGES.get(status_code, "Request failed."),
    )
    return JsonResponse(body, status=status_code)


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into ``{"field.sub": ["message", ...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, value in enumerate(detail):
                out.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def _validation_message(fields: dict[str, list[str]]) -> str:
    named = [name for name in fields if name != "non_field_errors"]
    if named:
        return "Invalid input: " + ", ".join(sorted(named)) + "."
    messages = fields.get("non_field_errors") or ["Invalid input."]
    return messages[0]


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF exception handler that renders every error as the envelope."""
    if isinstance(exc, DomainError):
        set_rollback()
        status, code = domain_error_status(exc)
        return Response(envelope(code, exc.message, exc.fields, **exc.extra), status=status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a real server error: ApiErrorMiddleware renders the 500

    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        body = envelope("validation_error", _validation_message(fields), fields)
    else:
        detail = exc.detail
        message = str(detail) if not isinstance(detail, (dict, list)) else STATUS_MESSAGES.get(exc.status_code, "")
        code = getattr(detail, "code", None) or exc.default_code
        if isinstance(exc, exceptions.NotFound):
            code = "not_found"
        body = envelope(str(code), message)
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)
