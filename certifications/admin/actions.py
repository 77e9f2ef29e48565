"""Shared plumbing of the admin actions: input pages, per-record service calls, their reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils import timezone

from certhub.errors import DomainError
from certifications.admin.common import plural
from certifications.services.results import CertificationWriteResult


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
        """Call ``call(obj, now)`` for every selected record; report refusals and the count done.

        Returns the services' results, one per record written.
        """
        now = timezone.now()
        results = []
        for obj in queryset:
            try:
                results.append(call(obj, now))
            except DomainError as exc:
                self.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        if results:
            noun = self.model._meta.verbose_name if len(results) == 1 else self.model._meta.verbose_name_plural
            self.message_user(request, f"{done} {len(results)} {noun}.", messages.SUCCESS)
        return results

    def _report_resumes(self, request, results: Iterable[CertificationWriteResult]) -> None:
        """Name the auto-paused mentors that the writes resumed, as their results say."""
        resumed = {result.resumed_mentor.pk: result.resumed_mentor for result in results if result.resumed_mentor}
        if resumed:
            names = ", ".join(str(mentor) for mentor in resumed.values())
            self.message_user(
                request, f"Resumed {plural(len(resumed), 'auto-paused mentor')}: {names}.", messages.SUCCESS
            )
