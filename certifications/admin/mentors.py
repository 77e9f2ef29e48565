"""The mentor pages: details, their certifications inline, and the staff pause and resume actions."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.html import format_html

from certifications import services
from certifications.admin.actions import ReasonForm, ServiceActionsMixin
from certifications.admin.common import ReadOnly, day
from certifications.admin.counting import id_prefix, mentors_matching
from certifications.admin.history import HistoryAdminMixin
from certifications.admin.personal_data import MentorChangeForm, PersonalDataActionsMixin
from certifications.admin.renewals import RenewalRequestInline
from certifications.eligibility import mentors_eligibility
from certifications.history import Actor
from certifications.models import Certification, Mentor, MentorStatus


class CertificationInline(ReadOnly, admin.TabularInline):
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


class MentorAdmin(HistoryAdminMixin, PersonalDataActionsMixin, ServiceActionsMixin, admin.ModelAdmin):
    form = MentorChangeForm
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
    search_help_text = "A mentor id (or its beginning), or part of a name or email."
    show_full_result_count = False  # one count per page, not two
    show_facets = admin.ShowFacets.NEVER
    inlines = [CertificationInline, RenewalRequestInline]
    actions = ["pause", "resume", "export_personal_data", "erase_personal_data"]
    list_per_page = 50
    readonly_fields = ["status", "paused_by", "paused_at", "pause_reason", "created_at", "updated_at", "erased_at"]

    def get_queryset(self, request):
        # Counted per mentor shown (a subquery on the mentor's index), not by grouping every mentor's records.
        live = (
            Certification.objects.alive()
            .filter(mentor=OuterRef("pk"))
            .order_by()
            .values("mentor")
            .annotate(n=Count("pk"))
            .values("n")
        )
        count = Coalesce(Subquery(live, output_field=IntegerField()), 0)
        return super().get_queryset(request).annotate(live_count=count)

    def get_search_results(self, request, queryset, search_term):
        """A mentor id or its beginning by its index; otherwise part of the name or email (trigram indexes)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if mentor_id := id_prefix(term, "mntr_"):
            return queryset.filter(mentor_id__startswith=mentor_id), False
        return queryset.filter(pk__in=mentors_matching(term).values("pk")), False

    def get_readonly_fields(self, request, obj=None):
        # The id is chosen once; status changes only through the pause / resume actions.
        if obj is None:
            return self.readonly_fields
        return ["mentor_id", "eligibility", *self.readonly_fields]

    @admin.display(description="eligibility now")
    def eligibility(self, obj: Mentor) -> str:
        """The matching platform's answer for this mentor: eligible and through when, or why not."""
        [answer] = mentors_eligibility(mentor_ids=[obj.mentor_id], now=timezone.now())
        if answer.eligible:
            text = format_html("<strong>Eligible</strong> through {}", day(answer.eligible_through))
        else:
            text = format_html("<strong>Not eligible</strong>: {}", ", ".join(answer.reasons))
        if answer.warnings:
            text = format_html("{} (warnings: {})", text, ", ".join(answer.warnings))
        return text

    @admin.display(description="certifications", ordering="live_count")
    def live_certifications(self, obj: Mentor) -> int:
        return obj.live_count

    def save_form(self, request, form, change):
        """Add or edit through the services (``mentor_create``, ``mentor_update``), with a history row."""
        data, now, by = form.cleaned_data, timezone.now(), Actor.admin(request)
        if not change:
            return services.mentor_create(
                mentor_id=data["mentor_id"], name=data.get("name", ""), email=data.get("email", ""), now=now, by=by
            )
        changes = {name: data[name] for name in form.changed_data if name in services.MENTOR_EDITABLE_FIELDS}
        return services.mentor_update(mentor=Mentor.objects.get(pk=form.instance.pk), changes=changes, now=now, by=by)

    def save_model(self, request, obj, form, change):
        """Already saved by ``save_form`` through the service."""

    def save_related(self, request, form, formsets, change):
        """No many-to-many fields; the read-only inline's formset is saved (it writes nothing)."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # mentors are paused, not deleted
        return actions

    def has_delete_permission(self, request, obj=None) -> bool:
        """Mentors are paused, not deleted (their tally, history and log rows stay whole)."""
        return False

    @admin.action(description="Pause selected mentors (staff pause)", permissions=["change"])
    def pause(self, request, queryset):
        def apply(form: ReasonForm) -> None:
            reason = form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                lambda mentor, now: services.mentor_pause(
                    mentor=mentor, now=now, reason=reason, by=Actor.admin(request)
                ),
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
            lambda mentor, now: services.mentor_resume(mentor=mentor, now=now, by=Actor.admin(request)),
            done="Resumed",
        )
