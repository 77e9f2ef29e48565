"""Keeps every response under ``/api/`` in the JSON error envelope.

Django answers some errors before a DRF view runs (no URL matched, an
exception outside DRF, the database gone): for API paths this middleware turns
those into the envelope, never an HTML page or a stack trace. A query string
with more parameters than Django parses is refused here, on every path, before
the view reads it.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import (
    DisallowedHost,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import DatabaseError, DataError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.views.defaults import bad_request

from certhub.api.errors import error_response

logger = logging.getLogger("certhub.api")

API_PREFIX = "/api/"


def is_api_request(request: HttpRequest) -> bool:
    """Whether the request is for the REST API (its schema and docs excluded)."""
    path = request.path
    return path.startswith(API_PREFIX) and not path.startswith(("/api/schema", "/api/docs"))


def suspicious_request_response(exception: SuspiciousOperation) -> HttpResponse:
    """A request Django refuses as suspicious: the client's fault, so a 4xx that says why."""
    if isinstance(exception, RequestDataTooBig):
        return error_response(413, "The request body is too large.")
    if isinstance(exception, DisallowedHost):
        return error_response(400, "The Host header is not one this service answers to.", code="bad_request")
    logger.warning("suspicious request refused: %s", type(exception).__name__)
    if isinstance(exception, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return error_response(400, f"Too many query or form parameters (at most {limit}).", code="bad_request")
    if isinstance(exception, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return error_response(400, f"Too many files in one request (at most {limit}).", code="bad_request")
    return error_response(400, "The request is malformed and was refused.", code="bad_request")


def unreadable_query_response(request: HttpRequest) -> HttpResponse | None:
    """A 400 for a query string Django refuses to parse (``DATA_UPLOAD_MAX_NUMBER_FIELDS``), else None.

    Checked before the view reads ``request.GET``: DRF's content negotiation reads it
    before a renderer is chosen (so with ``DEBUG`` the error surfaced as an ``AttributeError``,
    a 500), and Django's debug page reads it again while reporting the first error.
    """
    try:
        request.GET  # noqa: B018 -- parsed here once, cached for the rest of the request
    except TooManyFieldsSent as exc:
        if is_api_request(request):
            return suspicious_request_response(exc)
        logger.warning("suspicious request refused: %s", type(exc).__name__)
        return bad_request(request, exc)
    return None


class ApiErrorMiddleware:
    """Render non-JSON API errors and unhandled API exceptions as the envelope.

    It sits first in ``MIDDLEWARE`` so that it also sees the answers Django gives
    before the view (a bad ``Host`` header refused by ``CommonMiddleware``).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            is_api_request(request)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            try:
                request.get_host()
            except DisallowedHost as exc:
                return suspicious_request_response(exc)
            return error_response(response.status_code)
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        return unreadable_query_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_request(request):
            return None
        if isinstance(exception, SuspiciousOperation):
            return suspicious_request_response(exception)
        if isinstance(exception, (OperationalError, InterfaceError)):
            logger.error("database unavailable: %s", type(exception).__name__)
            return error_response(503, "The database is unavailable; try again shortly.")
        if isinstance(exception, DataError):
            # SQLSTATE class 22: a value the database cannot take (a NUL byte, an out-of-range
            # number), which only a client's input can bring this far.
            logger.warning("data error on %s: %s", request.path, type(exception).__name__)
            return error_response(400, "A value in the request cannot be stored or searched for.")
        if isinstance(exception, DatabaseError):
            logger.exception("database error")
            return error_response(500)
        logger.exception("unhandled API error")
        return error_response(500)
