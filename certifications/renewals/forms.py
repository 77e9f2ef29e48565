"""The mentor's renewal form: the type, the dates, the file and a note, checked by the submit service."""

from __future__ import annotations

import datetime as dt

from django import forms

from certifications.models import CertificationType


class RenewalForm(forms.Form):
    """What a mentor sends from their link; dates are days (midnight UTC), the file any size up to the limit."""

    certification_type = forms.ModelChoiceField(
        queryset=CertificationType.objects.none(), to_field_name="code", empty_label=None, label="Certification"
    )
    issued_at = forms.DateField(label="Issued on", widget=forms.DateInput(attrs={"type": "date"}))
    expires_at = forms.DateField(
        label="Expires on (if the certificate says)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    evidence = forms.FileField(
        label="Your certificate (PDF, or a photo as PNG or JPEG)",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
    )
    note = forms.CharField(label="A note (optional)", required=False, max_length=2000, widget=forms.Textarea)

    def __init__(self, *args, types, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["certification_type"].queryset = types
        self.fields["certification_type"].label_from_instance = lambda cert_type: cert_type.name

    @staticmethod
    def midnight_utc(day: dt.date | None) -> dt.datetime | None:
        return None if day is None else dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
