"""Property-based fuzzing of every API operation against the project's own OpenAPI schema.

Schemathesis reads ``/api/schema/`` from the Django WSGI app and, for every
operation, generates valid and invalid requests, sends them in-process, and
checks each answer: no 5xx, a documented status code, the documented content
type and headers, and a body that matches the documented schema (the error
envelope included). Each operation is fuzzed twice: with a token holding every
API permission, and anonymously. The number of cases per operation is bounded
(``FUZZ_MAX_EXAMPLES``, default 25) so the suite stays fast; the total run is
printed at the end of the session.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import _user_with
from tests.hardening import figures

# A request can match the schema and still break a business rule (an unknown or
# inactive certification type, expires_at before issued_at, a duplicate record):
# those are documented 4xx answers, so "every schema-valid request is accepted"
# is not a property of this API. Every other check runs.
EXCLUDED_CHECKS = [positive_data_acceptance]
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
SECRET_MARKERS = ("Traceback", 'File "/', "SELECT ", "INSERT INTO", "UPDATE ", "psycopg", "sqlite3.")

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())

FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def unthrottled(monkeypatch):
    """Fuzzing sends many requests per second; throttling has its own tests (test_security)."""
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "1000000/min")
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "user", "1000000/min")


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Requests go straight to the WSGI handler, whose request signals would close the
    test's database connection (and its transaction); Django's own test client
    disconnects them the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token_header(db) -> dict[str, str]:
    from rest_framework.authtoken.models import Token

    user = _user_with("fuzzer", "add_certification", "change_certification", "delete_certification", "run_expiry_job")
    token, _ = Token.objects.get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}


def _check_no_leak(response) -> None:
    text = response.text
    for marker in SECRET_MARKERS:
        assert marker not in text, f"response leaks {marker!r}: {text[:300]}"


@pytest.mark.django_db
@schema.parametrize()
@FUZZ_SETTINGS
def test_authenticated_requests_conform_to_the_schema(case, token_header, unthrottled):
    figures.count("fuzz_cases_authenticated")
    response = case.call_and_validate(headers=token_header, excluded_checks=EXCLUDED_CHECKS)
    if response.status_code >= 400:
        figures.count(f"fuzz_status_{response.status_code}")
    _check_no_leak(response)


@pytest.mark.django_db
@schema.parametrize()
@FUZZ_SETTINGS
def test_anonymous_requests_conform_to_the_schema(case, unthrottled):
    figures.count("fuzz_cases_anonymous")
    response = case.call_and_validate(excluded_checks=EXCLUDED_CHECKS)
    _check_no_leak(response)
