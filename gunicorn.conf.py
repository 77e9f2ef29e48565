"""Gunicorn settings, read by every ``gunicorn`` started from the project root (bin/run, Procfile, tests).

Gunicorn answers a request it cannot parse (a request line over the limit, a
malformed header) itself, before Django sees it, with an HTML page. API
clients get the JSON error envelope everywhere else, so these answers are
written in the envelope too. The request line may be as long as gunicorn
allows (8,190 bytes), so long filter queries still reach the API.
"""

from __future__ import annotations

import json

from gunicorn import util

limit_request_line = 8190

_CODES = {
    400: "bad_request",
    403: "permission_denied",
    414: "uri_too_long",
    417: "expectation_failed",
    431: "request_header_fields_too_large",
    500: "server_error",
    501: "not_implemented",
}
_MESSAGES = {
    414: "The request line is too long (at most 8190 bytes).",
    431: "The request headers are too large.",
    500: "A server error occurred.",
}


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's own error answer, as the JSON error envelope instead of an HTML page."""
    message = _MESSAGES.get(status_int) or f"{reason}: the request could not be read."
    body = json.dumps({"error": {"code": _CODES.get(status_int, "bad_request"), "message": message}})
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, (head + body).encode("latin1"))


util.write_error = write_json_error


def on_starting(server) -> None:
    """Before the workers start: drop the metric files of processes that no longer run (decision 0034)."""
    from certhub.metrics.files import clean
    from config.observability import METRICS_DIR

    clean(METRICS_DIR)
