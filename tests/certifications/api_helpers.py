"""Helpers of the API tests: the error envelope check and a database snapshot.

Every refused request must leave the database exactly as it was:
``with unchanged(): ...`` compares every row of every domain table before and after.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth.models import Permission, User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from certifications.models import AutoPauseLog, Certification, CertificationType, ExpiryJobRun, Mentor

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 11, 30, tzinfo=UTC)
BASE = "/api/v1/certifications"
ALIAS = "/api/v1/certifications/api/v1/certifications"
CERT_ID_RE = re.compile(r"^cert_[0-9ABCDEFGHJKMNPQRSTVWXYZ]{8}$")
UTC_SECOND_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

# A certification as the API renders it: the contract's fields plus the audit fields.
CERTIFICATION_KEYS = {
    "certification_id",
    "mentor_id",
    "certification_type",
    "issued_at",
    "expires_at",
    "status",
    "auto_pause_applied",
    "auto_pause_applied_at",
    "revoked_at",
    "revocation_reason",
    "created_at",
    "updated_at",
}

_TABLES = (Certification, Mentor, AutoPauseLog, ExpiryJobRun, CertificationType, User, Token)


def db_state() -> dict[str, list[dict]]:
    """Every row of every table an API write could touch."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in _TABLES}


@contextmanager
def unchanged() -> Iterator[None]:
    """Assert that the block leaves every row of :func:`db_state` as it was."""
    before = db_state()
    yield
    after = db_state()
    for table, rows in before.items():
        assert after[table] == rows, f"{table} changed"


def assert_error(response, status: int, code: str, *, fields: set[str] | None = None) -> dict:
    """Assert the JSON error envelope with ``status`` and ``code``; return ``body["error"]``."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"]
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert {"code", "message"} <= set(error)
    if fields is not None:
        assert set(error.get("fields", {})) == fields, error
        for messages in error.get("fields", {}).values():
            assert messages and all(isinstance(message, str) and message for message in messages)
    return error


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# The run endpoint's synchronous answer, in the contract's order (+ dry_run, marked_expired).
RUN_RESULT_KEYS = (
    "job_run_id",
    "started_at",
    "completed_at",
    "mentors_scanned",
    "expired_found",
    "auto_paused",
    "failures",
    "dry_run",
    "marked_expired",
)


def client_with(*codenames: str) -> APIClient:
    """A token-authenticated client of a new user holding the permissions ``codenames``."""
    user = User.objects.create_user(f"user-{uuid.uuid4().hex}")
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client
