"""System checks of access: production without a required second factor for staff, or without an idle limit
for admin sessions, is a deploy warning."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def staff_mfa_required_in_production(app_configs, **kwargs):
    if getattr(settings, "CERTHUB_ENV", "") == "production" and settings.STAFF_MFA != "required":
        return [
            Warning(
                f"STAFF_MFA is {settings.STAFF_MFA!r} in production: a stolen staff password opens the admin.",
                hint="Unset STAFF_MFA (production's default is 'required') or set STAFF_MFA=required.",
                id="access.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def admin_sessions_expire_in_production(app_configs, **kwargs):
    if getattr(settings, "CERTHUB_ENV", "") == "production" and not settings.ADMIN_SESSION_IDLE_MINUTES:
        return [
            Warning(
                "ADMIN_SESSION_IDLE_MINUTES is 0 in production: an admin session left open never ends by itself.",
                hint="Unset ADMIN_SESSION_IDLE_MINUTES (the default is 30) or set a number of minutes.",
                id="access.W002",
            )
        ]
    return []
