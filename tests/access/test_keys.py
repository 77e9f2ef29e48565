"""API keys: scopes, expiry, revocation, hash-only storage, a throttled last_used_at, permission and scope."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from access.keys import api_key_create, api_key_revoke, secret_hash
from access.models import ApiKey, SecurityEvent
from access.security_log import COMMAND_LINE
from certhub.errors import RuleViolation

pytestmark = pytest.mark.django_db
LIST = "/api/v1/certifications"
BODY = {"mentor_id": "mntr_01HX4V2K8P", "certification_type": "peer_mentor_basic", "issued_at": "2026-01-01T00:00:00Z"}


def make_user(*codenames: str, username: str = "machine") -> User:
    user = User.objects.create_user(username=username, password="pw")
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def make_key(user, scopes, *, days: int = 30, now=None):
    now = now or timezone.now()
    return api_key_create(
        user=user,
        name="hr sync",
        scopes=scopes,
        expires_at=now + dt.timedelta(days=days),
        now=now,
        by=None,
        origin=COMMAND_LINE,
    )


def client_with(secret: str, keyword: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {secret}")
    return client


def test_a_key_is_chk_and_40_url_safe_characters_and_only_its_keyed_hash_is_stored():
    key, secret = make_key(make_user(), ["certifications:read"])
    assert secret.startswith("chk_") and len(secret) == 44
    assert set(secret[4:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert key.key_id.startswith("key_") and len(key.key_id) == 12
    assert key.secret_hash == secret_hash(secret) != secret
    # The database never contains the key: no column of any row of the table holds it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM access_apikey")
        rows = cursor.fetchall()
    assert all(secret not in str(value) and secret[4:] not in str(value) for row in rows for value in row)


@pytest.mark.parametrize("keyword", ["Bearer", "Token"])
def test_a_key_with_the_scope_and_the_permission_writes(keyword):
    _, secret = make_key(make_user("add_certification"), ["certifications:write"])
    response = client_with(secret, keyword).post(LIST, BODY, format="json")
    assert response.status_code == 201, response.json()


def test_a_missing_scope_is_a_403_naming_the_scope():
    _, secret = make_key(make_user("add_certification"), ["certifications:read"])
    response = client_with(secret).post(LIST, BODY, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
    assert "certifications:write" in response.json()["error"]["message"]


def test_a_key_never_exceeds_its_users_permissions():
    _, secret = make_key(make_user(), ["certifications:write"])  # the scope, but not add_certification
    response = client_with(secret).post(LIST, BODY, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_key_is_refused_where_no_scope_is_declared_and_a_read_needs_its_scope():
    _, secret = make_key(make_user("view_mentor"), ["certifications:read"])
    response = client_with(secret).get("/api/v1/mentors")
    assert response.status_code == 403 and "mentors:read" in response.json()["error"]["message"]
    assert client_with(secret).get(LIST).status_code == 200


def test_an_expired_key_is_a_401_saying_so():
    created = timezone.now() - dt.timedelta(days=10)
    _, secret = make_key(make_user(), ["certifications:read"], days=5, now=created)
    response = client_with(secret).get(LIST)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "key_expired" and "expired" in response.json()["error"]["message"]


def test_a_revoked_key_is_a_401_saying_so_and_revocation_is_logged_once():
    admin = make_user(username="boss")
    key, secret = make_key(make_user(), ["certifications:read"])
    api_key_revoke(key=key, now=timezone.now(), by=admin, origin=COMMAND_LINE)
    first = key.revoked_at
    api_key_revoke(key=key, now=timezone.now() + dt.timedelta(hours=1), by=admin, origin=COMMAND_LINE)
    assert key.revoked_at == first
    response = client_with(secret).get(LIST)
    assert response.status_code == 401 and response.json()["error"]["code"] == "key_revoked"
    assert SecurityEvent.objects.filter(kind="key_revoked", actor=admin).count() == 1


def test_an_unknown_key_is_a_401():
    response = client_with("chk_" + "A" * 40).get(LIST)
    assert response.status_code == 401 and response.json()["error"]["code"] == "authentication_failed"


@pytest.mark.parametrize("days", [0, 401])
def test_expiry_is_required_within_400_days(days):
    with pytest.raises(RuleViolation):
        make_key(make_user(), ["certifications:read"], days=days)


def test_unknown_scopes_are_refused():
    with pytest.raises(RuleViolation):
        make_key(make_user(), ["certifications:everything"])


def test_last_used_at_is_written_at_most_once_a_minute():
    key, secret = make_key(make_user(), ["certifications:read"])
    client = client_with(secret)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.get(LIST)
        with CaptureQueriesContext(connection) as later:
            client.get(LIST)
    key.refresh_from_db()
    assert key.last_used_at == start
    assert not [q for q in later.captured_queries if q["sql"].startswith("UPDATE")]
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        client.get(LIST)
    key.refresh_from_db()
    assert key.last_used_at == start + dt.timedelta(seconds=61)


def test_a_key_costs_the_queries_a_drf_token_costs(api_client, writer):
    _, secret = make_key(writer, ["certifications:read"])
    client_with(secret).get(LIST)  # the first use writes last_used_at
    with CaptureQueriesContext(connection) as by_key:
        client_with(secret).get(LIST + "/cert_00000000")
    with CaptureQueriesContext(connection) as by_token:
        api_client.get(LIST + "/cert_00000000")
    assert len(by_key) == len(by_token)


def test_drf_tokens_work_while_legacy_tokens_are_on_and_are_refused_after(api_client, settings):
    assert api_client.post(LIST, BODY, format="json").status_code == 201
    settings.API_LEGACY_TOKENS = False
    response = api_client.post(LIST, {**BODY, "issued_at": "2026-01-02T00:00:00Z"}, format="json")
    assert response.status_code == 401 and response.json()["error"]["code"] == "legacy_token"


def test_create_api_key_prints_the_key_once(capsys):
    make_user(username="hr")
    call_command(
        "create_api_key", "hr", "--name", "HR sync", "--scopes", "certifications:read,mentors:read", "--days", "30"
    )
    secret = capsys.readouterr().out.strip()
    key = ApiKey.objects.get()
    assert key.secret_hash == secret_hash(secret)
    assert key.scopes == ["certifications:read", "mentors:read"]
    assert SecurityEvent.objects.filter(kind="key_created", user=key.user).exists()


def test_the_schema_describes_both_schemes_and_each_operations_scope(anon_client):
    schema = anon_client.get("/api/schema/?format=json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiKey"]["scheme"] == "bearer" and "tokenAuth" in schemes
    assert schema["paths"]["/api/v1/certifications"]["post"]["x-required-scope"] == "certifications:write"
    assert schema["paths"]["/api/v1/certifications"]["get"]["x-required-scope"] == "certifications:read"
    assert schema["paths"]["/api/v1/certifications/expiry-job/run"]["post"]["x-required-scope"] == "jobs:run"
    missing = [
        (path, method)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "x-required-scope" not in operation
    ]
    assert missing == []


def test_every_operation_that_takes_a_key_documents_the_403_of_a_missing_scope(anon_client):
    schema = anon_client.get("/api/schema/?format=json").json()
    undocumented = [
        (path, method)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "x-required-scope" in operation and "insufficient_scope" not in operation["responses"]["403"]["description"]
    ]
    assert undocumented == []
    assert "key_revoked" in schema["paths"]["/api/v1/certifications"]["get"]["responses"]["401"]["description"]
