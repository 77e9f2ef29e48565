"""The staff's second factor in real Chromium: enrolment forced after the password, then a sign-in with a code."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.access.test_factor import ADMIN_URLS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
PASSWORD = "correct horse battery"


def current_code(secret_b32: str, offset: int = 0) -> str:
    """What an authenticator app shows for the key the page printed."""
    from base64 import b32decode

    clock = TOTP(b32decode(secret_b32))
    clock.time = time.time() + offset * 30
    return f"{clock.token():06d}"


@override_settings(STAFF_MFA="required")
def test_a_coordinator_enrols_then_signs_in_with_a_code(live_server, page, screenshot):
    User.objects.create_superuser("coord", password=PASSWORD)
    base = live_server.url
    page.goto(f"{base}/admin/")
    page.fill("#id_username", "coord")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#qr svg")
    screenshot("second-factor-enrol")
    # No admin page is reachable before enrolment: each one leads back to the login page (or is a 404).
    for path in (*ADMIN_URLS, "/admin/access/apikey/add/", "/admin/login/?next=/admin/auth/user/"):
        response = page.goto(f"{base}{path}")
        if response.status == 404:
            assert page.locator("#user-tools").count() == 0, path
            continue
        assert "/admin/login/" in page.url, path
        assert page.locator("#qr svg").count() == 1
    secret = page.inner_text("#totp-secret").strip()
    page.fill("#id_code", current_code(secret))
    page.click("#enrol-form input[type=submit]")
    page.wait_for_selector("#recovery-codes")
    assert page.locator("#recovery-codes li").count() == 10
    page.context.clear_cookies()

    page.goto(f"{base}/admin/")
    page.fill("#id_username", "coord")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#code-form")
    page.goto(f"{base}/admin/certifications/certification/")
    assert "/admin/login/" in page.url and page.locator("#code-form").count() == 1
    page.fill("#id_code", current_code(secret, offset=1))
    page.click("#code-form input[type=submit]")
    page.wait_for_selector("#site-name")
    assert page.url == f"{base}/admin/"
    assert TOTPDevice.objects.get(user__username="coord").confirmed
