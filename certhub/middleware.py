"""Keeps every response under ``/api/`` in the JSON error envelope.

Django answers some errors before a DRF view runs (no URL matched, an
exception outside DRF, the database gone): for API paths this middleware turns
those into the envelope, never an HTML page or a stack trace.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

from certhub.api.errors import error_response

logger = logging.getLogger("certhub.api")

API_PREFIX = "/api/"


def is_api_request(request: HttpRequest) -> bool:
    """Whether the request is for the REST API (its schema and docs excluded)."""
    path = request.path
    return path.startswith(API_PREFIX) and not path.startswith(("/api/schema", "/api/docs"))


class ApiErrorMiddleware:
    """Render non-JSON API errors and unhandled API exceptions as the envelope."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            is_api_request(request)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return error_response(response.status_code)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_request(request):
            return None
        if isinstance(exception, (OperationalError, InterfaceError)):
            logger.error("database unavailable: %s", type(exception).__name__)
            return error_response(503, "The database is unavailable; try again shortly.")
        if isinstance(exception, DatabaseError):
            logger.exception("database error")
            return error_response(500)
        logger.exception("unhandled API error")
        return error_response(500)
