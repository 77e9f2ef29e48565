"""The certification pages' writes: the add and edit forms, the soft delete and the record actions.

A form is validated by the service's own validation step
(``certification_validate_create`` / ``certification_validate_update``) and
saved by one call of the service, whose result names any mentor it resumed.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from certhub.errors import DomainError
from certifications import services
from certifications.admin.actions import RenewForm, RevokeForm, ServiceActionsMixin
from certifications.admin.common import add_domain_error
from certifications.history import Actor
from certifications.models import Certification, mentor_id_validator
from certifications.services.records import UPDATABLE_FIELDS
from certifications.services.results import CertificationWriteResult


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
        services.mentor_id_not_erased(self.cleaned_data["mentor_id"])
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


class CertificationWritesMixin(ServiceActionsMixin):
    """Every save, delete and action of a certification goes through the services (``CertificationAdmin``'s writes)."""

    actions = ["renew", "revoke", "soft_delete", "restore"]

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
