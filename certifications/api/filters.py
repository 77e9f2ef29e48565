"""Query filters of the certification list and the auto-pause log."""

from __future__ import annotations

import django_filters

from certhub.api.filters import ChoiceInFilter, StrictBooleanFilter, TieBreakOrderingFilter, TimestampFilter
from certifications.models import (
    AutoPauseLog,
    Certification,
    CertificationStatus,
    CertificationType,
    LogEvent,
    mentor_id_validator,
)


class CertificationFilter(django_filters.FilterSet):
    """Filters of ``GET /api/v1/certifications``. ``*_after`` is inclusive, ``*_before`` exclusive."""

    mentor_id = django_filters.CharFilter(field_name="mentor__mentor_id", validators=[mentor_id_validator])
    certification_type = django_filters.ModelChoiceFilter(
        field_name="certification_type", to_field_name="code", queryset=CertificationType.objects.all()
    )
    status = ChoiceInFilter(choices=CertificationStatus.choices, help_text="Comma-separated, e.g. valid,expired.")
    auto_pause_applied = StrictBooleanFilter()
    expires_before = TimestampFilter(field_name="expires_at", lookup_expr="lt")
    expires_after = TimestampFilter(field_name="expires_at", lookup_expr="gte")
    issued_before = TimestampFilter(field_name="issued_at", lookup_expr="lt")
    issued_after = TimestampFilter(field_name="issued_at", lookup_expr="gte")
    ordering = TieBreakOrderingFilter(
        fields=("issued_at", "expires_at", "created_at", "updated_at"),
        tie_break="certification_id",
        help_text="One of issued_at, expires_at, created_at, updated_at; prefix - for descending.",
    )

    class Meta:
        model = Certification
        fields: list[str] = []


class AutoPauseLogFilter(django_filters.FilterSet):
    """Filters of ``GET /api/v1/certifications/expiry-job/logs``."""

    mentor_id = django_filters.CharFilter(field_name="mentor__mentor_id", validators=[mentor_id_validator])
    certification_id = django_filters.CharFilter(field_name="certification__certification_id")
    job_run_id = django_filters.CharFilter(field_name="job_run__job_run_id")
    event = django_filters.ChoiceFilter(choices=LogEvent.choices)
    applied_before = TimestampFilter(field_name="applied_at", lookup_expr="lt")
    applied_after = TimestampFilter(field_name="applied_at", lookup_expr="gte")

    class Meta:
        model = AutoPauseLog
        fields: list[str] = []
