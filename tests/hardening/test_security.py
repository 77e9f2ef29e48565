"""Security: production settings, TLS headers, throttling from the environment, admin login
limits, no internals in API answers, no secrets in logs."""

from __future__ import annotations

import datetime as dt
import http.cookiejar as http_cookiejar
import logging
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.core.cache import cache
from django.db import ProgrammingError
from django.utils import timezone
from rest_framework.authtoken.models import Token

from certhub.models import LoginFailure
from certifications import services
from tests.hardening.servers import base_env, create_token, gunicorn, http, manage

CERTS = "/api/v1/certifications"
LONG_KEY = secrets.token_urlsafe(64)
PRODUCTION = {
    "CERTHUB_ENV": "production",
    "SECRET_KEY": LONG_KEY,
    "ALLOWED_HOSTS": "example.org",
}


# --- Production settings --------------------------------------------------------------


@pytest.mark.standalone
def test_production_refuses_to_start_with_debug_on(tmp_path):
    env = base_env(CERTHUB_VAR_DIR=str(tmp_path), **PRODUCTION, DEBUG="true")
    done = manage("check", env=env)
    assert done.returncode != 0
    assert "DEBUG must be off in production" in done.stderr


@pytest.mark.standalone
@pytest.mark.parametrize("secret_key", [None, "", "short-key"])
def test_production_refuses_to_start_without_a_strong_secret_key(tmp_path, secret_key):
    env = base_env(CERTHUB_VAR_DIR=str(tmp_path), **{**PRODUCTION, "SECRET_KEY": secret_key})
    done = manage("check", env=env)
    assert done.returncode != 0
    assert "SECRET_KEY" in done.stderr


SHOW_KEY = "from django.conf import settings as s; print(s.SECRET_KEY)"


@pytest.mark.standalone
def test_the_embedded_default_makes_its_own_secret_key_once_and_keeps_it_in_var(tmp_path):
    """Not the key published in the repository: a random one per installation, the same for every process."""
    env = base_env(CERTHUB_VAR_DIR=str(tmp_path / "one"))
    first = manage("shell", "-c", SHOW_KEY, env=env).stdout.split()[-1]
    assert first != "certhub-insecure-development-key-do-not-use-in-production" and len(first) >= 50
    assert manage("shell", "-c", SHOW_KEY, env=env).stdout.split()[-1] == first
    kept = tmp_path / "one" / "secret-key.txt"
    assert kept.read_text().strip() == first and kept.stat().st_mode & 0o777 == 0o600
    other = manage("shell", "-c", SHOW_KEY, env=base_env(CERTHUB_VAR_DIR=str(tmp_path / "two")))
    assert other.stdout.split()[-1] != first


@pytest.mark.standalone
def test_the_published_development_key_is_refused(tmp_path):
    env = base_env(
        CERTHUB_VAR_DIR=str(tmp_path), SECRET_KEY="certhub-insecure-development-key-do-not-use-in-production"
    )
    done = manage("check", env=env)
    assert done.returncode != 0 and "published in the repository" in done.stderr


@pytest.mark.standalone
def test_production_defaults_debug_off_and_passes_the_deploy_check(tmp_path):
    """Secure by default: nothing but CERTHUB_ENV, a key and a host (no BEHIND_TLS_PROXY)."""
    env = base_env(CERTHUB_VAR_DIR=str(tmp_path), **PRODUCTION)
    assert "BEHIND_TLS_PROXY" not in env
    done = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    shown = manage(
        "shell", "-c", "from django.conf import settings as s; print(s.DEBUG, s.SECURE_SSL_REDIRECT)", env=env
    )
    assert shown.stdout.split()[-2:] == ["False", "True"]


@pytest.mark.standalone
def test_deploy_check_fails_when_production_says_it_serves_plain_http(tmp_path):
    """The CI step is meaningful: with BEHIND_TLS_PROXY=false the same check reports HSTS, SSL and cookies."""
    env = base_env(CERTHUB_VAR_DIR=str(tmp_path), **{**PRODUCTION, "BEHIND_TLS_PROXY": "false"})
    done = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert done.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in done.stderr + done.stdout


@pytest.mark.standalone
@pytest.mark.slow
def test_behind_a_tls_proxy_http_is_redirected_and_https_gets_hsts_and_safe_headers(tmp_path, sqlite_env):
    env = {**sqlite_env, **PRODUCTION, "ALLOWED_HOSTS": "127.0.0.1"}
    with gunicorn(env, workers=1, log_path=tmp_path / "gunicorn.log") as base:
        status, headers, _ = http("GET", f"{base}{CERTS}", follow=False)
        assert status == 301
        assert headers["Location"].startswith("https://127.0.0.1")
        status, headers, _ = http("GET", f"{base}/healthz", follow=False)
        assert status == 200  # the health check stays reachable over plain HTTP

        status, headers, body = http("GET", f"{base}{CERTS}", headers={"X-Forwarded-Proto": "https"})
        assert status == 200, body
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"

    shown = manage(
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER[0])",
        env=env,
    )
    assert shown.stdout.split()[-3:] == ["True", "True", "HTTP_X_FORWARDED_PROTO"]


# --- Throttling from the environment -----------------------------------------------------


@pytest.mark.standalone
@pytest.mark.slow
def test_throttle_rates_from_the_environment_are_honoured_with_the_429_envelope(tmp_path, sqlite_env):
    env = {**sqlite_env, "API_THROTTLE_ANON": "3/min", "API_THROTTLE_USER": "5/min"}
    token = create_token(env)
    with gunicorn(env, workers=1, log_path=tmp_path / "gunicorn.log") as base:
        # A client cannot pick a fresh throttle bucket per request with X-Forwarded-For:
        # without a TLS proxy in front the header is not trusted at all.
        anon = [http("GET", f"{base}{CERTS}", headers={"X-Forwarded-For": f"10.9.{i}.{i}"}) for i in range(4)]
        assert [status for status, _, _ in anon] == [200, 200, 200, 429]
        _, headers, body = anon[-1]
        assert body["error"]["code"] == "throttled"
        assert set(body) == {"error"}
        assert 0 < int(headers["Retry-After"]) <= 60

        user = [http("GET", f"{base}{CERTS}", token=token) for _ in range(6)]
        assert [status for status, _, _ in user] == [200] * 5 + [429]
        assert user[-1][2]["error"]["code"] == "throttled"
        assert int(user[-1][1]["Retry-After"]) > 0


# --- Admin login attempts -----------------------------------------------------------------


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("coordinator", password="Right-Pass-2026!", is_staff=True)


def _login(client, username, password, address="10.1.1.1"):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db
def test_admin_login_is_refused_after_too_many_failures(client, staff, settings):
    settings.ADMIN_LOGIN_MAX_ATTEMPTS = 3
    for _ in range(3):
        assert _login(client, "coordinator", "wrong").status_code == 200  # the form again
    locked = _login(client, "coordinator", "Right-Pass-2026!")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == settings.ADMIN_LOGIN_LOCKOUT_SECONDS
    assert "_auth_user_id" not in client.session  # even the right password does not get in
    # Another address is not locked out.
    assert _login(client, "coordinator", "Right-Pass-2026!", address="10.2.2.2").status_code == 302


@pytest.mark.django_db
def test_a_successful_login_clears_the_failures(client, staff, settings):
    settings.ADMIN_LOGIN_MAX_ATTEMPTS = 3
    assert _login(client, "coordinator", "wrong").status_code == 200
    assert _login(client, "coordinator", "wrong").status_code == 200
    assert _login(client, "coordinator", "Right-Pass-2026!").status_code == 302
    client.logout()
    assert _login(client, "coordinator", "wrong").status_code == 200
    assert _login(client, "coordinator", "wrong").status_code == 200
    assert _login(client, "coordinator", "Right-Pass-2026!").status_code == 302


@pytest.mark.django_db
def test_behind_the_proxy_the_forwarded_address_is_limited_not_the_proxy(client, staff, settings):
    settings.ADMIN_LOGIN_MAX_ATTEMPTS = 2
    settings.BEHIND_TLS_PROXY = True

    def via_proxy(password, address):
        return client.post(
            "/admin/login/?next=/admin/",
            {"username": "coordinator", "password": password},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"1.2.3.4, {address}",
            HTTP_X_FORWARDED_PROTO="https",
            secure=True,
        )

    assert [via_proxy("wrong", "198.51.100.7").status_code for _ in range(3)] == [200, 200, 429]
    assert via_proxy("Right-Pass-2026!", "203.0.113.9").status_code == 302  # another client, same proxy


@pytest.mark.django_db
def test_the_failures_are_counted_in_the_database_not_in_a_process_cache(client, staff, settings):
    """A cache that is per process (or lost with Redis) forgets nothing: the count is shared."""
    settings.ADMIN_LOGIN_MAX_ATTEMPTS = 3
    for _ in range(3):
        assert _login(client, "coordinator", "wrong").status_code == 200
        cache.clear()  # another process's cache, or Redis restarted
    assert _login(client, "coordinator", "Right-Pass-2026!").status_code == 429
    assert LoginFailure.objects.count() == 2  # the pair and the address, hashed
    assert not LoginFailure.objects.filter(key__contains="coordinator").exists()


@pytest.mark.django_db
def test_a_failure_after_the_window_starts_a_new_count(client, staff, settings):
    settings.ADMIN_LOGIN_MAX_ATTEMPTS = 2
    assert [_login(client, "coordinator", "wrong").status_code for _ in range(2)] == [200, 200]
    LoginFailure.objects.update(window_ends_at=timezone.now() - dt.timedelta(seconds=1))
    assert _login(client, "coordinator", "wrong").status_code == 200
    assert set(LoginFailure.objects.values_list("count", flat=True)) == {1}


@pytest.mark.standalone
@pytest.mark.slow
def test_the_login_limit_holds_across_gunicorn_workers_without_redis(tmp_path, sqlite_env):
    env = {**sqlite_env, "ADMIN_LOGIN_MAX_ATTEMPTS": "5"}
    with gunicorn(env, workers=3, log_path=tmp_path / "gunicorn.log") as base:
        statuses = [_login_over_http(base, "nobody", "wrong") for _ in range(6)]
    assert statuses == [200] * 5 + [429]


def _login_over_http(base: str, username: str, password: str) -> int:
    """One admin login post as a browser makes it: the form's CSRF token and cookie first."""
    jar = http_cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/admin/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    try:
        return opener.open(f"{base}/admin/login/", data=form.encode(), timeout=30).status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.django_db
def test_one_address_guessing_many_usernames_is_limited(client, settings):
    settings.ADMIN_LOGIN_MAX_ATTEMPTS = 2
    statuses = [_login(client, f"user{n}", "guess").status_code for n in range(9)]
    assert statuses == [200] * 8 + [429]


# --- No internals in API answers; no secrets in logs ----------------------------------------

BODY = {"mentor_id": "mntr_01HX4V2K8P", "certification_type": "peer_mentor_basic", "issued_at": "2026-01-01"}


@pytest.fixture
def failing_create(monkeypatch):
    def explode(**kwargs):
        raise ProgrammingError('relation "certifications_certification" does not exist: SELECT "id" FROM secret')

    monkeypatch.setattr(services, "certification_create", explode)


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_a_server_error_answers_the_envelope_without_trace_or_sql(api_client, failing_create, settings, debug):
    settings.DEBUG = debug
    response = api_client.post(CERTS, BODY, format="json")
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "server_error", "message": "A server error occurred."}}
    for marker in ("Traceback", "SELECT", "relation", "ProgrammingError", "secret"):
        assert marker not in response.content.decode()


@pytest.mark.django_db
def test_tokens_and_passwords_never_reach_the_logs(client, api_client, writer, staff, failing_create, caplog):
    caplog.set_level(logging.DEBUG)
    token = Token.objects.get(user=writer).key
    password = "Not-The-Right-One-7731!"

    assert _login(client, "coordinator", password).status_code == 200  # a failed admin login
    assert api_client.get(CERTS).status_code == 200  # a token request
    bad = api_client.__class__()
    bad.credentials(HTTP_AUTHORIZATION="Token " + "f" * 40)
    assert bad.post(CERTS, BODY, format="json").status_code == 401  # an invalid token
    assert api_client.post(CERTS, BODY, format="json").status_code == 500  # a server error while authenticated

    assert caplog.records, "the requests above must have logged something"
    logged = "\n".join(
        [caplog.text]
        + [str(record.args) for record in caplog.records]
        + [record.exc_text or "" for record in caplog.records]
    )
    for secret in (token, "f" * 40, password, "Right-Pass-2026!"):
        assert secret not in logged
