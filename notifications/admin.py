"""The notifications in the admin: a read-only list with filters, a resend action, the upcoming reminders page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from certifications.admin.common import ReadOnlyAdmin, admin_link, day, mentor_cell, plural
from notifications.models import Notification, NotificationState
from notifications.services import notification_resend, reminders_upcoming

RESEND_PERMISSION = "notifications.change_notification"
UPCOMING_DAYS = 30
UPCOMING_LIMIT = 200


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Every message sent, failed or skipped; written only by the services."""

    list_display = ["notification_id", "created", "kind", "state", "recipient", "mentor_link", "subject", "attempts"]
    list_filter = ["kind", "state", ("created_at", admin.DateFieldListFilter)]
    search_fields = [
        "notification_id",
        "recipient",
        "mentor__mentor_id",
        "mentor__name",
        "certification__certification_id",
    ]
    search_help_text = "Notification id, recipient, mentor id or name, or certification id."
    date_hierarchy = "created_at"
    fields = [
        "notification_id",
        "kind",
        "state",
        "recipient",
        "subject",
        "mentor_link",
        "certification_link",
        "cycle_expires_at",
        "offset_days",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    ]
    readonly_fields = fields
    actions = ["resend"]
    list_per_page = 100

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("mentor", "certification")

    @admin.display(description="created (UTC)", ordering="created_at")
    def created(self, obj: Notification) -> str:
        return day(obj.created_at, time=True)

    @admin.display(description="mentor", ordering="mentor__mentor_id")
    def mentor_link(self, obj: Notification) -> str:
        return mentor_cell(obj.mentor) if obj.mentor else "-"

    @admin.display(description="certification", ordering="certification__certification_id")
    def certification_link(self, obj: Notification) -> str:
        return admin_link(obj.certification) if obj.certification else "-"

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm(RESEND_PERMISSION)

    @admin.action(description="Resend selected failed notifications", permissions=["resend"])
    def resend(self, request, queryset):
        resent = sum(
            notification_resend(notification=notification)
            for notification in queryset.filter(state=NotificationState.FAILED)
        )
        others = queryset.count() - resent
        self.message_user(request, f"{plural(resent, 'notification')} queued to send again.", messages.SUCCESS)
        if others:
            self.message_user(
                request, f"{plural(others, 'notification')} left alone: only a failed one is resent.", messages.WARNING
            )

    def get_urls(self):
        upcoming = path(
            "upcoming/", self.admin_site.admin_view(self.upcoming_view), name="notifications_notification_upcoming"
        )
        return [upcoming, *super().get_urls()]

    def upcoming_view(self, request: HttpRequest):
        """The records in a reminder window now or entering one in the next 30 days, and their reminder."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        total, items = reminders_upcoming(now=timezone.now(), days=UPCOMING_DAYS, limit=UPCOMING_LIMIT)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Upcoming reminders (next {UPCOMING_DAYS} days)",
            "opts": self.model._meta,
            "total": total,
            "items": items,
            "limit": UPCOMING_LIMIT,
        }
        return TemplateResponse(request, "admin/notifications/notification/upcoming.html", context)
