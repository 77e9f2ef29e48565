"""Settings of access: the staff's second factor, API keys and the legacy DRF tokens.

Read from the environment with ``config.env``'s helpers and imported by name
into ``config.settings`` (which is at its size limit).
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, is_production

IS_PRODUCTION = is_production()

# The staff's second factor (access.login): "required" (production's default) takes a staff
# user without a device to enrolment right after the password; "optional" (the embedded
# default) offers it and asks a code of those who enrolled; "off" asks nobody.
STAFF_MFA = (os.environ.get("STAFF_MFA") or ("required" if IS_PRODUCTION else "optional")).strip().lower()
if STAFF_MFA not in {"required", "optional", "off"}:
    raise ImproperlyConfigured("STAFF_MFA must be required, optional or off.")
# DRF tokens (`Authorization: Token <key>`, deprecated) keep working while this is on.
API_LEGACY_TOKENS = env_bool("API_LEGACY_TOKENS", True)

ACCESS_APPS = ["django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static", "access"]
# After Django's AuthenticationMiddleware: django-otp marks the verified session, and a session
# that still owes its second factor is signed out (access.middleware).
ACCESS_MIDDLEWARE = ["django_otp.middleware.OTPMiddleware", "access.middleware.SecondFactorMiddleware"]
# An API key first (its WWW-Authenticate answers a 401), then DRF's tokens, then the admin's session.
API_AUTHENTICATION = [
    "access.authentication.ApiKeyAuthentication",
    "access.authentication.LegacyTokenAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]
