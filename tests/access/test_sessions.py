"""Session hygiene: an admin session ends after ADMIN_SESSION_IDLE_MINUTES without a request, and a
password change ends the user's other sessions (those signed in with the second factor included)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access.models import SecurityEvent
from tests.access.test_factor import LOGIN, PASSWORD, code_of, deploy_warnings, enrolled, later, sign_in_password

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "another horse, another battery"


@pytest.fixture
def staff() -> User:
    return User.objects.create_superuser("coord", password=PASSWORD)


def signed_in(user: User) -> Client:
    """A client signed in through the admin's login (STAFF_MFA off: the password alone)."""
    client = Client()
    with override_settings(STAFF_MFA="off"):
        assert client.post(LOGIN, {"username": user.username, "password": PASSWORD}).status_code == 302
    return client


@override_settings(STAFF_MFA="off", ADMIN_SESSION_IDLE_MINUTES=30)
def test_an_admin_session_ends_after_30_idle_minutes_and_each_request_keeps_it_alive(staff):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = signed_in(staff)
        assert client.get("/admin/").status_code == 200
    # Requests 29 minutes apart keep the session: the limit counts from the last request, not the sign-in.
    for minutes in (29, 58, 87):
        with time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False):
            assert client.get("/admin/").status_code == 200, minutes
    with time_machine.travel(start + dt.timedelta(minutes=87 + 31), tick=False):
        response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session
    assert SecurityEvent.objects.get(user=staff, kind="sign_out").detail == "idle for more than 30 minutes"


def used_at(user: User, moment: dt.datetime, path: str = "/admin/") -> Client:
    """A client signed in and last used at ``moment``."""
    with time_machine.travel(moment, tick=False):
        client = signed_in(user)
        client.get(path)
    return client


def session_writes(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in queries.captured_queries if query["sql"].startswith('UPDATE "django_session"')]


@override_settings(STAFF_MFA="off", ADMIN_SESSION_IDLE_MINUTES=30)
def test_an_idle_session_is_refused_by_the_api_too(staff):
    start = timezone.now()
    client = used_at(staff, start)
    with time_machine.travel(start + dt.timedelta(minutes=31), tick=False):
        response = client.post("/api/v1/certifications", {}, content_type="application/json")
    assert response.status_code == 401


@override_settings(STAFF_MFA="off", ADMIN_SESSION_IDLE_MINUTES=30)
def test_the_last_request_is_written_at_most_once_a_minute(staff):
    start = timezone.now()
    client = used_at(staff, start, "/admin/jsi18n/")  # the first request notes the time: one session write
    with time_machine.travel(start + dt.timedelta(seconds=59), tick=False):
        with CaptureQueriesContext(connection) as within_the_minute:
            assert client.get("/admin/jsi18n/").status_code == 200
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        with CaptureQueriesContext(connection) as a_minute_later:
            assert client.get("/admin/jsi18n/").status_code == 200
    assert session_writes(within_the_minute) == []
    assert len(session_writes(a_minute_later)) == 1


@override_settings(STAFF_MFA="off", ADMIN_SESSION_IDLE_MINUTES=0)
def test_zero_minutes_keeps_sessions_without_an_idle_limit(staff):
    start = timezone.now()
    client = used_at(staff, start)
    with time_machine.travel(start + dt.timedelta(hours=10), tick=False):
        assert client.get("/admin/").status_code == 200


def test_check_deploy_warns_when_production_sessions_never_go_idle(settings):
    settings.CERTHUB_ENV = "production"
    settings.ADMIN_SESSION_IDLE_MINUTES = 0
    assert "access.W002" in deploy_warnings()
    settings.ADMIN_SESSION_IDLE_MINUTES = 30
    assert "access.W002" not in deploy_warnings()


@override_settings(STAFF_MFA="off")
def test_a_password_change_ends_the_users_other_sessions_and_keeps_this_one(staff):
    this, other = signed_in(staff), signed_in(staff)
    bystander = signed_in(User.objects.create_superuser("helper", password=PASSWORD))
    response = this.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert this.get("/admin/").status_code == 200
    response = other.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert other.post("/api/v1/certifications", {}, content_type="application/json").status_code == 401
    assert bystander.get("/admin/").status_code == 200


def test_a_password_change_ends_sessions_that_gave_the_second_factor(staff):
    device = enrolled(staff)
    clients = []
    with override_settings(STAFF_MFA="required"):
        for offset in (0, 1):
            client = Client()
            sign_in_password(client)
            with later(5 + 30 * offset):  # each sign-in a step later: a code counts once
                assert client.post(LOGIN, {"code": code_of(device, offset=1)}).status_code == 302
            clients.append(client)
        this, other = clients
        assert other.get("/admin/").status_code == 200
        response = this.post(
            "/admin/password_change/",
            {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        assert response.status_code == 302
        assert this.get("/admin/").status_code == 200  # the session that changed it keeps its factor
        assert other.get("/admin/").status_code == 302


@override_settings(STAFF_MFA="off")
def test_a_superuser_setting_someones_password_ends_that_users_sessions(staff):
    helper = User.objects.create_superuser("helper", password=PASSWORD)
    theirs = signed_in(helper)
    admin = signed_in(staff)
    response = admin.post(
        f"/admin/auth/user/{helper.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:500]
    assert theirs.get("/admin/").status_code == 302
