"""Request ids: accepted when valid, replaced otherwise, echoed, on the request's log lines (text and JSON)."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.test import Client

from certhub.logs import ContextFilter, JsonFormatter
from config.observability import LOGGING

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """The lines the console handler writes with LOG_FORMAT=json, captured for the test."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def test_a_valid_request_id_is_echoed():
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="req-42.a_B")
    assert response["X-Request-ID"] == "req-42.a_B"


@pytest.mark.parametrize("given", ["x" * 65, "has space", "semi;colon", "ünï", ""])
def test_an_invalid_request_id_is_replaced(given):
    response = Client().get("/healthz", HTTP_X_REQUEST_ID=given)
    made = response["X-Request-ID"]
    assert made != given and len(made) == 32 and made.isalnum()


def test_a_request_without_an_id_gets_a_new_one_each_time():
    client = Client()
    first, second = client.get("/healthz")["X-Request-ID"], client.get("/healthz")["X-Request-ID"]
    assert first != second


def test_the_requests_log_lines_carry_its_id_as_json(json_lines):
    response = Client().get("/api/v1/certifications/cert_ZZZZZZZZ", HTTP_X_REQUEST_ID="trace-404")
    assert response.status_code == 404
    lines = [line for line in json_lines() if line["logger"] == "django.request"]
    assert lines and all(line["request_id"] == "trace-404" for line in lines)
    assert {"time", "level", "logger", "message", "request_id"} <= lines[0].keys()


def test_text_lines_name_the_request_id():
    record = logging.LogRecord("certhub", logging.INFO, __file__, 1, "hello", None, None)
    ContextFilter().filter(record)
    text = logging.Formatter(LOGGING["formatters"]["plain"]["format"]).format(record)
    assert text.endswith("certhub [-] hello")
