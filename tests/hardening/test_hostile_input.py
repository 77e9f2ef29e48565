"""A hostile client's input: every answer on an API path is a 4xx in the JSON envelope, nothing changes.

Each case was a 500 or an HTML page before: Django's "suspicious request" errors,
a body nested too deeply for Python's JSON parser, a body over the upload limit,
a value the database cannot take, a Host header the service does not answer to.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from django.test import Client

from certifications.models import Certification, Mentor
from tests.factories import CertificationFactory
from tests.hardening.servers import create_token, gunicorn, http, manage

CERTS = "/api/v1/certifications"
VALID = {"mentor_id": "mntr_01HX4V2K8P", "certification_type": "peer_mentor_basic", "issued_at": "2026-03-26T00:00:00Z"}

pytestmark = pytest.mark.django_db


def assert_envelope(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body


def assert_nothing_written() -> None:
    assert Certification.objects.count() == 0
    assert Mentor.objects.count() == 0


def test_more_query_parameters_than_django_accepts_is_a_400(anon_client):
    query = "&".join(f"p{i}=1" for i in range(1100))
    body = assert_envelope(anon_client.get(f"{CERTS}?{query}"), 400, "bad_request")
    assert "1000" in body["error"]["message"] or "fields" in body["error"]["message"]


def test_json_nested_a_thousand_deep_is_a_parse_error(api_client):
    deep = "[" * 1000 + "]" * 1000
    body = '{"mentor_id": "mntr_01HX4V2K8P", "certification_type": "peer_mentor_basic", "x": ' + deep + "}"
    response = api_client.post(CERTS, data=body, content_type="application/json")
    assert_envelope(response, 400, "parse_error")
    assert_nothing_written()


@pytest.mark.parametrize("megabytes", [3, 10])
def test_a_body_over_the_upload_limit_is_a_413(api_client, megabytes):
    body = json.dumps({**VALID, "revocation_reason": "x" * (megabytes * 1024 * 1024)})
    response = api_client.post(CERTS, data=body, content_type="application/json")
    assert_envelope(response, 413, "payload_too_large")
    assert_nothing_written()


@pytest.mark.parametrize("debug", [True, False])
def test_a_host_header_the_service_does_not_serve_is_a_json_400_without_settings(settings, debug):
    settings.DEBUG = debug
    response = Client(HTTP_HOST="evil.example").get(CERTS)
    body = assert_envelope(response, 400, "bad_request")
    assert "Host" in body["error"]["message"]
    assert b"SECRET_KEY" not in response.content and b"Traceback" not in response.content


def test_a_bad_host_outside_the_api_still_gets_djangos_answer(settings):
    settings.DEBUG = False
    response = Client(HTTP_HOST="evil.example").get("/admin/login/")
    assert response.status_code == 400
    assert not response["Content-Type"].startswith("application/json")


@pytest.mark.postgres
def test_a_nul_byte_in_an_id_is_a_4xx_on_postgresql(anon_client):
    response = anon_client.get(f"{CERTS}/cert_%00")
    assert response.status_code in (400, 404), response.content
    assert response.json()["error"]["code"] in ("validation_error", "not_found")


@pytest.mark.standalone
@pytest.mark.slow
@pytest.mark.parametrize(("length", "status"), [(6000, 200), (9000, 414)])
def test_request_lines_up_to_gunicorns_limit_reach_the_api_and_longer_ones_get_the_envelope(
    tmp_path, sqlite_env, length, status
):
    padding = "x" * (length - len(CERTS) - 30)
    with gunicorn(sqlite_env, workers=1, log_path=tmp_path / "gunicorn.log") as base:
        answer, headers, body = http("GET", f"{base}{CERTS}?limit=5&unknown_padding={padding}")
    assert answer == status, body
    assert headers["Content-Type"].startswith("application/json")
    if status == 200:
        assert "data" in body
    else:
        assert body["error"]["code"] == "uri_too_long"


def _multipart(fields: int, files: int, boundary: str = "limits") -> bytes:
    """A multipart body of ``fields`` plain fields and ``files`` CSV parts named ``file``."""
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\n1\r\n' for i in range(fields)]
    parts += [
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{i}.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\nmentor_id,certification_type,issued_at\r\n"
        for i in range(files)
    ]
    return ("".join(parts) + f"--{boundary}--\r\n").encode()


def _raw(method: str, url: str, body: bytes | None = None, content_type: str | None = None, token: str | None = None):
    """One request with a raw body; returns ``(status, content type, text)``."""
    headers = {"Content-Type": content_type} if content_type else {}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


@pytest.mark.standalone
@pytest.mark.slow
@pytest.mark.parametrize("debug", ["true", "false"])
def test_too_many_parameters_fields_or_files_are_a_400_through_gunicorn(tmp_path, sqlite_env, debug):
    """More than 1,000 query parameters, form fields or 100 files: a 400 (the envelope on the API), never a 500.

    With ``DEBUG`` (bin/run's embedded default) the query string was read first by DRF's
    content negotiation (a 500 from ``raise_uncaught_exception``) and by the debug page.
    """
    env = {**sqlite_env, "DEBUG": debug, "ALLOWED_HOSTS": "127.0.0.1", "SECRET_KEY": "k" * 60}
    token = create_token(env)
    if debug == "false":
        assert manage("collectstatic", "--noinput", env=env).returncode == 0  # the admin's pages need the manifest
    query = "&".join(f"p{i}=1" for i in range(1001))
    at_the_limit = "&".join(f"p{i}=1" for i in range(1000))
    imports = f"{CERTS}/import?dry_run=true"
    with gunicorn(env, workers=1, log_path=tmp_path / "gunicorn.log") as base:
        answers = {
            "list at the limit": _raw("GET", f"{base}{CERTS}?{at_the_limit}"),
            "list": _raw("GET", f"{base}{CERTS}?{query}"),
            "events": _raw("GET", f"{base}/api/v1/events?{query}", token=token),
            "import query": _raw("POST", f"{base}{imports}&{query}", b"mentor_id\r\n", "text/csv", token),
            "import fields": _raw(
                "POST", f"{base}{imports}", _multipart(1001, 1), "multipart/form-data; boundary=limits", token
            ),
            "import files": _raw(
                "POST", f"{base}{imports}", _multipart(0, 101), "multipart/form-data; boundary=limits", token
            ),
            "admin at the limit": _raw("GET", f"{base}/admin/login/?{at_the_limit}"),
            "admin": _raw("GET", f"{base}/admin/login/?{query}"),
            "admin form": _raw("POST", f"{base}/admin/login/", query.encode(), "application/x-www-form-urlencoded"),
        }
    assert answers.pop("list at the limit")[0] == 200
    assert answers.pop("admin at the limit")[0] == 200
    answers_admin_get = answers["admin"][2]
    for name in ("admin", "admin form"):
        status, content_type, text = answers.pop(name)
        assert (status, content_type.split(";")[0]) == (400, "text/html"), (name, text[:300])
    assert "<h1>Bad Request (400)</h1>" in answers_admin_get
    for name, (status, content_type, text) in answers.items():
        assert (status, content_type) == (400, "application/json"), (name, text[:300])
        error = json.loads(text)["error"]
        assert error["code"] == "bad_request", (name, error)
        assert "at most 1000" in error["message"] or "at most 100)" in error["message"], (name, error)


@pytest.mark.parametrize("query", ["ordering=,", "ordering=", "ordering=,,", "status=,", "status=", "status=,,"])
def test_empty_list_items_mean_no_filter_and_no_ordering(anon_client, query):
    CertificationFactory.create_batch(3)
    plain = anon_client.get(CERTS).json()
    response = anon_client.get(f"{CERTS}?{query}")
    assert response.status_code == 200, response.content
    assert response.json() == plain
    assert plain["pagination"]["total"] == 3


def test_an_empty_item_beside_a_real_one_is_dropped(anon_client):
    CertificationFactory.create_batch(2)
    expected = anon_client.get(f"{CERTS}?status=valid&ordering=-expires_at").json()
    response = anon_client.get(f"{CERTS}?status=valid,&ordering=,-expires_at")
    assert response.status_code == 200
    assert response.json() == expected


def test_issued_in_year_9998_without_expiry_is_a_400_naming_expires_at(api_client):
    body = {**VALID, "issued_at": "9998-06-01T00:00:00Z"}
    response = api_client.post(CERTS, data=body, format="json")
    payload = assert_envelope(response, 400, "validation_error")
    assert "expires_at" in payload["error"]["fields"]
    assert_nothing_written()
