"""Admin of the certification types: what they are, and their policy around expiry."""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone

from certifications import services
from certifications.admin.history import HistoryAdminMixin
from certifications.history import Actor
from certifications.models import CertificationType


class CertificationTypeAdmin(HistoryAdminMixin, admin.ModelAdmin):
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

    def save_form(self, request, form, change):
        """Add or edit through the services (``certification_type_create`` / ``_update``), with a history row.

        The form has validated the fields (the model's validators and constraints) already.
        """
        now, by = timezone.now(), Actor.admin(request)
        if not change:
            values = {name: form.cleaned_data[name] for name in services.CERTIFICATION_TYPE_FIELDS}
            return services.certification_type_create(values=values, now=now, by=by)
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        return services.certification_type_update(
            certification_type=CertificationType.objects.get(pk=form.instance.pk), changes=changes, now=now, by=by
        )

    def save_model(self, request, obj, form, change):
        """Already saved by ``save_form`` through the service."""

    def save_related(self, request, form, formsets, change):
        """Types have no many-to-many fields or inlines to save."""
