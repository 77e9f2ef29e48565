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
import uuid

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils.dateparse import parse_datetime
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import GenerationMode

from tests.conftest import _user_with
from tests.hardening import figures

# A request can match the schema and still break a business rule (an unknown or
# inactive certification type, expires_at before issued_at, a duplicate record):
# those are documented 4xx answers, so "every schema-valid request is accepted"
# is not a property of this API. Every other check runs.
EXCLUDED_CHECKS = []  # every check runs, "schema-valid requests are accepted" included
CERTS = "/api/v1/certifications"
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
IMPORT_CSV = "mentor_id,certification_type,issued_at\nmntr_01HX4V2K8P,peer_mentor_basic,2026-01-15\n"
LATER_THAN_NOW = "2999-12-31T00:00:00Z"
SECRET_MARKERS = ("Traceback", 'File "/', "SELECT ", "INSERT INTO", "UPDATE ", "psycopg", "sqlite3.")


@pytest.fixture(scope="session")
def api_schema(django_db_setup, django_db_blocker):
    """``/api/schema/`` as the app serves it (the type enum is read from the test database)."""
    with django_db_blocker.unblock():
        return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


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

    user = _user_with(
        "fuzzer",
        "add_certification",
        "change_certification",
        "delete_certification",
        "run_expiry_job",
        "view_mentor",
        "change_mentor",
    )
    token, _ = Token.objects.get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}


def _check_no_leak(response) -> None:
    text = response.text
    for marker in SECRET_MARKERS:
        assert marker not in text, f"response leaks {marker!r}: {text[:300]}"


def respect_rules_a_schema_cannot_state(case):
    """Keep a valid case valid under the rules JSON Schema cannot express (valid cases only).

    Each is documented and has its own tests: ``expires_at`` later than ``issued_at``;
    without ``expires_at``, ``issued_at`` plus the type's validity (at most 36 months)
    within the calendar; an ``Idempotency-Key`` sent again with another body is a 422
    (so each case gets a key of its own); an eligibility ``through`` must not be
    earlier than now (a valid one in the past is moved to 2999); an import's file is CSV
    with the import's header (a schema can say "a string", not "a CSV file with these
    columns"). Invalid cases are
    sent as generated.
    """
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = f"fuzz-{uuid.uuid4().hex}"
    if case.operation.method.upper() == "POST" and case.operation.path == f"{CERTS}/import":
        case.body = IMPORT_CSV if case.media_type == "text/csv" else {"file": IMPORT_CSV}
        return case
    body = case.body
    for holder in (case.query, body):
        if isinstance(holder, dict) and "through" in holder:
            holder["through"] = LATER_THAN_NOW
    if case.operation.method.upper() == "POST" and case.operation.path == CERTS and isinstance(body, dict):
        issued = parse_datetime(body["issued_at"])
        if "expires_at" in body:
            if parse_datetime(body["expires_at"]) <= issued:
                body["issued_at"], body["expires_at"] = "2026-03-26T00:00:00Z", "2028-03-26T00:00:00Z"
        elif issued.year > 9995:
            body["issued_at"] = "9995-03-26T00:00:00Z"
    return case


def fuzz(api_schema, check) -> None:
    """Run ``check`` on generated cases of every operation, valid ones and invalid ones.

    (Each operation in a loop rather than schemathesis' own parametrization: the
    schema is built from the test database, which exists only once tests run.)
    """
    for result in api_schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode).map(respect_rules_a_schema_cannot_state))
            @FUZZ_SETTINGS
            def run(case):
                check(case)

            try:
                run()
            except Unsatisfiable:
                # Nothing about this operation can be made invalid (e.g. a GET without parameters).
                assert mode == GenerationMode.NEGATIVE, operation.label


@pytest.mark.django_db
def test_authenticated_requests_conform_to_the_schema(api_schema, token_header, unthrottled):
    def check(case):
        figures.count("fuzz_cases_authenticated")
        response = case.call_and_validate(headers=token_header, excluded_checks=EXCLUDED_CHECKS)
        if response.status_code >= 400:
            figures.count(f"fuzz_status_{response.status_code}")
        _check_no_leak(response)

    fuzz(api_schema, check)


@pytest.mark.django_db
def test_anonymous_requests_conform_to_the_schema(api_schema, unthrottled):
    def check(case):
        figures.count("fuzz_cases_anonymous")
        response = case.call_and_validate(excluded_checks=EXCLUDED_CHECKS)
        _check_no_leak(response)

    fuzz(api_schema, check)
