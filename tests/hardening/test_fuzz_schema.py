"""Property-based fuzzing of every API operation against the project's own OpenAPI schema.

Schemathesis reads ``/api/schema/`` from the Django WSGI app and, for every
operation, generates valid and invalid requests, sends them in-process, and
checks each answer: no 5xx, a documented status code, the documented content
type and headers, and a body that matches the documented schema (the error
envelope included). Each operation is fuzzed twice: with a token holding every
API permission, and anonymously. The number of cases per operation is bounded
(``FUZZ_MAX_EXAMPLES``, default 25) so the suite stays fast; the total run is
printed at the end of the session. Two shorter runs (``FUZZ_KEY_MAX_EXAMPLES``,
default 1, a few dozen cases each) send an API key instead: one holding every
scope, which no operation refuses for its scope, and one holding only
``certifications:read``, which every other operation refuses with the documented
403 ``insufficient_scope`` naming the scope it needs.

The import (``POST /api/v1/certifications/import``) has tests of its own: its
generated cases, in either media type, carry CSV files drawn by
``tests/hardening/import_files.py`` (readable ones in valid cases, since a schema
cannot say "a CSV file with these columns"), and files the import refuses whole
are sent as cases of their own. Every answer is also held to its documented
schema strictly (no undocumented key), and an answer that applied nothing must
leave the database as it was.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid

import jsonschema
import pytest
import schemathesis
from django.apps import apps
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation

from access.keys import api_key_create
from access.security_log import COMMAND_LINE
from certhub.api.scopes import SCOPES
from certhub.models import IdempotencyKey
from certifications.models import Certification, CertificationType, Mentor
from certifications.totals.models import CertificationTally
from tests.certhub.test_schema import _json_schema
from tests.conftest import _user_with
from tests.hardening import figures
from tests.hardening.import_files import import_files, refused_files

# A request can match the schema and still break a business rule (an unknown or
# inactive certification type, expires_at before issued_at, a duplicate record):
# those are documented 4xx answers, so "every schema-valid request is accepted"
# is not a property of this API. Every other check runs.
EXCLUDED_CHECKS = []  # every check runs, "schema-valid requests are accepted" included
CERTS = "/api/v1/certifications"
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
KEY_MAX_EXAMPLES = int(os.environ.get("FUZZ_KEY_MAX_EXAMPLES", "1"))
NARROW_SCOPE = "certifications:read"
IMPORT = f"{CERTS}/import"
IMPORT_MEDIA_TYPES = ("text/csv", "multipart/form-data")
# The import is fuzzed with small limits, so that a drawn file can pass them (413) at little cost.
IMPORT_MAX_ROWS = 4
IMPORT_MAX_BYTES = 256 * 1024
LATER_THAN_NOW = "2999-12-31T00:00:00Z"
SECRET_MARKERS = ("Traceback", 'File "/', "SELECT ", "INSERT INTO", "UPDATE ", "psycopg", "sqlite3.")


@pytest.fixture(scope="session")
def api_schema(django_db_setup, django_db_blocker):
    """``/api/schema/`` as the app serves it (the type enum is read from the test database)."""
    with django_db_blocker.unblock():
        schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    # Each test sends its own credentials (or none), replacing whatever Authorization header a case
    # holds: a generated one, invalid in a negative case, would never reach the API.
    schema.config.generation.update(with_security_parameters=False)
    return schema


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


FUZZER_PERMISSIONS = (
    "add_certification",
    "change_certification",
    "delete_certification",
    "run_expiry_job",
    "view_mentor",
    "change_mentor",
)


@pytest.fixture
def token_header(db) -> dict[str, str]:
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=_user_with("fuzzer", *FUZZER_PERMISSIONS))
    return {"Authorization": f"Token {token.key}"}


def _key_header(*scopes: str) -> dict[str, str]:
    """``Authorization: Bearer chk_...`` of a key with ``scopes`` for a user holding the fuzzer's permissions."""
    now = timezone.now()
    _, secret = api_key_create(
        user=_user_with("key-fuzzer", *FUZZER_PERMISSIONS),
        name="fuzz",
        scopes=scopes,
        expires_at=now + dt.timedelta(days=30),
        now=now,
        by=None,
        origin=COMMAND_LINE,
    )
    return {"Authorization": f"Bearer {secret}"}


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
    earlier than now (a valid one in the past is moved to 2999). (An import's file is
    drawn by ``with_import_file``.) Invalid cases are sent as generated.
    """
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = f"fuzz-{uuid.uuid4().hex}"
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


def fuzz(api_schema, check, *, max_examples: int = MAX_EXAMPLES) -> None:
    """Run ``check`` on generated cases of every operation, valid ones and invalid ones.

    (Each operation in a loop rather than schemathesis' own parametrization: the
    schema is built from the test database, which exists only once tests run.)
    """
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if _is_import(operation):
            continue  # fuzzed once per media type, with drawn files, by the import tests below
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode).map(respect_rules_a_schema_cannot_state))
            @settings(FUZZ_SETTINGS, max_examples=max_examples)
            def run(case):
                check(case)

            try:
                run()
            except Unsatisfiable:
                # Nothing about this operation can be made invalid (e.g. a GET without parameters).
                assert mode == GenerationMode.NEGATIVE, operation.label


@pytest.mark.fuzz
@pytest.mark.django_db
def test_authenticated_requests_conform_to_the_schema(api_schema, token_header, unthrottled):
    def check(case):
        figures.count("fuzz_cases_authenticated")
        response = case.call_and_validate(headers=token_header, excluded_checks=EXCLUDED_CHECKS)
        if response.status_code >= 400:
            figures.count(f"fuzz_status_{response.status_code}")
        _check_no_leak(response)

    fuzz(api_schema, check)


@pytest.mark.fuzz
@pytest.mark.django_db
def test_anonymous_requests_conform_to_the_schema(api_schema, unthrottled):
    def check(case):
        figures.count("fuzz_cases_anonymous")
        response = case.call_and_validate(excluded_checks=EXCLUDED_CHECKS)
        _check_no_leak(response)

    fuzz(api_schema, check)


def _scope_of(case) -> str:
    return case.operation.definition.raw["x-required-scope"]


@pytest.mark.fuzz
@pytest.mark.django_db
def test_requests_with_a_key_holding_every_scope_conform_and_no_scope_is_missing(api_schema, unthrottled):
    header = _key_header(*SCOPES)

    def check(case):
        figures.count("fuzz_cases_key_every_scope")
        response = case.call_and_validate(headers=header, excluded_checks=EXCLUDED_CHECKS)
        _check_no_leak(response)
        if response.status_code == 403:
            assert response.json()["error"]["code"] != "insufficient_scope", (case.operation.label, response.text)

    fuzz(api_schema, check, max_examples=KEY_MAX_EXAMPLES)


@pytest.mark.fuzz
@pytest.mark.django_db
def test_requests_with_a_narrow_key_conform_and_other_scopes_are_a_403_naming_the_scope(api_schema, unthrottled):
    header = _key_header(NARROW_SCOPE)

    def check(case):
        figures.count("fuzz_cases_key_narrow")
        response = case.call_and_validate(headers=header, excluded_checks=EXCLUDED_CHECKS)
        _check_no_leak(response)
        needed = _scope_of(case)
        if needed == NARROW_SCOPE or response.status_code == 404:
            return  # its own scope; or a path no route matches, refused before any permission
        assert response.status_code == 403, (case.operation.label, response.status_code, response.text)
        error = response.json()["error"]
        assert error["code"] == "insufficient_scope" and needed in error["message"], error
        figures.count("fuzz_key_insufficient_scope")

    fuzz(api_schema, check, max_examples=KEY_MAX_EXAMPLES)


# --- The import: a CSV file, as a text/csv body or a multipart upload ------------------------------


def _is_import(operation) -> bool:
    return operation.method.upper() == "POST" and operation.path == IMPORT


def _as_body(media_type: str, data: bytes) -> str | dict:
    """A drawn readable file as the media type carries it: the text itself, or the multipart ``file``.

    (As text either way: the schema validates a case's body again once it is replaced, and
    text is what a string of ``format: binary`` holds there; it goes on the wire as UTF-8.)
    """
    text = data.decode("utf-8")
    return text if media_type == "text/csv" else {"file": text}


def _import_cases(operation, mode: GenerationMode, types: list[str]):
    """Generated cases of the import (either media type), each carrying a drawn file where the case is otherwise valid.

    A valid case gets a file the import reads (``import_files``: every row may be
    valid or not, the answer is a 200). An invalid case whose body is what
    schemathesis made invalid (not a string, no ``file``, not a form) is sent as
    generated; one whose query or header is invalid gets a readable file too, so
    the refusal is the flag's or the key's and must leave the file unapplied.
    """
    readable = import_files(types=types, max_rows=IMPORT_MAX_ROWS)

    @st.composite
    def cases(draw):
        case = draw(operation.as_strategy(generation_mode=mode).map(respect_rules_a_schema_cannot_state))
        if case.meta is None or not case.meta.is_negative_at(ParameterLocation.BODY):
            case.body = _as_body(case.media_type, draw(readable))
        return case

    return cases()


def _refused_cases(operation, media_type: str, types: list[str]):
    """Cases whose only fault is the file: a rule of the import that no schema states, so each is built here.

    A text/csv body or a multipart ``file`` the import refuses whole (empty, a
    bad header, not UTF-8, a NUL byte, a cell past the CSV field limit, too many
    rows or bytes), and, for multipart, a form without the ``file`` part and a
    body that is no form at all (with or without a boundary). Valid flags, a fresh
    ``Idempotency-Key`` or none.
    """
    files = refused_files(types=types, max_rows=IMPORT_MAX_ROWS, max_bytes=IMPORT_MAX_BYTES)
    flag = st.sampled_from(["true", "false", ""])
    query = st.fixed_dictionaries({}, optional={"dry_run": flag, "partial": flag})
    key = st.one_of(st.just({}), st.builds(lambda: {"Idempotency-Key": f"fuzz-{uuid.uuid4().hex}"}))
    if media_type == "text/csv":
        bodies = st.tuples(files, st.just({}))
    else:
        readable = import_files(types=types, max_rows=IMPORT_MAX_ROWS)
        not_a_form = st.sampled_from(["multipart/form-data", "multipart/form-data; boundary=fuzz"])
        bodies = st.one_of(
            st.tuples(files.map(lambda data: {"file": data}), st.just({})),
            st.tuples(st.just({}), st.just({})),
            st.tuples(readable.map(lambda data: {"upload": data}), st.just({})),
            st.tuples(readable, not_a_form.map(lambda value: {"Content-Type": value})),
        )
    return st.builds(
        lambda body, query, key: operation.Case(
            body=body[0], media_type=media_type, query=query, headers={**body[1], **key}
        ),
        bodies,
        query,
        key,
    )


def _stored_state(*, with_keys: bool) -> dict:
    """What an import can write: the rows of records, mentors and tallies, and the count of every table."""
    counts = {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if with_keys or model is not IdempotencyKey
    }
    return {
        "certifications": list(Certification.objects.order_by("pk").values()),
        "mentors": list(Mentor.objects.order_by("pk").values()),
        "tallies": list(CertificationTally.objects.order_by("pk").values()),
        **counts,
    }


def _strict_answers(api_schema) -> dict[str, jsonschema.Draft202012Validator]:
    """The import's documented answers by status, as strict JSON Schema: an undocumented key is a failure too."""
    raw = api_schema.raw_schema
    components = _json_schema(raw)["components"]
    return {
        status: jsonschema.Draft202012Validator(
            {**entry["content"]["application/json"]["schema"], "components": components}
        )
        for status, entry in raw["paths"][IMPORT]["post"]["responses"].items()
    }


def _send_import(case, headers: dict | None, answers: dict) -> None:
    """Send one import case with every check; an answer that applied nothing must have changed nothing."""
    before = _stored_state(with_keys=True), _stored_state(with_keys=False)
    response = case.call_and_validate(headers=headers, excluded_checks=EXCLUDED_CHECKS)
    _check_no_leak(response)
    answers[str(response.status_code)].validate(response.json())
    figures.count("fuzz_import_cases")
    figures.count(f"fuzz_import_{case.media_type.split('/')[0]}_{response.status_code}")
    if response.status_code == 200 and response.json()["applied"]:
        figures.count("fuzz_import_applied")
        return
    # A stored key remembers a 200 that applied nothing (a dry run, an invalid row); an error stores none.
    after = _stored_state(with_keys=response.status_code != 200)
    assert after == before[0 if response.status_code != 200 else 1], (
        f"{case.media_type} answered {response.status_code} and applied nothing, yet the database changed"
    )
    if response.status_code == 200:
        assert response.json()["dry_run"] or any(row["action"] == "invalid" for row in response.json()["rows"])


def fuzz_import(api_schema, send) -> None:
    """Run ``send`` on the import's cases: generated valid and invalid ones, and refused files in each media type."""
    operation = api_schema[IMPORT]["POST"]
    answers = _strict_answers(api_schema)
    types = list(CertificationType.objects.filter(is_active=True).order_by("code").values_list("code", flat=True))
    strategies = [_import_cases(operation, mode, types) for mode in GenerationMode]
    strategies += [_refused_cases(operation, media_type, types) for media_type in IMPORT_MEDIA_TYPES]
    for strategy in strategies:

        @given(case=strategy)
        @FUZZ_SETTINGS
        def run(case):
            meta = case.meta
            note(f"{case.media_type}, {meta.generation.mode.value if meta else 'built'}: query={case.query!r}")
            note(f"headers={dict(case.headers or {})!r} body={case.body!r:.500}")
            if meta is not None:
                note(f"{ {location.value: info.mode.value for location, info in meta.components.items()} }")
            send(case, answers)

        run()


@pytest.fixture
def import_limits(settings):
    settings.IMPORT_MAX_ROWS = IMPORT_MAX_ROWS
    settings.IMPORT_MAX_BYTES = IMPORT_MAX_BYTES


@pytest.mark.django_db
def test_authenticated_import_requests_conform_to_the_schema(api_schema, token_header, unthrottled, import_limits):
    def send(case, answers):
        figures.count("fuzz_cases_authenticated")
        _send_import(case, token_header, answers)

    fuzz_import(api_schema, send)


@pytest.mark.django_db
def test_anonymous_import_requests_conform_to_the_schema(api_schema, unthrottled, import_limits):
    def send(case, answers):
        figures.count("fuzz_cases_anonymous")
        _send_import(case, None, answers)

    fuzz_import(api_schema, send)
