"""The coordinators' admin: certifications, mentors, expiry runs and the auto-pause log.

Every write that carries a rule goes through ``certifications.services``, so
auto-resume and the log behave exactly as through the API; a refused write
shows the service's ``DomainError`` message, the same text the API returns.
Run records and the auto-pause log are read-only here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe

from certhub.errors import DomainError, JobAlreadyRunning
from certifications import services
from certifications.models import (
    AutoPauseLog,
    Certification,
    CertificationStatus,
    CertificationType,
    ExpiryJobRun,
    JobTrigger,
    Mentor,
    MentorStatus,
    PausedBy,
    mentor_id_validator,
    renewal_exists,
)
from certifications.services.lapse import lock_holder
from certifications.services.records import UPDATABLE_FIELDS

RUN_PERMISSION = "certifications.run_expiry_job"
PREVIEW_LIMIT = 200


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _admin_link(obj, label: str | None = None) -> str:
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label if label is not None else str(obj))


def _mentor_cell(mentor: Mentor) -> str:
    """The mentor's name linked to their page, with the id beneath."""
    url = reverse("admin:certifications_mentor_change", args=[mentor.pk])
    if not mentor.name:
        return format_html('<a href="{}">{}</a>', url, mentor.mentor_id)
    return format_html('<a href="{}">{}</a><br><span class="ch-note">{}</span>', url, mentor.name, mentor.mentor_id)


def _day(value: dt.datetime | None, *, time: bool = False) -> str:
    """A compact UTC date (and time) that does not wrap."""
    if value is None:
        return "-"
    return format_html(
        '<span class="ch-nowrap">{}</span>', f"{value.astimezone(dt.UTC):%Y-%m-%d{' %H:%M' if time else ''}}"
    )


def _add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service refusal on a form: its message, and each field message on its field."""
    form.add_error(None, exc.message)
    for name, field_messages in (exc.fields or {}).items():
        for message in field_messages:
            form.add_error(name if name in form.fields else None, message)


# --- Certifications: filters ---------------------------------------------------------


class DeletedFilter(admin.SimpleListFilter):
    """Live records by default; soft-deleted ones on demand, so they can be restored."""

    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("yes", "Deleted"), ("any", "Live and deleted")]

    def choices(self, changelist):
        # No parameter means live records, so that choice is labelled "Live", not "All".
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Live",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "any":
            return queryset
        return queryset.alive()


class ExpiringFilter(admin.SimpleListFilter):
    """Current certifications expiring within 30, 60 or 90 days."""

    title = "expiring"
    parameter_name = "expiring"
    windows = (30, 60, 90)

    def lookups(self, request, model_admin):
        return [(str(days), f"Within {days} days") for days in self.windows] + [("current", "Not yet expired")]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        now = timezone.now()
        current = queryset.current(now=now)
        if value == "current":
            return current
        if value.isdigit() and int(value) in self.windows:
            return current.filter(expires_at__lte=now + dt.timedelta(days=int(value)))
        return queryset.none()


class LapsedFilter(admin.SimpleListFilter):
    """Lapsed records (DESIGN: the rule), split by whether the job has paused for them yet."""

    title = "lapsed"
    parameter_name = "lapsed"

    def lookups(self, request, model_admin):
        return [
            ("due", "Awaiting the expiry job"),
            ("applied", "Auto-pause applied"),
            ("any", "All lapsed"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        now = timezone.now()
        if value == "due":
            return queryset.due(now=now)
        lapsed = queryset.lapsed(now=now)
        if value == "applied":
            return lapsed.filter(auto_pause_applied=True)
        if value == "any":
            return lapsed
        return queryset.none()


# --- Certifications: forms -----------------------------------------------------------


class _ServiceValidated(forms.ModelForm):
    """A ModelForm validated by the service it saves through.

    Instead of model validation, the service's write is tried in a savepoint
    that is always rolled back: whatever the service refuses (the API's rules
    and messages) becomes a form error, and nothing is written until the admin
    saves, which calls the service for real (``CertificationAdmin.save_form``).
    """

    class _TrialDone(Exception):
        pass

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.now = timezone.now()

    def apply(self) -> Certification:
        raise NotImplementedError

    def _post_clean(self) -> None:
        if self._errors:
            return
        try:
            with transaction.atomic():
                self.apply()
                raise self._TrialDone
        except self._TrialDone:
            pass
        except DomainError as exc:
            _add_domain_error(self, exc)


class CertificationAddForm(_ServiceValidated):
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

    def apply(self) -> Certification:
        data = self.cleaned_data
        return services.certification_create(
            mentor_id=data["mentor_id"],
            certification_type=data["certification_type"],
            issued_at=data["issued_at"],
            expires_at=data.get("expires_at"),
            now=self.now,
        )


class CertificationChangeForm(_ServiceValidated):
    """Edit a certification: ``certification_update`` with the changed fields, as a PATCH."""

    class Meta:
        model = Certification
        fields = list(UPDATABLE_FIELDS)

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data if name in UPDATABLE_FIELDS}

    def apply(self) -> Certification:
        changes = self.changes()
        if not changes:
            return self.instance
        return services.certification_update(certification=self.instance, changes=changes, now=self.now)


class RenewForm(forms.Form):
    mode = forms.ChoiceField(
        choices=[
            ("validity", "By the type's validity, from the later of today and the current expiry"),
            ("date", "To the date below"),
        ],
        initial="validity",
        widget=forms.RadioSelect,
        label="Renew",
    )
    expires_on = forms.DateField(
        required=False,
        label="New expiry date",
        help_text="Midnight UTC at the start of that day.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("mode") == "date" and not data.get("expires_on"):
            self.add_error("expires_on", "Enter the new expiry date.")
        return data

    def expires_at(self) -> dt.datetime | None:
        """The chosen expiry, or None for 'by the type's validity'."""
        if self.cleaned_data["mode"] != "date":
            return None
        day = self.cleaned_data["expires_on"]
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=255, widget=forms.TextInput(attrs={"size": 60, "autofocus": True}))


class RevokeForm(ReasonForm):
    reason = forms.CharField(max_length=500, widget=forms.TextInput(attrs={"size": 60, "autofocus": True}))


# --- Shared action plumbing ------------------------------------------------------------


class ServiceActionsMixin:
    """Intermediate pages for actions that need input, and per-record service calls."""

    action_form_template = "admin/certifications/action_form.html"

    def _action_page(self, request, queryset, *, action: str, form: forms.Form, title: str, intro: str, submit: str):
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "submit": submit,
            "opts": opts,
            "queryset": queryset,
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "objects_name": opts.verbose_name if len(queryset) == 1 else opts.verbose_name_plural,
        }
        return TemplateResponse(request, self.action_form_template, context)

    def _with_form(self, request, queryset, *, form_class: type[forms.Form], apply: Callable, **page):
        """Show the action's input page; once it is submitted and valid, ``apply(form)`` and go back to the list."""
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            apply(form)
            return None
        return self._action_page(request, queryset, form=form, **page)

    def _each(self, request, queryset, call: Callable, *, done: str) -> list:
        """Call ``call(obj, now)`` for every selected record; report refusals and the count done."""
        now = timezone.now()
        results = []
        for obj in queryset:
            try:
                results.append((obj, call(obj, now)))
            except DomainError as exc:
                self.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        if results:
            noun = self.model._meta.verbose_name if len(results) == 1 else self.model._meta.verbose_name_plural
            self.message_user(request, f"{done} {len(results)} {noun}.", messages.SUCCESS)
        return results


# --- Certifications ----------------------------------------------------------------------


@admin.register(Certification)
class CertificationAdmin(ServiceActionsMixin, admin.ModelAdmin):
    list_display = [
        "certification_id",
        "mentor_link",
        "type_code",
        "issued",
        "expires",
        "status",
        "auto_paused",
        "expiry",
    ]
    list_select_related = ["mentor", "certification_type"]
    list_filter = [
        "status",
        "certification_type",
        "auto_pause_applied",
        ExpiringFilter,
        LapsedFilter,
        DeletedFilter,
    ]
    search_fields = ["certification_id", "mentor__mentor_id", "mentor__name", "mentor__email"]
    search_help_text = "Certification id, mentor id, mentor name or email."
    date_hierarchy = "expires_at"
    ordering = ["-issued_at"]
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
        # ``renewed``: another current record of the same mentor and type covers this one.
        return super().get_queryset(request).annotate(renewed=renewal_exists(now=timezone.now()))

    # Columns

    @admin.display(description="mentor", ordering="mentor__mentor_id")
    def mentor_link(self, obj: Certification) -> str:
        return _mentor_cell(obj.mentor)

    @admin.display(description="type", ordering="certification_type__code")
    def type_code(self, obj: Certification) -> str:
        # Let long codes wrap after their underscores.
        return mark_safe("_<wbr>".join(escape(part) for part in obj.certification_type.code.split("_")))

    @admin.display(description="issued", ordering="issued_at")
    def issued(self, obj: Certification) -> str:
        return _day(obj.issued_at)

    @admin.display(description="expires", ordering="expires_at")
    def expires(self, obj: Certification) -> str:
        return _day(obj.expires_at)

    @admin.display(description="auto-paused", boolean=True, ordering="auto_pause_applied")
    def auto_paused(self, obj: Certification) -> bool:
        return obj.auto_pause_applied

    @admin.display(description="expiry")
    def expiry(self, obj: Certification) -> str:
        """'expires in N days', 'lapsed N days ago', 'renewed' or 'deleted'."""
        now = timezone.now()
        if obj.deleted_at is not None:
            text, css = "deleted", "ch-muted"
        elif obj.status == CertificationStatus.VALID and obj.expires_at > now:
            days = (obj.expires_at - now).days
            text = "expires today" if days == 0 else f"expires in {_plural(days, 'day')}"
            css = "ch-soon" if days <= 30 else "ch-ok"
        elif getattr(obj, "renewed", False):
            text, css = "renewed", "ch-muted"
        elif obj.status == CertificationStatus.REVOKED:
            text, css = "lapsed (revoked)", "ch-lapsed"
        else:
            days = (now - obj.expires_at).days
            text = "lapsed today" if days == 0 else f"lapsed {_plural(days, 'day')} ago"
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
        """Write through the service the form was validated by and return the saved record."""
        return form.apply()

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
        services.certification_delete(certification=obj, now=timezone.now())

    def delete_queryset(self, request, queryset):
        now = timezone.now()
        for obj in queryset:
            services.certification_delete(certification=obj, now=now)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # Django's hard delete; "soft_delete" replaces it
        return actions

    # Actions

    def _each_reporting_resumes(self, request, queryset, call: Callable, *, done: str) -> None:
        """Run ``call`` per record and name the auto-paused mentors the writes resumed."""
        queryset = queryset.select_related("mentor", "certification_type")
        paused_before = {
            cert.mentor_id
            for cert in queryset
            if cert.mentor.status == MentorStatus.PAUSED and cert.mentor.paused_by == PausedBy.AUTO
        }
        results = self._each(request, queryset, call, done=done)
        touched = {cert.mentor_id for cert, _ in results} & paused_before
        resumed = list(Mentor.objects.filter(pk__in=touched, status=MentorStatus.ACTIVE))
        if resumed:
            names = ", ".join(str(mentor) for mentor in resumed)
            self.message_user(
                request, f"Resumed {_plural(len(resumed), 'auto-paused mentor')}: {names}.", messages.SUCCESS
            )

    @admin.action(description="Renew selected certifications", permissions=["change"])
    def renew(self, request, queryset):
        def apply(form: RenewForm) -> None:
            expires_at = form.expires_at()
            self._each_reporting_resumes(
                request,
                queryset,
                lambda cert, now: services.certification_renew(certification=cert, now=now, expires_at=expires_at),
                done="Renewed",
            )

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
                lambda cert, now: services.certification_revoke(certification=cert, now=now, reason=reason),
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
        self._each_reporting_resumes(
            request,
            queryset,
            lambda cert, now: services.certification_delete(certification=cert, now=now),
            done="Deleted",
        )
        self.message_user(request, "Deleted records are listed under the 'Deleted' filter and can be restored.")

    @admin.action(description="Restore selected deleted certifications", permissions=["delete"])
    def restore(self, request, queryset):
        deleted = queryset.filter(deleted_at__isnull=False)
        if not deleted.exists():
            self.message_user(
                request, "None of the selected records is deleted; the 'Deleted' filter lists those.", messages.WARNING
            )
            return
        self._each(
            request,
            deleted,
            lambda cert, now: services.certification_restore(certification=cert, now=now),
            done="Restored",
        )


# --- Mentors ---------------------------------------------------------------------------------


class CertificationInline(admin.TabularInline):
    """A mentor's certifications, read-only here: they are changed on their own pages."""

    model = Certification
    fields = ["certification_id", "certification_type", "issued_at", "expires_at", "status", "auto_pause_applied"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False
    ordering = ["-issued_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).alive().select_related("certification_type")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Mentor)
class MentorAdmin(ServiceActionsMixin, admin.ModelAdmin):
    list_display = [
        "mentor_id",
        "name",
        "email",
        "status",
        "paused_by",
        "pause_reason",
        "paused_at",
        "live_certifications",
    ]
    list_filter = ["status", "paused_by"]
    search_fields = ["mentor_id", "name", "email"]
    search_help_text = "Mentor id, name or email."
    inlines = [CertificationInline]
    actions = ["pause", "resume"]
    list_per_page = 50
    readonly_fields = ["status", "paused_by", "paused_at", "pause_reason", "created_at", "updated_at"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(live_count=Count("certifications", filter=Q(certifications__deleted_at__isnull=True)))
        )

    def get_readonly_fields(self, request, obj=None):
        # The id is chosen once; status changes only through the pause / resume actions.
        return ["mentor_id", *self.readonly_fields] if obj is not None else self.readonly_fields

    @admin.display(description="certifications", ordering="live_count")
    def live_certifications(self, obj: Mentor) -> int:
        return obj.live_count

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()
        if not change:
            obj.created_at = obj.updated_at
        super().save_model(request, obj, form, change)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # mentors are paused, not deleted
        return actions

    @admin.action(description="Pause selected mentors (staff pause)", permissions=["change"])
    def pause(self, request, queryset):
        def apply(form: ReasonForm) -> None:
            reason = form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                lambda mentor, now: services.mentor_pause(mentor=mentor, now=now, reason=reason),
                done="Paused",
            )

        return self._with_form(
            request,
            queryset,
            form_class=ReasonForm,
            apply=apply,
            action="pause",
            title="Pause mentors",
            intro="A staff pause is never lifted automatically, not even by a renewal; resume the mentor "
            "with the 'Resume' action.",
            submit="Pause",
        )

    @admin.action(description="Resume selected mentors", permissions=["change"])
    def resume(self, request, queryset):
        self._each(
            request,
            queryset.filter(status=MentorStatus.PAUSED),
            lambda mentor, now: services.mentor_resume(mentor=mentor, now=now),
            done="Resumed",
        )


# --- Certification types ------------------------------------------------------------------------


@admin.register(CertificationType)
class CertificationTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "validity_months", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]


# --- The expiry job -------------------------------------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by the services: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExpiryJobRun)
class ExpiryJobRunAdmin(ReadOnlyAdmin):
    list_display = [
        "job_run_id",
        "state",
        "trigger",
        "dry_run",
        "requested_by",
        "started",
        "mentors_scanned",
        "expired_found",
        "auto_paused",
        "marked_expired",
        "failure_count",
    ]
    list_select_related = ["requested_by"]
    list_filter = ["state", "trigger", "dry_run"]
    search_fields = ["job_run_id"]
    date_hierarchy = "created_at"
    fields = [
        "job_run_id",
        "state",
        "trigger",
        "dry_run",
        "requested_by",
        "created_at",
        "started_at",
        "completed_at",
        "mentors_scanned",
        "expired_found",
        "auto_paused",
        "marked_expired",
        "failure_table",
        "error",
        "log_entries",
    ]
    readonly_fields = fields

    @admin.display(description="started (UTC)", ordering="started_at")
    def started(self, obj: ExpiryJobRun) -> str:
        return _day(obj.started_at, time=True)

    @admin.display(description="failures")
    def failure_count(self, obj: ExpiryJobRun) -> int:
        return len(obj.failures or [])

    @admin.display(description="failures")
    def failure_table(self, obj: ExpiryJobRun) -> str:
        if not obj.failures:
            return "None"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((item.get("mentor_id"), item.get("certification_id"), item.get("error")) for item in obj.failures),
        )
        return format_html(
            "<table><thead><tr><th>mentor</th><th>certification</th><th>error</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="auto-pause log")
    def log_entries(self, obj: ExpiryJobRun) -> str:
        if obj.dry_run:
            return "A dry run writes no log entries."
        url = reverse("admin:certifications_autopauselog_changelist")
        return format_html('<a href="{}?job_run__id__exact={}">Entries written by this run</a>', url, obj.pk)

    def get_urls(self):
        run = path("run/", self.admin_site.admin_view(self.run_view), name="certifications_expiryjobrun_run")
        return [run, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        context = {"can_run_expiry_job": request.user.has_perm(RUN_PERMISSION), **(extra_context or {})}
        return super().changelist_view(request, context)

    def run_view(self, request: HttpRequest):
        """Preview the job as a dry run, then run it for real on confirmation."""
        if not request.user.has_perm(RUN_PERMISSION):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Run expiry job",
            "opts": self.model._meta,
            "preview_limit": PREVIEW_LIMIT,
        }
        if request.method == "POST" and "run" in request.POST:
            try:
                run = services.expiry_job_run(
                    now=timezone.now(), dry_run=False, trigger=JobTrigger.ADMIN, requested_by=request.user
                )
            except JobAlreadyRunning as exc:
                self.message_user(
                    request,
                    f"{exc.message} Nothing was started; preview again once it has finished.",
                    messages.ERROR,
                )
                return HttpResponseRedirect(request.path)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return HttpResponseRedirect(request.path)
            self.message_user(
                request,
                f"Expiry job {run.job_run_id} {run.state}: {_plural(run.marked_expired, 'certification')} marked "
                f"expired, {run.expired_found} due, {_plural(run.auto_paused, 'mentor')} paused, "
                f"{_plural(len(run.failures), 'failure')}.",
                messages.ERROR if run.failures else messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:certifications_expiryjobrun_change", args=[run.pk]))
        if request.method == "POST" and "preview" in request.POST:
            now = timezone.now()
            context["preview"] = services.expiry_job_run(
                now=now, dry_run=True, trigger=JobTrigger.ADMIN, requested_by=request.user
            )
            context["items"] = services.expiry_job_preview(now=now, limit=PREVIEW_LIMIT)
        context["running"] = lock_holder()
        context["last_run"] = (
            ExpiryJobRun.objects.filter(dry_run=False).select_related("requested_by").order_by("-created_at").first()
        )
        return TemplateResponse(request, "admin/certifications/expiryjobrun/run.html", context)


@admin.register(AutoPauseLog)
class AutoPauseLogAdmin(ReadOnlyAdmin):
    """The append-only auto-pause log: read-only for everyone, superusers included."""

    list_display = ["log_id", "applied", "event", "mentor_link", "certification_link", "job_run_link", "reason"]
    list_select_related = ["mentor", "certification", "job_run"]
    list_filter = ["event", ("job_run", admin.RelatedOnlyFieldListFilter), ("applied_at", admin.DateFieldListFilter)]
    search_fields = ["mentor__mentor_id", "mentor__name", "mentor__email", "certification__certification_id"]
    search_help_text = "Mentor id, name or email, or certification id."
    date_hierarchy = "applied_at"
    fields = ["log_id", "applied_at", "event", "mentor_link", "certification_link", "job_run_link", "reason"]
    readonly_fields = fields
    list_per_page = 100

    @admin.display(description="applied at (UTC)", ordering="applied_at")
    def applied(self, obj: AutoPauseLog) -> str:
        return _day(obj.applied_at, time=True)

    @admin.display(description="mentor", ordering="mentor__mentor_id")
    def mentor_link(self, obj: AutoPauseLog) -> str:
        return _mentor_cell(obj.mentor)

    @admin.display(description="certification", ordering="certification__certification_id")
    def certification_link(self, obj: AutoPauseLog) -> str:
        return _admin_link(obj.certification)

    @admin.display(description="job run", ordering="job_run__job_run_id")
    def job_run_link(self, obj: AutoPauseLog) -> str:
        if obj.job_run is None:
            return "— (a write)"
        return _admin_link(obj.job_run)
