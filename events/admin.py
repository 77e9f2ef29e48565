"""Admin pages of events and webhooks: endpoints through the services, deliveries and events read-only.

Creating an endpoint shows its secret once, on a page rendered in answer to the
save; rotating does the same for the new secrets. A secret never goes into a
message (the messages cookie is signed, not encrypted) nor the session.
Deliveries show every attempt and can be replayed; events are the outbox as
written.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from certhub.errors import DomainError
from certifications.admin.common import ReadOnly, ReadOnlyAdmin, add_domain_error
from events.endpoints import (
    delivery_replay,
    endpoint_create,
    endpoint_delete,
    endpoint_rotate_secret,
    endpoint_send_test,
    endpoint_update,
    event_types_check,
)
from events.models import FEED_TYPES, Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from events.netguard import url_addresses


class EndpointForm(forms.ModelForm):
    """The editable fields; the save goes through ``endpoint_create`` / ``endpoint_update`` (URL checks included)."""

    url = forms.URLField(max_length=2000, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=[(t, t) for t in FEED_TYPES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every type.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "event_types", "description", "is_active"]

    def clean(self):
        """The service's checks (the URL resolved and checked, the types known), shown on the form."""
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            if "url" in self.changed_data:
                url_addresses(cleaned["url"])
            event_types_check(cleaned.get("event_types") or [])
        except DomainError as exc:
            add_domain_error(self, exc)
        return cleaned

    def write(self) -> WebhookEndpoint:
        """Create or change the endpoint through the service."""
        now = timezone.now()
        cleaned = self.cleaned_data
        if self.instance.pk is None:
            return endpoint_create(
                url=cleaned["url"],
                event_types=cleaned.get("event_types") or [],
                description=cleaned.get("description", ""),
                now=now,
            )
        current = WebhookEndpoint.objects.get(pk=self.instance.pk)
        changes = {name: cleaned[name] for name in self.changed_data if name in cleaned}
        return endpoint_update(endpoint=current, changes=changes, now=now)


class AttemptInline(ReadOnly, admin.TabularInline):
    model = WebhookAttempt
    fields = ["number", "attempted_at", "status_code", "latency_ms", "error", "response_body"]
    readonly_fields = fields
    extra = 0


READ_ONLY = ["endpoint_id", "disabled_reason", "previous_secret_expires_at", "created_at", "updated_at"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["endpoint_id", "url", "is_active", "types", "disabled_reason", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["endpoint_id", "url", "description"]
    actions = ["rotate_secret", "send_test_event"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return READ_ONLY

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["url", "event_types", "description"]
        return ["endpoint_id", "url", "event_types", "description", "is_active", *READ_ONLY[1:]]

    @admin.display(description="event types")
    def types(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.event_types) or "all"

    def save_form(self, request, form, change):
        """Write through the service (a new endpoint's secret is shown by ``response_add``)."""
        return form.write()

    def response_add(self, request, obj, post_url_continue=None):
        """The new endpoint's secret, on this page alone."""
        return self.secrets_page(request, title="New endpoint's signing secret", shown=[obj])

    def secrets_page(self, request, *, title: str, shown: list[WebhookEndpoint], refused=()) -> TemplateResponse:
        """A page showing fresh secrets once: rendered in answer to the write, never stored by a cache."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "shown": shown,
            "refused": list(refused),
        }
        response = TemplateResponse(request, "admin/events/webhookendpoint/secrets.html", context)
        add_never_cache_headers(response)
        return response

    def save_model(self, request, obj, form, change):
        """Already saved by the service."""

    def save_related(self, request, form, formsets, change):
        """No inlines or many-to-many fields to save."""

    def delete_model(self, request, obj):
        """Through the service: the endpoint's deliveries leave their states' tally."""
        endpoint_delete(endpoint=obj)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            endpoint_delete(endpoint=endpoint)

    @admin.action(description="Rotate the signing secret (the old one stays valid 24 h)", permissions=["change"])
    def rotate_secret(self, request, queryset):
        now = timezone.now()
        shown, refused = [], []
        for endpoint in queryset:
            try:
                shown.append(endpoint_rotate_secret(endpoint=endpoint, now=now))
            except DomainError as exc:
                refused.append((endpoint.endpoint_id, exc.message))
        return self.secrets_page(request, title="New signing secrets", shown=shown, refused=refused)

    @admin.action(description="Send a test event", permissions=["change"])
    def send_test_event(self, request, queryset):
        now = timezone.now()
        sent = [endpoint_send_test(endpoint=endpoint, now=now).delivery_id for endpoint in queryset]
        self.message_user(request, f"Test event queued: {', '.join(sent)}.", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["delivery_id", "event_type", "endpoint", "state", "attempts", "last_status_code", "next_attempt_at"]
    list_filter = ["state", "event__type"]
    search_fields = ["delivery_id", "event__event_id", "endpoint__endpoint_id"]
    list_select_related = ["event", "endpoint"]
    fields = [
        "delivery_id",
        "event",
        "endpoint",
        "state",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "created_at",
        "completed_at",
    ]
    readonly_fields = fields
    inlines = [AttemptInline]
    actions = ["replay"]

    @admin.display(description="event type", ordering="event__type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    @admin.action(description="Replay (send again with a fresh retry schedule)", permissions=["replay"])
    def replay(self, request, queryset):
        now = timezone.now()
        replayed = sum(delivery_replay(delivery=delivery, now=now) for delivery in queryset)
        self.message_user(request, f"{replayed} deliveries queued again (pending ones are left as they are).")

    def has_replay_permission(self, request) -> bool:
        return request.user.has_perm("events.change_webhookdelivery")


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "sequence", "type", "occurred_at"]
    list_filter = ["type"]
    search_fields = ["event_id"]
    fields = ["event_id", "sequence", "type", "occurred_at", "data"]
    readonly_fields = fields
