"""The mentor page's personal-data actions: export one mentor's data, erase it (a reason and a typed confirmation).

Both need ``certifications.manage_personal_data`` and call the services the API
calls; an erased mentor can no longer be edited (the change form refuses,
as the services would, with ``mentor_erased``'s message).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import StreamingHttpResponse
from django.utils import timezone

from certhub.errors import DomainError
from certifications import services
from certifications.history import Actor
from certifications.models import Mentor
from certifications.services.personal_data import REASON_MAX

PERMISSION = "certifications.manage_personal_data"


class EraseForm(forms.Form):
    """The erasure's input: why, and the mentor's id typed again (nothing is erased by a slip of the mouse)."""

    reason = forms.CharField(max_length=REASON_MAX, widget=forms.TextInput(attrs={"size": 60, "autofocus": True}))
    confirm = forms.CharField(max_length=31, label="Type the mentor id to confirm")
    expected = ""  # the selected mentor's id (set per request)

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"].strip()
        if typed != self.expected:
            raise forms.ValidationError(f"Type {self.expected} exactly to confirm the erasure.")
        return typed


class MentorChangeForm(forms.ModelForm):
    """The mentor's form: an erased mentor's details stay empty (409 ``mentor_erased`` at the API)."""

    def clean(self):
        data = super().clean()
        try:
            services.check_not_erased(self.instance if self.instance.pk else None)
        except DomainError as exc:
            raise forms.ValidationError(exc.message, code="mentor_erased") from None
        return data


class PersonalDataActionsMixin:
    """``export_personal_data`` and ``erase_personal_data`` for ``MentorAdmin``, one mentor at a time."""

    def has_manage_personal_data_permission(self, request) -> bool:
        return request.user.has_perm(PERMISSION)

    def _one(self, request, queryset) -> Mentor | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one mentor for this action.", messages.ERROR)
            return None
        return queryset.get()

    def export_personal_data(self, request, queryset):
        mentor = self._one(request, queryset)
        if mentor is None:
            return None
        stream = services.mentor_export(mentor=mentor, now=timezone.now(), by=Actor.admin(request), request=request)
        response = StreamingHttpResponse(stream, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{mentor.mentor_id}-personal-data.zip"'
        response["Cache-Control"] = "private, no-store"
        return response

    export_personal_data.short_description = "Export the personal data of the selected mentor (ZIP)"
    export_personal_data.allowed_permissions = ("manage_personal_data",)

    def erase_personal_data(self, request, queryset):
        mentor = self._one(request, queryset)
        if mentor is None:
            return None
        form_class = type("MentorEraseForm", (EraseForm,), {"expected": mentor.mentor_id})

        def apply(form: EraseForm) -> None:
            self._each(
                request,
                queryset,
                lambda obj, now: services.mentor_erase(
                    mentor=obj, reason=form.cleaned_data["reason"], now=now, by=Actor.admin(request), request=request
                ),
                done="Erased the personal data of",
            )

        return self._with_form(
            request,
            queryset,
            form_class=form_class,
            apply=apply,
            action="erase_personal_data",
            title="Erase a mentor's personal data",
            intro="The name, email, notice recipients and subjects, renewal notes and evidence files of this mentor "
            "are erased for good; ids, dates, states and totals stay. Nothing more can be recorded of them.",
            submit="Erase",
        )

    erase_personal_data.short_description = "Erase the personal data of the selected mentor"
    erase_personal_data.allowed_permissions = ("manage_personal_data",)
