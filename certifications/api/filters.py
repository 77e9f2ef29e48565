"""Query filters of the certification list and the auto-pause log."""

from __future__ import annotations

import django_filters

from certhub.api.filters import (
    ChoiceInFilter,
    FilterSet,
    StrictBooleanFilter,
    TieBreakOrderingFilter,
    TimestampFilter,
)
from certifications.models import (
    AutoPauseLog,
    Certification,
    CertificationStatus,
    CertificationType,
    LogEvent,
    mentor_id_validator,
)

TIMESTAMP_HELP = "ISO 8601 with Z or an offset, or a bare date (midnight UTC)."


class CertificationFilter(FilterSet):
    """Filters of ``GET /api/v1/certifications``. ``*_after`` is inclusive, ``*_before`` exclusive."""

    mentor_id = django_filters.CharFilter(
        field_name="mentor__mentor_id",
        validators=[mentor_id_validator],
        help_text="One mentor, e.g. mntr_01HX4V2K8P.",
    )
    certification_type = django_filters.ModelChoiceFilter(
        field_name="certification_type",
        to_field_name="code",
        queryset=CertificationType.objects.all(),
        help_text="A certification type code, e.g. peer_mentor_basic; an unknown code is a 400.",
    )
    status = ChoiceInFilter(choices=CertificationStatus.choices, help_text="Comma-separated, e.g. valid,expired.")
    auto_pause_applied = StrictBooleanFilter(help_text="true or false.")
    expires_before = TimestampFilter(
        field_name="expires_at",
        lookup_expr="lt",
        help_text="expires_at earlier than this (exclusive); " + TIMESTAMP_HELP,
    )
    expires_after = TimestampFilter(
        field_name="expires_at",
        lookup_expr="gte",
        help_text="expires_at at or after this (inclusive); " + TIMESTAMP_HELP,
    )
    issued_before = TimestampFilter(
        field_name="issued_at", lookup_expr="lt", help_text="issued_at earlier than this (exclusive); " + TIMESTAMP_HELP
    )
    issued_after = TimestampFilter(
        field_name="issued_at", lookup_expr="gte", help_text="issued_at at or after this (inclusive); " + TIMESTAMP_HELP
    )
    ordering = TieBreakOrderingFilter(
        fields=("issued_at", "expires_at", "created_at", "updated_at"),
        tie_break="certification_id",
        help_text="One of issued_at, expires_at, created_at, updated_at; prefix - for descending.",
    )

    class Meta:
        model = Certification
        fields: list[str] = []


class AutoPauseLogFilter(FilterSet):
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
