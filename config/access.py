"""Settings of access: the admin's login limits and sessions, the staff's second factor, API keys, DRF tokens.

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

# Failed admin logins are limited by certhub.login_limits: ADMIN_LOGIN_MAX_ATTEMPTS per username
# and address (4x that per address) within ADMIN_LOGIN_LOCKOUT_SECONDS, wrong second-factor codes included.
ADMIN_LOGIN_MAX_ATTEMPTS = int(os.environ.get("ADMIN_LOGIN_MAX_ATTEMPTS", "5"))
ADMIN_LOGIN_LOCKOUT_SECONDS = int(os.environ.get("ADMIN_LOGIN_LOCKOUT_SECONDS", "900"))
# Session hygiene: an admin session unused for this many minutes is ended (access.middleware);
# 0 keeps a session until its cookie's age, which `check --deploy` warns of in production.
ADMIN_SESSION_IDLE_MINUTES = int(os.environ.get("ADMIN_SESSION_IDLE_MINUTES") or "30")
if ADMIN_SESSION_IDLE_MINUTES < 0:
    raise ImproperlyConfigured("ADMIN_SESSION_IDLE_MINUTES must be 0 (no limit) or more.")

ACCESS_APPS = ["django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static", "access"]
# After Django's AuthenticationMiddleware: django-otp marks the verified session, a session that
# still owes its second factor is signed out, and so is one idle too long (access.middleware).
# (A password change ends the user's other sessions through Django's session hash.)
ACCESS_MIDDLEWARE = [
    "django_otp.middleware.OTPMiddleware",
    "access.middleware.SecondFactorMiddleware",
    "access.middleware.IdleSessionMiddleware",
]
# An API key first (its WWW-Authenticate answers a 401), then DRF's tokens, then the admin's session.
API_AUTHENTICATION = [
    "access.authentication.ApiKeyAuthentication",
    "access.authentication.LegacyTokenAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]
