"""The error envelope on every API path, access rules and throttling; domain errors mapped to HTTP.

Test-only routes that fail on purpose live in this module's own URLconf
(``pytest.mark.urls(__name__)``); the project's URLs never hold them.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.db import OperationalError
from django.test import override_settings
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

import certhub.errors
import config.urls
from certhub.api.errors import DOMAIN_ERRORS, domain_error_status
from certhub.errors import Conflict, DomainError, JobAlreadyRunning, NotFound, RuleViolation, ServiceUnavailable
from certhub.idempotency import IdempotencyKeyInProgress, IdempotencyKeyReused
from certifications.models import Certification
from tests.certifications.api_helpers import ALIAS, BASE, assert_error, unchanged
from tests.factories import CertificationFactory

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-internal-detail"
BODY = {"mentor_id": "mntr_01HX4V2K8P", "certification_type": "peer_mentor_basic", "issued_at": "2026-01-01"}


# --- Test-only URLconf --------------------------------------------------------------


class _ApiBoom(APIView):
    """A DRF view with a bug."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError(SECRET)


class _ApiOk(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})


def _plain_boom(request):
    """A plain Django view with a bug."""
    raise ValueError(SECRET)


def _db_down(request):
    raise OperationalError(f"could not connect to server: {SECRET}")


urlpatterns = [
    path("api/v1/test-only/boom", _ApiBoom.as_view()),
    path("api/v1/test-only/plain-boom", _plain_boom),
    path("api/v1/test-only/db-down", _db_down),
    path("api/v1/test-only/ok", _ApiOk.as_view()),
    *config.urls.urlpatterns,
]
handler404 = config.urls.handler404
handler500 = config.urls.handler500


def _no_leak(response) -> None:
    text = response.content.decode()
    for leak in (SECRET, "Traceback", "RuntimeError", "ValueError", "OperationalError", ".py", "<html"):
        assert leak not in text, leak


# --- 500 and 503 --------------------------------------------------------------------


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("route", ["boom", "plain-boom"])
def test_a_crash_is_a_500_envelope_without_a_stack_trace(client, caplog, debug, route):
    # The default client re-raises an exception nobody handled: the envelope must come from
    # the API's own handling, not from Django's last-resort page (which DEBUG turns into a trace).
    with override_settings(DEBUG=debug):
        response = client.get(f"/api/v1/test-only/{route}")

    error = assert_error(response, 500, "server_error")
    assert error == {"code": "server_error", "message": "A server error occurred."}
    _no_leak(response)
    assert SECRET in caplog.text  # ... but the server log has it


@pytest.mark.urls(__name__)
def test_a_lost_database_is_a_503_envelope(client):
    response = client.get("/api/v1/test-only/db-down")

    assert_error(response, 503, "service_unavailable")
    _no_leak(response)


@pytest.mark.urls(__name__)
def test_the_test_only_routes_work_and_are_not_in_the_project():
    assert APIClient().get("/api/v1/test-only/ok").json() == {"ok": True}
    assert all("test-only" not in str(pattern.pattern) for pattern in config.urls.urlpatterns)


# --- Domain errors: no HTTP in the domain, one table in the API ---------------------


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (DomainError("Bad."), 400, "validation_error"),
        (RuleViolation("Bad.", fields={"expires_at": ["Must be in the future."]}), 400, "validation_error"),
        (NotFound("Gone."), 404, "not_found"),
        (Conflict("Taken.", certification_id="cert_0000000A"), 409, "conflict"),
        (JobAlreadyRunning("Busy.", job_run_id="job_01JAN2026_01"), 409, "job_already_running"),
        (IdempotencyKeyInProgress("Wait."), 409, "idempotency_key_in_progress"),
        (IdempotencyKeyReused("Other body."), 422, "idempotency_key_reused"),
        (ServiceUnavailable("Queue down."), 503, "service_unavailable"),
    ],
)
def test_each_domain_error_has_its_status_and_code_in_the_api_table(error, status, code):
    assert domain_error_status(error) == (status, code)


def test_a_subclass_not_in_the_table_answers_like_its_parent():
    class StaleRecord(Conflict):
        pass

    assert domain_error_status(StaleRecord("Stale.")) == (409, "conflict")


def test_domain_errors_name_what_went_wrong_without_http():
    classes = [
        value for value in vars(certhub.errors).values() if isinstance(value, type) and issubclass(value, DomainError)
    ] + [IdempotencyKeyInProgress, IdempotencyKeyReused]

    assert set(classes) == set(DOMAIN_ERRORS)  # the table covers every domain error
    for cls in classes:
        assert not hasattr(cls, "status_code"), cls
        assert not hasattr(cls, "code"), cls
    error = Conflict("Taken.", fields={"issued_at": ["Taken."]}, certification_id="cert_0000000A")
    assert (error.message, error.fields, error.extra) == (
        "Taken.",
        {"issued_at": ["Taken."]},
        {"certification_id": "cert_0000000A"},
    )


# --- 404 and 405 --------------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "path", ["/api/v1/certifications/cert_ZZZZZZZZ", "/api/v1/nothing", "/api/v9/certifications", "/api/"]
)
def test_not_found_is_an_envelope_on_api_paths(client, debug, path):
    with override_settings(DEBUG=debug):
        response = client.get(path)
    assert_error(response, 404, "not_found")
    _no_leak(response)


def test_not_found_elsewhere_stays_a_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("delete", BASE, {"GET", "POST", "HEAD", "OPTIONS"}),
        ("put", BASE + "/", {"GET", "POST", "HEAD", "OPTIONS"}),
        ("post", f"{BASE}/cert_0000000A", {"GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}),
        ("post", f"{ALIAS}/cert_0000000A/", {"GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}),
        ("get", f"{BASE}/expiry-job/run", {"POST", "OPTIONS"}),
        ("delete", f"{BASE}/expiry-job/logs", {"GET", "HEAD", "OPTIONS"}),
        ("post", f"{BASE}/expiry-job/runs", {"GET", "HEAD", "OPTIONS"}),
    ],
)
@pytest.mark.parametrize("who", ["anonymous", "writer", "reader"])
def test_an_unserved_method_is_405_for_everyone(anon_client, api_client, reader_client, method, path, allowed, who):
    CertificationFactory(certification_id="cert_0000000A")
    client = {"anonymous": anon_client, "writer": api_client, "reader": reader_client}[who]

    with unchanged():
        response = getattr(client, method)(path, {}, format="json")

    assert_error(response, 405, "method_not_allowed")
    assert {m.strip() for m in response["Allow"].split(",")} == allowed


# --- 415 and parse errors -----------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("text/plain", "mentor_id=mntr_01HX4V2K8P"),
        ("application/x-www-form-urlencoded", "mentor_id=mntr_01HX4V2K8P&certification_type=peer_mentor_basic"),
        ("application/xml", "<certification/>"),
    ],
)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_a_body_that_is_not_json_is_415(api_client, content_type, raw, method):
    CertificationFactory(certification_id="cert_0000000A")
    path = BASE if method == "POST" else f"{BASE}/cert_0000000A"

    with unchanged():
        response = api_client.generic(method, path, raw, content_type=content_type)

    error = assert_error(response, 415, "unsupported_media_type")
    assert content_type in error["message"]


def test_a_multipart_form_is_415(api_client):
    with unchanged():
        response = api_client.post(BASE, BODY)  # the test client's default: multipart
    assert_error(response, 415, "unsupported_media_type")


def test_malformed_json_is_a_parse_error(api_client):
    with unchanged():
        response = api_client.generic(
            "POST", BASE, '{"mentor_id": "mntr_01HX4V2K8P",}', content_type="application/json"
        )
    error = assert_error(response, 400, "parse_error")
    assert "JSON" in error["message"]
    assert "fields" not in error


# --- 400 and 409 shapes -------------------------------------------------------------


def test_validation_error_lists_every_bad_field(api_client):
    with unchanged():
        response = api_client.post(
            BASE, {"mentor_id": "nope", "certification_type": "x y", "issued_at": "2026-01-01T00:00:00"}, format="json"
        )
    error = assert_error(response, 400, "validation_error", fields={"mentor_id", "certification_type", "issued_at"})
    assert error["message"] == "Invalid input: certification_type, issued_at, mentor_id."


def test_conflict_names_the_existing_record(api_client):
    first = api_client.post(BASE, BODY, format="json").json()

    with unchanged():
        response = api_client.post(BASE, BODY, format="json")

    error = assert_error(response, 409, "conflict")
    assert set(error) == {"code", "message", "certification_id"}
    assert error["certification_id"] == first["certification_id"]


# --- 401 and 403 --------------------------------------------------------------------

WRITES = [
    ("post", BASE, BODY),
    ("put", f"{BASE}/cert_0000000A", {"status": "revoked"}),
    ("patch", f"{BASE}/cert_0000000A", {"status": "revoked"}),
    ("delete", f"{BASE}/cert_0000000A", None),
    ("post", f"{BASE}/expiry-job/run", {"dry_run": True}),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_a_write_without_credentials_is_401(anon_client, method, path, body):
    CertificationFactory(certification_id="cert_0000000A")

    with unchanged():
        response = getattr(anon_client, method)(path, body, format="json")

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize("header", ["Token 0123456789abcdef0123456789abcdef01234567", "Token ", "Token a b"])
@pytest.mark.parametrize(("method", "path", "body"), [WRITES[0], WRITES[3], ("get", BASE, None)])
def test_a_bad_token_is_401_even_for_reads(writer, method, path, body, header):
    CertificationFactory(certification_id="cert_0000000A")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    with unchanged():
        response = getattr(client, method)(path, body, format="json")

    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_a_write_without_permission_is_403(reader_client, method, path, body):
    CertificationFactory(certification_id="cert_0000000A")

    with unchanged():
        response = getattr(reader_client, method)(path, body, format="json")

    assert_error(response, 403, "permission_denied")


@pytest.mark.parametrize(
    ("codename", "allowed_method"),
    [("add_certification", "post"), ("change_certification", "patch"), ("delete_certification", "delete")],
)
def test_each_write_needs_its_own_permission(codename, allowed_method):
    CertificationFactory(certification_id="cert_0000000A")
    user = User.objects.create_user("partial")
    user.user_permissions.add(Permission.objects.get(codename=codename))
    client = APIClient()
    client.force_authenticate(user)
    attempts = {
        "post": lambda: client.post(BASE, BODY, format="json"),
        "patch": lambda: client.patch(f"{BASE}/cert_0000000A", {"status": "revoked"}, format="json"),
        "delete": lambda: client.delete(f"{BASE}/cert_0000000A"),
    }

    for method, attempt in attempts.items():
        if method == allowed_method:
            continue
        with unchanged():
            assert_error(attempt(), 403, "permission_denied")
    assert attempts[allowed_method]().status_code in (200, 201)


def test_a_session_write_needs_the_csrf_token(writer):
    CertificationFactory(certification_id="cert_0000000A")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(writer)

    with unchanged():
        response = client.patch(f"{BASE}/cert_0000000A", {"status": "revoked"}, format="json")

    error = assert_error(response, 403, "permission_denied")
    assert "CSRF" in error["message"]


def test_a_session_write_with_the_csrf_token_works(writer):
    CertificationFactory(certification_id="cert_0000000A")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(writer)
    client.get("/admin/login/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value

    response = client.patch(f"{BASE}/cert_0000000A", {"status": "revoked"}, format="json", HTTP_X_CSRFTOKEN=token)

    assert response.status_code == 200
    assert Certification.objects.get().status == "revoked"


READS = [BASE, f"{BASE}/cert_0000000A", f"{ALIAS}/cert_0000000A/", f"{BASE}/expiry-job/logs", f"{BASE}/expiry-job/runs"]


@pytest.mark.parametrize("path", READS)
def test_reads_are_public_by_default(anon_client, path):
    CertificationFactory(certification_id="cert_0000000A")
    assert anon_client.get(path).status_code == 200


@override_settings(API_PUBLIC_READS=False)
@pytest.mark.parametrize("path", READS)
def test_closed_reads_need_credentials(anon_client, reader_client, path):
    CertificationFactory(certification_id="cert_0000000A")

    assert_error(anon_client.get(path), 401, "not_authenticated")
    assert reader_client.get(path).status_code == 200  # any authenticated user may read


# --- 429 ----------------------------------------------------------------------------


@pytest.fixture
def tiny_throttle(monkeypatch):
    """Rates of 2/min (anonymous) and 3/min (users).

    DRF copies ``DEFAULT_THROTTLE_RATES`` into ``SimpleRateThrottle.THROTTLE_RATES`` when
    ``rest_framework.throttling`` is imported, so overriding the setting does not reach it;
    the class attribute is what each throttle reads when it is built (once per request).
    """
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": "3/min"})


def test_anonymous_clients_are_throttled(anon_client, tiny_throttle):
    assert [anon_client.get(BASE).status_code for _ in range(2)] == [200, 200]

    response = anon_client.get(BASE)

    error = assert_error(response, 429, "throttled")
    assert "available in" in error["message"]
    assert 0 < int(response["Retry-After"]) <= 60


def test_authenticated_clients_have_their_own_rate(api_client, anon_client, tiny_throttle):
    statuses = [
        api_client.post(BASE, {**BODY, "issued_at": f"2026-01-0{n}"}, format="json").status_code for n in range(1, 4)
    ]
    assert statuses == [201, 201, 201]

    with unchanged():
        response = api_client.post(BASE, {**BODY, "issued_at": "2026-01-09"}, format="json")

    assert_error(response, 429, "throttled")
    assert Certification.objects.count() == 3


def test_throttle_rates_come_from_the_settings():
    from django.conf import settings

    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates == {"anon": settings.API_THROTTLE_ANON, "user": settings.API_THROTTLE_USER}
    assert rates == SimpleRateThrottle.THROTTLE_RATES


def test_on_redis_a_throttle_checks_and_records_a_request_in_one_step(anon_client, tiny_throttle):
    """The window lives in a Redis list that one script reads, trims and appends to; DRF's key is never written."""
    from django.core.cache import cache, caches

    from certhub.cache import RedisCache

    if not isinstance(caches["default"], RedisCache):  # ``cache`` is a proxy
        pytest.skip("needs the Redis cache")
    assert [anon_client.get(BASE).status_code for _ in range(3)] == [200, 200, 429]

    client = cache._cache.get_client()
    ident = "127.0.0.1"
    assert client.llen(cache.make_key(f"throttle_anon_{ident}:window")) == 2  # the refused request is not recorded
    assert cache.get(f"throttle_anon_{ident}") is None


def test_the_one_step_window_slides_as_drfs(tiny_throttle):
    """Requests older than the window leave it; the wait is DRF's, from the oldest request in the window.

    On either cache: Redis's script, or the windows in process memory (``LocalCache``).
    """
    from django.core.cache import cache

    cache.clear()
    steps = [cache.rate_window("slide", now=t, duration=60, limit=2) for t in (1000.0, 1010.0, 1020.0, 1061.0)]
    assert steps == [(True, 1, 1000.0), (True, 2, 1000.0), (False, 2, 1000.0), (True, 2, 1010.0)]
