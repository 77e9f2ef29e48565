"""The staff's second factor through the admin's login: enrolment forced, code required, recovery codes once,
no URL skipping it, wrong codes counted by the login limit, a superuser's reset, the deploy check."""

from __future__ import annotations

import time

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.checks import run_checks
from django.test import Client, override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import SecurityEvent

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/"
PASSWORD = "correct horse battery"
# Every kind of admin URL a user might try between the password and the factor.
ADMIN_URLS = [
    "/admin/",
    "/admin/certifications/certification/",
    "/admin/certifications/certification/add/",
    "/admin/auth/user/",
    "/admin/access/apikey/",
    "/admin/access/securityevent/",
    "/admin/password_change/",
    "/admin/factor/recovery-codes/",
    "/admin/factor/enrol/",
    "/admin/jsi18n/",
    "/admin/nonexistent/",
]


def code_of(device: TOTPDevice, offset: int = 0) -> str:
    """The device's current TOTP code (computed from its secret, as an authenticator app does)."""
    clock = TOTP(device.bin_key, device.step, device.t0, device.digits)
    clock.time = time.time() + offset * device.step
    return f"{clock.token():0{device.digits}d}"


def later(seconds: int = 5):
    """A few seconds on: past django-otp's own wait after a wrong code (the code follows the clock)."""
    return time_machine.travel(time.time() + seconds, tick=False)


@pytest.fixture
def staff() -> User:
    return User.objects.create_superuser("coord", password=PASSWORD)


def sign_in_password(client: Client) -> None:
    response = client.post(LOGIN, {"username": "coord", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == LOGIN


def enrolled(user: User, client: Client | None = None) -> TOTPDevice:
    """Enrol ``user`` through the pages (required mode): returns the confirmed device."""
    client = client or Client()
    with override_settings(STAFF_MFA="required"):
        sign_in_password(client)
        client.get(LOGIN)
        device = TOTPDevice.objects.get(user=user)
        assert client.post(LOGIN, {"code": code_of(device)}).status_code == 302
        client.logout()
    device.refresh_from_db()
    return device


@override_settings(STAFF_MFA="required")
def test_required_takes_a_user_without_a_device_to_enrolment_and_nowhere_else(staff):
    client = Client()
    sign_in_password(client)
    page = client.get(LOGIN)
    assert page.status_code == 200 and b"<svg" in page.content and b"totp-secret" in page.content
    for url in ADMIN_URLS:
        response = client.get(url)
        assert response.status_code in (302, 404) and "_auth_user_id" not in client.session, url
        if response.status_code == 302:
            assert response["Location"].startswith(LOGIN), url
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    assert client.post(LOGIN, {"code": "000000" if code_of(device) != "000000" else "111111"}).status_code == 200
    with later():  # django-otp also makes a device wait 2^n seconds after n wrong codes
        response = client.post(LOGIN, {"code": code_of(device)})
    assert response.status_code == 302 and response["Location"] == "/admin/factor/recovery-codes/"
    codes = client.get("/admin/factor/recovery-codes/")
    assert codes.status_code == 200 and len(StaticToken.objects.filter(device__user=staff)) == 10
    assert client.get("/admin/").status_code == 200
    assert SecurityEvent.objects.filter(user=staff, kind="factor_enrolled").count() == 1
    assert SecurityEvent.objects.filter(user=staff, kind="sign_in").count() == 1


@override_settings(STAFF_MFA="required")
def test_the_api_sees_no_user_until_the_factor_is_given(staff):
    client = Client()
    sign_in_password(client)
    response = client.post("/api/v1/certifications", {}, content_type="application/json")
    assert response.status_code == 401


@pytest.mark.parametrize("mode", ["required", "optional"])
def test_a_user_with_a_device_must_give_a_code(staff, mode):
    device = enrolled(staff)
    client = Client()
    with override_settings(STAFF_MFA=mode):
        sign_in_password(client)
        page = client.get(LOGIN)
        assert page.status_code == 200 and b"code-form" in page.content
        assert client.get("/admin/").status_code == 302
        assert client.post(LOGIN, {"code": "12345"}).status_code == 200
        with later():
            assert client.post(LOGIN, {"code": code_of(device, offset=1)}).status_code == 302
        assert client.get("/admin/").status_code == 200
    assert SecurityEvent.objects.filter(user=staff, kind="factor_failed").count() == 1


def test_a_recovery_code_signs_in_once(staff):
    enrolled(staff)
    code = StaticToken.objects.filter(device__user=staff).first().token
    first, second = Client(), Client()
    with override_settings(STAFF_MFA="required"):
        sign_in_password(first)
        assert first.post(LOGIN, {"code": code}).status_code == 302
        assert first.get("/admin/").status_code == 200
        sign_in_password(second)
        assert second.post(LOGIN, {"code": code}).status_code == 200
        assert second.get("/admin/").status_code == 302
    assert StaticToken.objects.filter(device__user=staff).count() == 9
    assert SecurityEvent.objects.filter(user=staff, kind="recovery_code_used").count() == 1


@override_settings(STAFF_MFA="required", ADMIN_LOGIN_MAX_ATTEMPTS=3)
def test_wrong_codes_count_toward_the_login_limit(staff):
    device = enrolled(staff)
    client = Client()
    sign_in_password(client)
    for _ in range(3):
        assert client.post(LOGIN, {"code": "99999999"}).status_code == 200
    response = client.post(LOGIN, {"code": code_of(device, offset=1)})
    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302


@override_settings(STAFF_MFA="required")
def test_a_session_without_the_factor_is_signed_out(staff):
    client = Client()
    client.force_login(staff)  # a session from before the factor was required
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session


def test_optional_offers_enrolment_without_forcing_it(staff):
    client = Client()
    with override_settings(STAFF_MFA="optional"):
        assert client.post(LOGIN, {"username": "coord", "password": PASSWORD}).status_code == 302
        assert client.get("/admin/").status_code == 200
        page = client.get("/admin/factor/enrol/")
        assert page.status_code == 200 and b"<svg" in page.content
        device = TOTPDevice.objects.get(user=staff)
        assert client.post("/admin/factor/enrol/", {"code": code_of(device)}).status_code == 302
        assert client.get("/admin/factor/recovery-codes/").status_code == 200


def test_a_superuser_resets_another_users_factor_and_it_is_logged(staff):
    other = User.objects.create_user("helper", password=PASSWORD, is_staff=True)
    TOTPDevice.objects.create(user=other, name="authenticator", confirmed=True)
    client = Client()
    client.force_login(staff)
    with override_settings(STAFF_MFA="off"):
        response = client.post(
            "/admin/auth/user/", {"action": "reset_second_factor", "_selected_action": [other.pk]}, follow=True
        )
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=other).exists()
    event = SecurityEvent.objects.get(kind="factor_reset")
    assert event.user == other and event.actor == staff


def deploy_warnings() -> set[str]:
    return {message.id for message in run_checks(include_deployment_checks=True, tags=["security"])}


def test_check_deploy_warns_when_production_does_not_require_the_factor(settings):
    settings.CERTHUB_ENV = "production"
    settings.STAFF_MFA = "optional"
    assert "access.W001" in deploy_warnings()
    settings.STAFF_MFA = "required"
    assert "access.W001" not in deploy_warnings()
