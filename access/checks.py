"""System checks of access: production without a required second factor for staff is a deploy warning."""

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
