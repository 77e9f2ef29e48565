"""Shared fixtures: API clients with and without permissions, a fixed clock, clean throttles."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

UTC = dt.UTC


def pytest_collection_modifyitems(config, items):
    """Skip tests that need a real service the environment does not point at."""
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    has_redis = bool(os.environ.get("REDIS_URL"))
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL"))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL"))


@pytest.fixture(autouse=True)
def _clean_throttles():
    """Throttle counters live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests create many users; the production hasher's deliberate slowness buys nothing here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def now() -> dt.datetime:
    """A fixed 'now' for service tests (time is an argument)."""
    return dt.datetime(2026, 3, 26, 1, 0, tzinfo=UTC)


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


def _user_with(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username)
    if codenames:
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def _token_client(user: User) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def writer() -> User:
    """A user holding add/change/delete certification and run_expiry_job."""
    return _user_with("writer", "add_certification", "change_certification", "delete_certification", "run_expiry_job")


@pytest.fixture
def api_client(writer) -> APIClient:
    """Token-authenticated client with every API permission."""
    return _token_client(writer)


@pytest.fixture
def reader_client() -> APIClient:
    """Token-authenticated client without any permission (403 on writes)."""
    return _token_client(_user_with("reader"))


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"
