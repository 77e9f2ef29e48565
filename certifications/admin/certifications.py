"""The certification pages: list filters, add and edit forms, and the record actions.

A form is validated by the service's own validation step
(``certification_validate_create`` / ``certification_validate_update``) and
saved by one call of the service, whose result names any mentor it resumed.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ORDER_VAR
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from certhub.errors import DomainError
from certifications import services
from certifications.admin.actions import RenewForm, RevokeForm, ServiceActionsMixin
from certifications.admin.bulk import BulkAdminMixin
from certifications.admin.common import add_domain_error, day, mentor_cell, ordered, plural
from certifications.admin.counting import (
    CountedPaginator,
    PageAnnotatedChangeList,
    certification_tally_count,
    id_prefix,
    mentors_matching,
)
from certifications.admin.filters import DeletedFilter, ExpiringFilter, LapsedFilter, LifecycleFilter
from certifications.admin.history import HistoryAdminMixin
from certifications.history import Actor
from certifications.models import (
    Certification,
    CertificationStatus,
    Lifecycle,
    mentor_id_validator,
)
from certifications.selectors import capped_count, certification_list
from certifications.services.records import UPDATABLE_FIELDS
from certifications.services.results import CertificationWriteResult

# --- Forms ---------------------------------------------------------------------------------------


class _ServiceForm(forms.ModelForm):
    """A ModelForm whose rules are its service's.

    ``clean()`` runs the service's validation step, which writes nothing:
    whatever the service refuses (the API's rules and messages) becomes a form
    error. ``write()`` then calls the service once (``CertificationAdmin.save_form``).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.now = timezone.now()

    def validate(self) -> None:
        """Run the service's validation step on the cleaned data; raises ``DomainError``."""
        raise NotImplementedError

    def write(self, *, by: Actor) -> CertificationWriteResult:
        """Save through the service as ``by``: one call, one transaction."""
        raise NotImplementedError

    def clean(self):
        data = super().clean()
        if not self._errors:
            try:
                self.validate()
            except DomainError as exc:
                add_domain_error(self, exc)
        return data

    def _post_clean(self) -> None:
        """No model validation and no change to ``self.instance``: the service validates and writes."""


class CertificationAddForm(_ServiceForm):
    """Record a certification: ``certification_create``, as ``POST /api/v1/certifications``."""

    mentor_id = forms.CharField(
        max_length=31,
        validators=[mentor_id_validator],
        help_text="e.g. mntr_01HX4V2K8P. A mentor not seen before is created.",
    )

    class Meta:
        model = Certification
        fields = ["certification_type", "issued_at", "expires_at"]
        help_texts = {"expires_at": "Leave empty for the issue date plus the type's validity."}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["expires_at"].required = False

    def _arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "mentor_id": data["mentor_id"],
            "certification_type": data["certification_type"],
            "issued_at": data["issued_at"],
            "expires_at": data.get("expires_at"),
            "now": self.now,
        }

    def validate(self) -> None:
        services.certification_validate_create(**self._arguments())

    def write(self, *, by: Actor) -> CertificationWriteResult:
        return services.certification_create(**self._arguments(), by=by)


class CertificationChangeForm(_ServiceForm):
    """Edit a certification: ``certification_update`` with the changed fields, as a PATCH."""

    class Meta:
        model = Certification
        fields = list(UPDATABLE_FIELDS)

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data if name in UPDATABLE_FIELDS}

    def validate(self) -> None:
        if self.changes():
            services.certification_validate_update(certification=self.instance, changes=self.changes(), now=self.now)

    def write(self, *, by: Actor) -> CertificationWriteResult:
        changes = self.changes()
        if not changes:
            return CertificationWriteResult(certification=self.instance)
        return services.certification_update(certification=self.instance, changes=changes, now=self.now, by=by)


# --- The certification pages ------------------------------------------------------------------------


class CertificationAdmin(BulkAdminMixin, HistoryAdminMixin, ServiceActionsMixin, admin.ModelAdmin):
    # Named, so that django-import-export's list template extends it (its drill-down reads the tallies).
    change_list_template = "admin/certifications/certification/change_list.html"
    list_display = [
        "certification_id",
        "mentor_link",
        "type_code",
        "issued",
        "expires",
        "status",
        "auto_paused",
        "lifecycle",
        "expiry",
    ]
    list_filter = [
        LifecycleFilter,
        "status",
        "certification_type",
        "auto_pause_applied",
        ExpiringFilter,
        LapsedFilter,
        DeletedFilter,
    ]
    search_fields = ["certification_id", "mentor__mentor_id", "mentor__name", "mentor__email"]
    search_help_text = "A certification or mentor id (or its beginning), or part of a mentor's name or email."
    date_hierarchy = "expires_at"
    # Counting a million rows per page view is what made the list slow: the count comes from the
    # maintained totals (or is capped, admin/counting.py), never for the whole table, no facets.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    ordering = ["-issued_at", "-certification_id"]  # unique, so the issue-order index serves it whole
    actions = ["renew", "revoke", "soft_delete", "restore"]
    list_per_page = 50
    change_readonly_fields = [
        "certification_id",
        "mentor_link",
        "revoked_at",
        "auto_pause_applied",
        "auto_pause_applied_at",
        "created_at",
        "updated_at",
        "deleted_at",
    ]
    delete_confirmation_template = "admin/certifications/certification/delete_confirmation.html"

    def get_queryset(self, request):
        # Deleted records too (``DeletedFilter`` shows live ones by default), joined as the API's list.
        return ordered(self, request, certification_list(include_deleted=True))

    def get_changelist(self, request, **kwargs):
        return PageAnnotatedChangeList

    # With no order chosen, a lifecycle state is listed in the order its records are found in at once:
    # walking the issue order from the newest, fifty lapsed or superseded records (which are old ones)
    # lie behind hundreds of thousands of current ones.
    LIFECYCLE_ORDERING = {
        Lifecycle.SUPERSEDED: ["issued_at", "certification_id"],  # the oldest first
        Lifecycle.LAPSED: ["-expires_at", "-certification_id"],  # the latest lapse first
        Lifecycle.GRACE: ["expires_at", "certification_id"],  # the grace ending soonest first
        Lifecycle.RENEWAL_DUE: ["expires_at", "certification_id"],  # the soonest expiry first
    }

    def get_ordering(self, request):
        """Soonest expiry first when the list is narrowed by expiry (the drill-down, *expiring*) and no order chosen.

        The expiry index then serves the page; walking the issue order instead
        reads most of the table to find fifty records expiring in one month.
        A lifecycle state has its own order (``LIFECYCLE_ORDERING``), for the same reason.
        """
        if ORDER_VAR not in request.GET:
            narrowed = "expiring" in request.GET or any(key.startswith("expires_at__") for key in request.GET)
            if narrowed:
                return ["expires_at", "certification_id"]
            if state := self.LIFECYCLE_ORDERING.get(request.GET.get("lifecycle")):
                return state
        return super().get_ordering(request)

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        """Counted by the maintained totals when the page's filters allow, else up to ``COUNT_CAP``."""
        tally = certification_tally_count(request.GET, date_field=self.date_hierarchy)
        counter = (lambda: (tally.total(), False)) if tally is not None else (lambda: capped_count(queryset))
        return CountedPaginator(
            queryset, per_page, orphans=orphans, allow_empty_first_page=allow_empty_first_page, counter=counter
        )

    def get_search_results(self, request, queryset, search_term):
        """An id or its beginning by the ids' indexes; otherwise the mentor's name or email (trigram indexes)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if cert_id := id_prefix(term, "cert_"):
            return queryset.filter(certification_id__startswith=cert_id), False
        if mentor_id := id_prefix(term, "mntr_"):
            return queryset.filter(mentor__mentor_id__startswith=mentor_id), False
        return queryset.filter(mentor__in=mentors_matching(term)), False

    # Columns

    @admin.display(description="mentor", ordering="mentor__mentor_id")
    def mentor_link(self, obj: Certification) -> str:
        return mentor_cell(obj.mentor)

    @admin.display(description="type", ordering="certification_type__code")
    def type_code(self, obj: Certification) -> str:
        # Let long codes wrap after their underscores.
        return mark_safe("_<wbr>".join(escape(part) for part in obj.certification_type.code.split("_")))

    @admin.display(description="issued", ordering="issued_at")
    def issued(self, obj: Certification) -> str:
        return day(obj.issued_at)

    @admin.display(description="expires", ordering="expires_at")
    def expires(self, obj: Certification) -> str:
        return day(obj.expires_at)

    @admin.display(description="auto-paused", boolean=True, ordering="auto_pause_applied")
    def auto_paused(self, obj: Certification) -> bool:
        return obj.auto_pause_applied

    @admin.display(description="lifecycle")
    def lifecycle(self, obj: Certification) -> str:
        return Lifecycle(obj.lifecycle).label.split(" (")[0] if getattr(obj, "lifecycle", None) else "-"

    @admin.display(description="expiry")
    def expiry(self, obj: Certification) -> str:
        """'expires in N days', 'expired, in grace until …', 'lapsed N days ago', 'renewed' or 'deleted'."""
        now = timezone.now()
        if obj.deleted_at is not None:
            text, css = "deleted", "ch-muted"
        elif obj.status == CertificationStatus.VALID and obj.expires_at > now:
            days = (obj.expires_at - now).days
            text = "expires today" if days == 0 else f"expires in {plural(days, 'day')}"
            css = "ch-soon" if days <= 30 else "ch-ok"
        elif getattr(obj, "renewed", False):
            text, css = "renewed", "ch-muted"
        elif obj.status == CertificationStatus.REVOKED:
            text, css = "lapsed (revoked)", "ch-lapsed"
        elif getattr(obj, "lifecycle", None) == Lifecycle.GRACE:
            text, css = f"expired, in grace until {day(obj.grace_ends_at)}", "ch-soon"
        else:
            days = (now - obj.expires_at).days
            text = "lapsed today" if days == 0 else f"lapsed {plural(days, 'day')} ago"
            css = "ch-lapsed"
        return format_html('<span class="ch-badge {}">{}</span>', css, text)

    # Forms: every save goes through the services

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "certification_type" and formfield is not None:
            # Types are managed on their own page, not from inside a certification.
            widget = formfield.widget
            widget.can_add_related = widget.can_change_related = widget.can_delete_related = False
            widget.can_view_related = False
        return formfield

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = CertificationChangeForm if obj is not None else CertificationAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["mentor_id", "certification_type", "issued_at", "expires_at"]
        return [
            "certification_id",
            "mentor_link",
            "certification_type",
            "issued_at",
            "expires_at",
            "status",
            "revocation_reason",
            "revoked_at",
            "auto_pause_applied",
            "auto_pause_applied_at",
            "created_at",
            "updated_at",
            "deleted_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.change_readonly_fields if obj is not None else []

    def save_form(self, request, form, change):
        """Write once through the service the form was validated by; report what the write resumed."""
        result = form.write(by=Actor.admin(request))
        self._report_resumes(request, [result])
        return result.certification

    def save_model(self, request, obj, form, change):
        """Already saved by ``save_form`` through the service."""

    def save_related(self, request, form, formsets, change):
        """Certifications have no many-to-many fields or inlines to save."""

    def has_change_permission(self, request, obj=None):
        # A deleted record is read-only until restored.
        if obj is not None and obj.deleted_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.deleted_at is not None:
            return False
        return super().has_delete_permission(request, obj)

    # Deleting is a soft delete, from the change page as from the action

    def get_deleted_objects(self, objs, request):
        """A soft delete removes nothing else: no cascade, nothing protected."""
        return [str(obj) for obj in objs], {}, set(), []

    def delete_model(self, request, obj):
        self._report_resumes(
            request, [services.certification_delete(certification=obj, now=timezone.now(), by=Actor.admin(request))]
        )

    def delete_queryset(self, request, queryset):
        now, by = timezone.now(), Actor.admin(request)
        self._report_resumes(
            request, [services.certification_delete(certification=obj, now=now, by=by) for obj in queryset]
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # Django's hard delete; "soft_delete" replaces it
        return actions

    # Actions

    @admin.action(description="Renew selected certifications", permissions=["change"])
    def renew(self, request, queryset):
        def apply(form: RenewForm) -> None:
            expires_at = form.expires_at()
            results = self._each(
                request,
                queryset,
                lambda cert, now: services.certification_renew(
                    certification=cert, now=now, expires_at=expires_at, by=Actor.admin(request)
                ),
                done="Renewed",
            )
            self._report_resumes(request, results)

        return self._with_form(
            request,
            queryset,
            form_class=RenewForm,
            apply=apply,
            action="renew",
            title="Renew certifications",
            intro="Each record becomes valid until its new expiry. Auto-paused mentors are resumed "
            "when nothing else of theirs is lapsed.",
            submit="Renew",
        )

    @admin.action(description="Revoke selected certifications", permissions=["change"])
    def revoke(self, request, queryset):
        def apply(form: RevokeForm) -> None:
            reason = form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                lambda cert, now: services.certification_revoke(
                    certification=cert, now=now, reason=reason, by=Actor.admin(request)
                ),
                done="Revoked",
            )

        return self._with_form(
            request,
            queryset,
            form_class=RevokeForm,
            apply=apply,
            action="revoke",
            title="Revoke certifications",
            intro="A revoked record no longer covers its mentor: the next expiry job pauses the mentor "
            "unless another current record of the same type does.",
            submit="Revoke",
        )

    @admin.action(description="Delete selected certifications (restorable)", permissions=["delete"])
    def soft_delete(self, request, queryset):
        results = self._each(
            request,
            queryset,
            lambda cert, now: services.certification_delete(certification=cert, now=now, by=Actor.admin(request)),
            done="Deleted",
        )
        self._report_resumes(request, results)
        self.message_user(request, "Deleted records are listed under the 'Deleted' filter and can be restored.")

    @admin.action(description="Restore selected deleted certifications", permissions=["delete"])
    def restore(self, request, queryset):
        deleted = queryset.filter(deleted_at__isnull=False)
        if not deleted.exists():
            self.message_user(
                request, "None of the selected records is deleted; the 'Deleted' filter lists those.", messages.WARNING
            )
            return
        results = self._each(
            request,
            deleted,
            lambda cert, now: services.certification_restore(certification=cert, now=now, by=Actor.admin(request)),
            done="Restored",
        )
        self._report_resumes(request, results)
