"""What the admin pages share: table cells, form error display, selector ordering, the read-only base."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.urls import reverse
from django.utils.html import format_html

from certhub.errors import DomainError
from certifications.models import Mentor


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def admin_link(obj: Model, label: str | None = None) -> str:
    """A link to ``obj``'s change page."""
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label if label is not None else str(obj))


def mentor_cell(mentor: Mentor) -> str:
    """The mentor's name linked to their page, with the id beneath."""
    url = reverse("admin:certifications_mentor_change", args=[mentor.pk])
    if not mentor.name:
        return format_html('<a href="{}">{}</a>', url, mentor.mentor_id)
    return format_html('<a href="{}">{}</a><br><span class="ch-note">{}</span>', url, mentor.name, mentor.mentor_id)


def day(value: dt.datetime | None, *, time: bool = False) -> str:
    """A compact UTC date (and time) that does not wrap."""
    if value is None:
        return "-"
    return format_html(
        '<span class="ch-nowrap">{}</span>', f"{value.astimezone(dt.UTC):%Y-%m-%d{' %H:%M' if time else ''}}"
    )


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service refusal on a form: its message, and each field message on its field."""
    form.add_error(None, exc.message)
    for name, field_messages in (exc.fields or {}).items():
        for message in field_messages:
            form.add_error(name if name in form.fields else None, message)


def ordered(model_admin: admin.ModelAdmin, request, queryset: QuerySet) -> QuerySet:
    """``queryset`` (a selector's) in the admin's ordering, as ``ModelAdmin.get_queryset`` orders its own."""
    ordering = model_admin.get_ordering(request)
    return queryset.order_by(*ordering) if ordering else queryset


class ReadOnly:
    """For a model admin or an inline: rows viewable, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    """Records written only by the services: viewable, never added, changed or deleted here."""
