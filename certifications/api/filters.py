"""Query filters of the certification list and the auto-pause log."""

from __future__ import annotations

import django_filters

from certhub.api.filters import (
    ChoiceInFilter,
    FilterSet,
    StrictBooleanFilter,
    TieBreakOrderingFilter,
    TimestampFilter,
    without_empty_items,
)
from certifications.models import (
    AutoPauseLog,
    Certification,
    CertificationStatus,
    CertificationType,
    LogEvent,
    mentor_id_validator,
)
from certifications.totals.counts import CertificationCount

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

    # The filters the maintained totals answer (``totals.counts``); ordering changes no count.
    COUNTED_BY_TALLIES = frozenset({"certification_type", "status", "expires_before", "expires_after", "ordering"})

    def tally_count(self) -> CertificationCount | None:
        """The list's total as a maintained count, or None when a filter in use needs a real ``count()``.

        Call after ``is_valid()``.
        """
        data = self.form.cleaned_data
        used = {name for name, value in data.items() if value not in (None, "", [])}
        if used - self.COUNTED_BY_TALLIES:
            return None
        statuses = without_empty_items(data.get("status"))
        kind = data.get("certification_type")
        return CertificationCount(
            deleted=False,
            statuses=statuses or None,
            type_ids=[kind.pk] if kind is not None else None,
            expires_from=data.get("expires_after"),
            expires_before=data.get("expires_before"),
        )


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
