"""The renewal request queue: pending first and oldest first, the evidence, approve and reject; the dashboard's count.

Requests are written only by the services: the admin approves (optionally
with corrected dates) and rejects (with a reason) through
``renewal_request_approve`` / ``renewal_request_reject`` with
``Actor.admin(request)``, as actions on the list and as buttons on the change
page, so an approval here leaves the same rows as one through the API. Both
need ``certifications.review_renewalrequest``. The evidence is streamed by an
admin view as an attachment (``nosniff``), never from a media URL; an image
is shown inline on the change page through that view.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Min, Value, When
from django.http import FileResponse, Http404, HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from certhub.errors import DomainError
from certifications import services
from certifications.admin.actions import RevokeForm, ServiceActionsMixin
from certifications.admin.common import ReadOnly
from certifications.history import Actor
from certifications.models import RenewalRequest, RenewalState
from certifications.renewals.download import evidence_response

REVIEW = "certifications.review_renewalrequest"


def _midnight(day: dt.date | None) -> dt.datetime | None:
    return None if day is None else dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


class DecisionForm(forms.Form):
    """The change page's decision: approve (dates optional, to correct the mentor's) or reject (a reason)."""

    issued_on = forms.DateField(required=False, label="Issued on", widget=forms.DateInput(attrs={"type": "date"}))
    expires_on = forms.DateField(required=False, label="Expires on", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(required=False, max_length=500, label="Reason (to reject)")


def waiting(request: RenewalRequest, now: dt.datetime) -> str:
    """How long a request has waited, in days or hours."""
    age = now - request.created_at
    return f"{age.days} d" if age.days else f"{int(age.total_seconds() // 3600)} h"


class RenewalRequestAdmin(ServiceActionsMixin, ReadOnly, admin.ModelAdmin):
    list_display = [
        "renewal_request_id",
        "mentor",
        "certification_type",
        "state",
        "issued_at",
        "created_at",
        "waited",
        "evidence_link",
    ]
    list_filter = ["state", "certification_type", "submitted_via"]
    search_fields = ["renewal_request_id", "mentor__mentor_id", "mentor__name", "mentor__email"]
    search_help_text = "A request id, a mentor id, or part of a mentor's name or email."
    list_select_related = ["mentor", "certification_type"]
    show_facets = admin.ShowFacets.NEVER
    actions = ["approve", "reject"]
    fields = [
        "renewal_request_id",
        "mentor",
        "certification_type",
        "issued_at",
        "expires_at",
        "note",
        "evidence_shown",
        "state",
        "submitted_via",
        "created_at",
        "decided_by",
        "decided_at",
        "decision_reason",
        "certification",
    ]
    readonly_fields = fields
    change_form_template = "admin/certifications/renewalrequest/change_form.html"

    def get_queryset(self, request):
        pending_first = Case(
            When(state=RenewalState.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
        # Annotated before the admin orders by it (ModelAdmin.get_queryset would order first).
        queryset = self.model._default_manager.annotate(pending_first=pending_first)
        return queryset.order_by(*self.get_ordering(request))

    def get_ordering(self, request):
        return ["pending_first", "created_at", "id"]  # the queue: pending first, oldest first

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("certifications.view_renewalrequest")

    def has_review_permission(self, request) -> bool:
        return request.user.has_perm(REVIEW)

    def get_urls(self):
        own = [
            path("<int:pk>/evidence/", self.admin_site.admin_view(self.evidence_view), name="renewal_request_evidence"),
            path("<int:pk>/decide/", self.admin_site.admin_view(self.decide_view), name="renewal_request_decide"),
        ]
        return own + super().get_urls()

    @admin.display(description="waited")
    def waited(self, obj: RenewalRequest) -> str:
        return waiting(obj, timezone.now()) if obj.state == RenewalState.PENDING else "—"

    def _evidence_url(self, obj: RenewalRequest) -> str:
        return reverse("admin:renewal_request_evidence", args=[obj.pk], current_app=self.admin_site.name)

    @admin.display(description="evidence")
    def evidence_link(self, obj: RenewalRequest) -> str:
        return format_html('<a href="{}">{}</a>', self._evidence_url(obj), obj.evidence_content_type)

    @admin.display(description="evidence")
    def evidence_shown(self, obj: RenewalRequest) -> str:
        url = self._evidence_url(obj)
        if obj.evidence_content_type.startswith("image/"):
            return format_html(
                '<a href="{}"><img src="{}" alt="The evidence" style="max-width: 480px; max-height: 480px;"></a>',
                url,
                url,
            )
        return format_html('<a href="{}" id="evidence-link">Download the PDF ({} bytes)</a>', url, obj.evidence_size)

    def evidence_view(self, request: HttpRequest, pk: int) -> FileResponse:
        """The evidence file, as an attachment that no browser sniffs."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        response = evidence_response(get_object_or_404(RenewalRequest, pk=pk))
        if response is None:
            raise Http404("The evidence file is no longer kept.")
        return response

    def decide_view(self, request: HttpRequest, pk: int) -> HttpResponseRedirect:
        """The change page's Approve or Reject button."""
        if request.method != "POST" or not self.has_review_permission(request):
            raise PermissionDenied
        obj = get_object_or_404(RenewalRequest, pk=pk)
        form = DecisionForm(request.POST)
        back = reverse("admin:certifications_renewalrequest_change", args=[pk], current_app=self.admin_site.name)
        if not form.is_valid():
            self.message_user(request, "Dates are days, e.g. 2026-03-26.", messages.ERROR)
            return HttpResponseRedirect(back)
        data = form.cleaned_data
        try:
            if "approve" in request.POST:
                decided = services.renewal_request_approve(
                    renewal_request=obj,
                    issued_at=_midnight(data["issued_on"]),
                    expires_at=_midnight(data["expires_on"]),
                    now=timezone.now(),
                    by=Actor.admin(request),
                )
                self.message_user(
                    request, f"Approved {decided}: recorded {decided.certification.certification_id}.", messages.SUCCESS
                )
            else:
                decided = services.renewal_request_reject(
                    renewal_request=obj, reason=data["reason"], now=timezone.now(), by=Actor.admin(request)
                )
                self.message_user(request, f"Rejected {decided}.", messages.SUCCESS)
        except DomainError as exc:
            self.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        return HttpResponseRedirect(back)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_review"] = bool(obj and obj.state == RenewalState.PENDING and self.has_review_permission(request))
        context["decision_form"] = DecisionForm()
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.action(description="Approve selected requests (the dates as sent)", permissions=["review"])
    def approve(self, request, queryset):
        self._each(
            request,
            queryset.filter(state=RenewalState.PENDING),
            lambda obj, now: services.renewal_request_approve(renewal_request=obj, now=now, by=Actor.admin(request)),
            done="Approved",
        )

    @admin.action(description="Reject selected requests…", permissions=["review"])
    def reject(self, request, queryset):
        def apply(form: RevokeForm) -> None:
            reason = form.cleaned_data["reason"]
            self._each(
                request,
                queryset.filter(state=RenewalState.PENDING),
                lambda obj, now: services.renewal_request_reject(
                    renewal_request=obj, reason=reason, now=now, by=Actor.admin(request)
                ),
                done="Rejected",
            )

        return self._with_form(
            request,
            queryset,
            form_class=RevokeForm,
            apply=apply,
            action="reject",
            title="Reject renewal requests",
            intro="The mentor is told the reason by e-mail, with a link to send a new request.",
            submit="Reject",
        )


class RenewalRequestInline(ReadOnly, admin.TabularInline):
    """A mentor's renewal requests, newest first, on the mentor page."""

    model = RenewalRequest
    fields = ["renewal_request_id", "certification_type", "issued_at", "state", "created_at", "decided_at"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False
    ordering = ["-created_at"]


def renewals_dashboard_context(request: HttpRequest, site: admin.AdminSite) -> dict:
    """The pending count and the oldest pending request's age, for staff who may see requests."""
    if not request.user.has_perm("certifications.view_renewalrequest"):
        return {}
    pending = RenewalRequest.objects.filter(state=RenewalState.PENDING)
    oldest = pending.aggregate(oldest=Min("created_at"))["oldest"]
    queue = reverse("admin:certifications_renewalrequest_changelist", current_app=site.name)
    return {
        "renewals": {
            "pending": pending.count(),
            "oldest_age": waiting(RenewalRequest(created_at=oldest), timezone.now()) if oldest else None,
            "link": f"{queue}?state__exact=pending",
        }
    }
