"""The OpenAPI schema and Swagger UI: valid OpenAPI 3, free of aliases, true to the real bodies.

Real responses of every certification endpoint, errors included, are validated
against the schema's own description of them, with undocumented keys refused.
"""

from __future__ import annotations

import copy
import json
import re

import jsonschema
import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.validation import validate_schema
from rest_framework.throttling import SimpleRateThrottle

from certifications.models import CertificationType
from tests.certifications.api_helpers import BASE, utc
from tests.factories import CertificationFactory

pytestmark = pytest.mark.django_db

CANONICAL_PATHS = {
    "/api/v1/certifications": {"get", "post"},
    "/api/v1/certifications/{certification_id}": {"get", "put", "patch", "delete"},
    "/api/v1/certifications/{certification_id}/history": {"get"},
    "/api/v1/certifications/import": {"post"},
    "/api/v1/certifications/export.csv": {"get"},
    "/api/v1/certifications/expiry-job/run": {"post"},
    "/api/v1/certifications/expiry-job/logs": {"get"},
    "/api/v1/certifications/expiry-job/runs": {"get"},
    "/api/v1/certifications/expiry-job/runs/{job_run_id}": {"get"},
    "/api/v1/mentors": {"get"},
    "/api/v1/mentors/eligibility": {"post"},
    "/api/v1/mentors/{mentor_id}": {"get"},
    "/api/v1/mentors/{mentor_id}/eligibility": {"get"},
    "/api/v1/mentors/{mentor_id}/history": {"get"},
    "/api/v1/mentors/{mentor_id}/pause": {"post"},
    "/api/v1/mentors/{mentor_id}/export": {"get"},
    "/api/v1/mentors/{mentor_id}/erase": {"post"},
    "/api/v1/mentors/{mentor_id}/resume": {"post"},
    "/api/v1/renewal-requests": {"get", "post"},
    "/api/v1/renewal-requests/{renewal_request_id}": {"get"},
    "/api/v1/renewal-requests/{renewal_request_id}/evidence": {"get"},
    "/api/v1/renewal-requests/{renewal_request_id}/approve": {"post"},
    "/api/v1/renewal-requests/{renewal_request_id}/reject": {"post"},
    "/api/v1/renewal-requests/{renewal_request_id}/withdraw": {"post"},
    "/api/v1/events": {"get"},
    "/api/v1/webhooks/endpoints": {"get", "post"},
    "/api/v1/webhooks/endpoints/{endpoint_id}": {"get", "put", "patch", "delete"},
    "/api/v1/webhooks/endpoints/{endpoint_id}/rotate-secret": {"post"},
    "/api/v1/webhooks/endpoints/{endpoint_id}/test": {"post"},
    "/api/v1/webhooks/deliveries": {"get"},
    "/api/v1/webhooks/deliveries/{delivery_id}": {"get"},
    "/api/v1/notifications": {"get"},
}
BODY = {"mentor_id": "mntr_01HX4V2K8P", "certification_type": "peer_mentor_basic", "issued_at": "2026-01-01"}


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


# --- The document -------------------------------------------------------------------


def test_schema_is_served_as_yaml_and_json_alike(client, schema):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert yaml.safe_load(response.content) == schema
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "CertHub API"


def test_schema_validates_as_openapi_3(schema):
    validate_schema(schema)  # raises on any violation of the OpenAPI 3 meta-schema


def test_spectacular_validate_with_fail_on_warn_passes(tmp_path, capsys):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    assert "Warning" not in capsys.readouterr().err
    assert yaml.safe_load(target.read_text())["paths"].keys() == CANONICAL_PATHS.keys()


def test_schema_lists_each_canonical_route_once(schema):
    assert {path: set(operations) for path, operations in schema["paths"].items()} == CANONICAL_PATHS


def test_aliases_and_trailing_slash_twins_stay_out_of_the_schema(schema):
    for path in schema["paths"]:
        assert not path.endswith("/")
        assert path.count("/api/v1/") == 1  # no contract alias (``/api/v1/certifications/api/v1/...``)


def test_every_operation_has_a_summary_and_unique_id(schema):
    ids = [op["operationId"] for ops in schema["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert all(op.get("summary") for ops in schema["paths"].values() for op in ops.values())


def _component(schema: dict, ref_holder: dict) -> dict:
    ref = ref_holder["$ref"]
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_request_bodies_are_the_accepted_fields(schema):
    certs = schema["paths"]["/api/v1/certifications"]
    detail = schema["paths"]["/api/v1/certifications/{certification_id}"]
    create = _component(schema, certs["post"]["requestBody"]["content"]["application/json"]["schema"])
    put = _component(schema, detail["put"]["requestBody"]["content"]["application/json"]["schema"])
    patch = _component(schema, detail["patch"]["requestBody"]["content"]["application/json"]["schema"])

    assert set(create["properties"]) == {"mentor_id", "certification_type", "issued_at", "expires_at"}
    assert set(create["required"]) == {"mentor_id", "certification_type", "issued_at"}
    assert create["properties"]["mentor_id"]["pattern"] == "^mntr_[0-9A-TV-Z]{8,26}$"
    for body in (put, patch):
        assert set(body["properties"]) == {
            "issued_at",
            "expires_at",
            "status",
            "certification_type",
            "revocation_reason",
        }
        assert not body.get("required")
    for body in (create, put, patch):
        assert body["additionalProperties"] is False  # unknown fields are refused


def test_list_parameters_are_every_filter_and_the_pagination(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/certifications"]["get"]["parameters"]}

    assert set(parameters) == {
        "page",
        "limit",
        "mentor_id",
        "certification_type",
        "status",
        "auto_pause_applied",
        "expires_before",
        "expires_after",
        "issued_before",
        "issued_after",
        "ordering",
    }
    assert parameters["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
    # A comma list's empty items are dropped (``?status=,`` is no filter): the schema allows them.
    assert set(parameters["status"]["schema"]["items"]["enum"]) == {"valid", "expired", "revoked", ""}
    assert set(parameters["ordering"]["schema"]["items"]["enum"]) == {
        f"{sign}{field}" for sign in ("", "-") for field in ("issued_at", "expires_at", "created_at", "updated_at")
    } | {""}
    for name in ("expires_before", "expires_after", "issued_before", "issued_after"):
        assert parameters[name]["schema"]["format"] == "date-time"
        assert parameters[name].get("description")


def test_a_free_text_filter_says_it_holds_no_nul_character_which_the_api_refuses(schema, anon_client):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/certifications/expiry-job/logs"]["get"]["parameters"]}
    pattern = parameters["certification_id"]["schema"]["pattern"]
    assert re.fullmatch(pattern, "cert_04QR8TZ2") and not re.fullmatch(pattern, "cert_\x00")
    response = anon_client.get("/api/v1/certifications/expiry-job/logs", {"certification_id": "cert_\x00"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"certification_id": ["Null characters are not allowed."]}


def test_every_error_status_is_the_envelope(schema):
    for operations in schema["paths"].values():
        for operation in operations.values():
            responses = operation["responses"]
            errors = {code for code in responses if code.startswith(("4", "5"))}
            assert {"429", "500"} <= errors
            if "requestBody" in operation:
                assert {"400", "415"} <= errors
            for code in errors:
                assert responses[code]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorEnvelope"
                }


# --- Real bodies against the schema -------------------------------------------------


def _json_schema(openapi: dict) -> dict:
    """OpenAPI 3.0 schemas as strict JSON Schema: ``nullable`` becomes a null type, and
    objects with declared properties refuse undeclared keys."""
    doc = copy.deepcopy(openapi)

    def convert(node):
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: convert(value) for key, value in node.items()}
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
        if node.pop("nullable", False):
            if "type" in node:
                node["type"] = [node["type"], "null"]
                if "enum" in node:
                    node["enum"] = [*node["enum"], None]
            else:
                node = {"anyOf": [node, {"type": "null"}]}
        return node

    return convert(doc)


def _check(schema: dict, template: str, method: str, response) -> None:
    """Validate ``response`` against what the schema documents for it."""
    documented = schema["paths"][template][method]["responses"]
    status = str(response.status_code)
    assert status in documented, f"{method.upper()} {template} does not document {status}"
    body_schema = documented[status]["content"]["application/json"]["schema"]
    strict = _json_schema(schema)
    jsonschema.Draft202012Validator({**body_schema, "components": strict["components"]}).validate(response.json())


@pytest.fixture
def seeded():
    return CertificationFactory(
        certification_id="cert_0000000A",
        status="revoked",
        revoked_at=utc(2026, 1, 1),
        revocation_reason="Audit",
    )


def test_success_bodies_match_the_schema(schema, api_client, anon_client, seeded):
    one = f"{BASE}/cert_0000000A"
    detail = "/api/v1/certifications/{certification_id}"

    _check(schema, "/api/v1/certifications", "get", anon_client.get(BASE))
    _check(schema, detail, "get", anon_client.get(one))
    created = api_client.post(BASE, BODY, format="json")
    _check(schema, "/api/v1/certifications", "post", created)
    _check(schema, detail, "put", api_client.put(one, {"status": "valid"}, format="json"))
    _check(schema, detail, "patch", api_client.patch(one, {"expires_at": "2020-01-01T00:00:00Z"}, format="json"))
    _check(schema, detail, "delete", api_client.delete(one))
    assert created.status_code == 201


def test_error_bodies_match_the_schema(schema, api_client, anon_client, reader_client, seeded, monkeypatch):
    listing, detail = "/api/v1/certifications", "/api/v1/certifications/{certification_id}"
    one = f"{BASE}/cert_0000000A"
    api_client.post(BASE, BODY, format="json")

    cases = [
        (listing, "get", anon_client.get(BASE, {"limit": 0})),  # 400 with fields
        (listing, "post", api_client.generic("POST", BASE, "{", content_type="application/json")),  # 400 parse
        (listing, "post", anon_client.post(BASE, BODY, format="json")),  # 401
        (listing, "post", reader_client.post(BASE, BODY, format="json")),  # 403
        (listing, "post", api_client.post(BASE, BODY, format="json")),  # 409 with certification_id
        (listing, "post", api_client.generic("POST", BASE, "x", content_type="text/plain")),  # 415
        (detail, "get", anon_client.get(f"{BASE}/cert_ZZZZZZZZ")),  # 404
        (detail, "put", api_client.put(one, {"status": "bogus", "colour": 1}, format="json")),  # 400
    ]
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "1/min", "user": "1/min"})
    anon_client.get(BASE)
    cases.append((listing, "get", anon_client.get(BASE)))  # 429

    assert [response.status_code for *_, response in cases] == [400, 400, 401, 403, 409, 415, 404, 400, 429]
    for template, method, response in cases:
        _check(schema, template, method, response)


# --- Swagger UI ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["options", "post", "put", "patch", "delete"])
def test_the_swagger_page_answers_405_to_a_method_it_does_not_serve(client, method):
    """The page is rendered from a template: a method with nothing to render is refused, never a 500."""
    response = getattr(client, method)("/api/docs/")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_swagger_ui_is_served_from_local_static_files(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "SwaggerUIBundle" in html
    assert 'url: "/api/schema/"' in html
    assert not re.search(r"https?://", html), "the page must not load anything from another host"
    # Only the attributes that load something are checked: the page also carries a random
    # CSRF token, which may spell any word.
    loaded = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert loaded
    for banned in ("cdn", "unpkg", "jsdelivr", "//"):
        assert not [url for url in loaded if banned in url.lower()], banned
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert {asset.rsplit("/", 1)[1] for asset in assets} >= {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
    }
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not a local static file"


def test_schema_json_is_plain_json(client):
    response = client.get("/api/schema/?format=json")
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    assert json.loads(response.content)["paths"]


# --- The schema says what the API enforces ------------------------------------------------


def test_writes_name_the_active_types_and_the_list_filter_every_type(client):
    CertificationType.objects.create(code="retired_type", name="Retired", validity_months=12, is_active=False)
    served = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    components = served["components"]["schemas"]
    for name in ("CertificationCreateRequest", "CertificationUpdateRequest", "PatchedCertificationUpdateRequest"):
        assert components[name]["properties"]["certification_type"]["enum"] == [
            "peer_mentor_advanced",
            "peer_mentor_basic",
        ]
    [parameter] = [p for p in served["paths"][BASE]["get"]["parameters"] if p["name"] == "certification_type"]
    assert parameter["schema"]["enum"] == ["peer_mentor_advanced", "peer_mentor_basic", "retired_type"]


def test_timestamps_and_idempotency_keys_carry_the_accepted_range(client):
    served = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    issued = served["components"]["schemas"]["CertificationCreateRequest"]["properties"]["issued_at"]
    year = re.compile(issued["pattern"])
    assert [bool(year.match(f"{y}-01-01T00:00:00Z")) for y in (1899, 1900, 2026, 9899, 9989, 9998, 9999)] == [
        False,
        True,
        True,
        True,
        True,
        True,
        False,
    ]
    [key] = [p for p in served["paths"][BASE]["post"]["parameters"] if p["name"] == "Idempotency-Key"]
    pattern = re.compile(key["schema"]["pattern"])
    assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (1, 255)
    assert [bool(pattern.match(k)) for k in ("a", "a b", " a", "a ", "é", "x" * 255)] == [
        True,
        True,
        False,
        False,
        False,
        True,
    ]


def test_an_eligibility_batch_says_each_mentor_id_once(client):
    served = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    mentor_ids = served["components"]["schemas"]["EligibilityBatchRequest"]["properties"]["mentor_ids"]
    assert (mentor_ids["uniqueItems"], mentor_ids["minItems"], mentor_ids["maxItems"]) == (True, 1, 500)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("1900-01-01T00:30:00+01:00", "1899-12-31T23:30:00Z"),  # the year as written is in range
        ("9998-12-31T23:00:00-05:00", "9999-01-01T04:00:00Z"),
    ],
)
def test_the_year_range_applies_to_the_year_as_written(api_client, given, stored):
    body = {
        "mentor_id": "mntr_01HX4V2K8P",
        "certification_type": "peer_mentor_basic",
        "issued_at": given,
        "expires_at": "9998-12-31T23:00:00-05:00" if given.startswith("1900") else None,
    }
    if body["expires_at"] is None:
        body.update(issued_at="9998-01-01T00:00:00Z", expires_at=given)
        field = "expires_at"
    else:
        field = "issued_at"
    response = api_client.post(BASE, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()[field] == stored


@pytest.mark.parametrize("value", ["1899-12-31T23:30:00-01:00", "9999-01-01T00:00:00Z"])
def test_a_year_outside_the_range_as_written_is_a_400(api_client, value):
    body = {"mentor_id": "mntr_01HX4V2K8P", "certification_type": "peer_mentor_basic", "issued_at": value}
    response = api_client.post(BASE, body, format="json")
    assert response.status_code == 400
    assert "1900 to 9998" in response.json()["error"]["fields"]["issued_at"][0]


def test_every_mentor_operation_has_an_example_answer(schema):
    mentor_operations = [
        (path, method, operation)
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/mentors")
        for method, operation in operations.items()
    ]
    assert len(mentor_operations) == 9  # with the history, the export and the erasure
    for path, method, operation in mentor_operations:
        if path.endswith("/export"):  # a ZIP: described, not exemplified
            assert list(operation["responses"]["200"]["content"]) == ["application/zip"]
            continue
        content = operation["responses"]["200"]["content"]["application/json"]
        assert content.get("examples"), (method, path)


def test_only_the_public_reads_are_marked_as_needing_no_credentials(schema, settings):
    """Reads carrying names, addresses or users need credentials whatever API_PUBLIC_READS says, and say so."""
    assert settings.API_PUBLIC_READS
    public = {
        path for path, operations in schema["paths"].items() if {} in operations.get("get", {}).get("security", [])
    }
    private = {
        "/api/v1/certifications/export.csv",
        "/api/v1/certifications/{certification_id}/history",
        "/api/v1/mentors",
        "/api/v1/mentors/{mentor_id}",
        "/api/v1/mentors/{mentor_id}/history",
        "/api/v1/notifications",
    }
    assert not private & public
    assert {"/api/v1/certifications", "/api/v1/certifications/{certification_id}"} <= public


def test_the_schema_states_what_the_api_refuses_and_returns(schema):
    """Each was a schemathesis finding from outside: the schema must say what the API does (issue 23)."""
    paths, components = schema["paths"], schema["components"]["schemas"]
    feed = paths["/api/v1/events"]["get"]
    assert feed["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Feed"}
    [limit] = [p["schema"] for p in feed["parameters"] if p["name"] == "limit"]
    assert (limit["minimum"], limit["maximum"]) == (1, 1000)
    [through] = [
        p["schema"]
        for p in paths["/api/v1/mentors/{mentor_id}/eligibility"]["get"]["parameters"]
        if p["name"] == "through"
    ]
    for held in (through, components["EligibilityBatchRequest"]["properties"]["through"]):
        assert sorted(branch["format"] for branch in held["anyOf"]) == ["date", "date-time"]
    for name in ("EndpointCreateRequest", "PatchedEndpointUpdateRequest"):
        url = components[name]["properties"]["url"]
        assert url["format"] == "uri"
        pattern = re.compile(url["pattern"])
        assert pattern.match("https://match.example.org/hooks/certhub?x=1")
        assert not any(
            pattern.match(bad) for bad in ("ftp://x", "https://", "https://a b", "https://a/\r\nX: 1", " https://a")
        )
    body = paths["/api/v1/certifications/import"]["post"]["requestBody"]["content"]
    assert body["text/csv"]["schema"]["minLength"] == 1
    assert components["ImportUploadRequest"]["properties"]["file"]["minLength"] == 1
    for name in ("CertificationUpdateRequest", "PatchedCertificationUpdateRequest"):
        assert components[name]["minProperties"] == 1  # "Nothing to update" is a 400
