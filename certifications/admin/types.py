"""Admin of the certification types: what they are, and their policy around expiry."""

from __future__ import annotations

from django.contrib import admin


class CertificationTypeAdmin(admin.ModelAdmin):
    """Types and their policy; a changed policy applies from the next job run and lifts no pause."""

    list_display = [
        "code",
        "name",
        "validity_months",
        "renewal_window_days",
        "grace_days",
        "reminder_days",
        "is_active",
    ]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
    fieldsets = [
        (None, {"fields": ["code", "name", "validity_months", "is_active"]}),
        (
            "Policy",
            {
                "fields": ["renewal_window_days", "grace_days", "reminder_days"],
                "description": (
                    "Grace: days after expiry before an expired record pauses its mentor (a revoked one pauses at "
                    "once). A change applies from the next expiry job run and never lifts a pause by itself."
                ),
            },
        ),
    ]
