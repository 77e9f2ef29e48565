"""`/readyz`: ready when the database, the migrations and the broker are; otherwise 503 naming what failed.

Each unready case is a real process (``manage.py shell``) pointed at a service that is not there.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.hardening.servers import base_env, free_port, manage

READYZ = "from django.test import Client; r = Client().get('/readyz'); print(r.status_code, r.content.decode())"


def readyz_in(tmp_path, **env: str) -> tuple[int, dict]:
    done = manage("shell", "-c", READYZ, env=base_env(CERTHUB_VAR_DIR=str(tmp_path), **env), timeout=60)
    assert done.returncode == 0, done.stderr
    status, _, body = done.stdout.strip().splitlines()[-1].partition(" ")
    return int(status), json.loads(body)


@pytest.mark.django_db
def test_ready_when_everything_answers():
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ok",
        "failed": [],
        "checks": {"database": "ok", "migrations": "ok", "broker": "ok"},
    }


@pytest.mark.standalone
def test_503_naming_the_database_when_it_is_down(tmp_path):
    status, body = readyz_in(tmp_path, DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/none")
    assert status == 503 and "database" in body["failed"] and "broker" not in body["failed"]


@pytest.mark.standalone
def test_503_naming_the_broker_when_it_is_down(tmp_path):
    assert manage("migrate", "-v0", env=base_env(CERTHUB_VAR_DIR=str(tmp_path))).returncode == 0
    status, body = readyz_in(
        tmp_path, CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0", CELERY_BROKER_SOCKET_TIMEOUT="0.5"
    )
    assert (status, body["failed"]) == (503, ["broker"])


@pytest.mark.standalone
def test_503_naming_the_migrations_before_they_are_applied(tmp_path):
    status, body = readyz_in(tmp_path)  # a fresh SQLite database, never migrated
    assert (status, body["failed"]) == (503, ["migrations"])
    assert body["checks"]["migrations"].endswith("not applied")
