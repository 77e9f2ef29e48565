"""Request and response shapes of the certification API (the published contract)."""

from __future__ import annotations

from django.db import models
from django.db.models import QuerySet
from rest_framework import serializers

from certhub.api.fields import UTCDateTimeField, format_utc
from certhub.api.serializers import StrictBooleanField, StrictSerializer
from certifications import representation
from certifications.models import (
    AutoPauseLog,
    Certification,
    CertificationStatus,
    JobState,
    LogEvent,
    mentor_id_validator,
)

# The API's certification fields (``representation.API``): none of them is writable through the API.
CERTIFICATION_FIELDS = representation.API
# The list page's columns, in the order of the fields: what ``represent_row`` reads, fetched as plain rows.
ROW_COLUMNS = representation.columns(CERTIFICATION_FIELDS)


def certification_rows(records: QuerySet[Certification]) -> QuerySet:
    """``records`` as the rows ``represent_row`` renders: one joined query, no model built per row."""
    return records.values_list(*ROW_COLUMNS)


def certification_row(cert: Certification) -> tuple:
    """A loaded record as the row ``certification_rows`` would fetch for it."""
    return representation.read(cert, CERTIFICATION_FIELDS)


def represent_row(row: tuple) -> dict:
    """One row of ``certification_rows`` as the API renders a certification."""
    return representation.api_representation(row)


def api_field(field: representation.Field) -> serializers.Field:
    """The read-only serializer field (its schema) of a field of the specification, from its model field."""
    model_field = field.model_field
    allow_null = model_field.null or field.empty_is_null
    if field.time:
        return UTCDateTimeField(read_only=True, allow_null=allow_null)
    if model_field.choices:
        return serializers.ChoiceField(choices=model_field.choices, read_only=True, allow_null=allow_null)
    if isinstance(model_field, models.BooleanField):
        return serializers.BooleanField(read_only=True)
    return serializers.CharField(read_only=True, allow_null=allow_null)


class MentorIdField(serializers.CharField):
    """``mntr_`` + 8-26 upper-case Crockford base32 characters."""

    def __init__(self, **kwargs):
        super().__init__(max_length=31, **kwargs)
        self.validators.append(mentor_id_validator)


class CertificationSerializer(serializers.Serializer):
    """A certification as the API renders it: the contract's fields plus audit fields."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {name: api_field(representation.SPEC[name]) for name in CERTIFICATION_FIELDS}

    def to_representation(self, cert: Certification) -> dict:
        return represent_row(certification_row(cert))


class CertificationCreateSerializer(StrictSerializer):
    """POST body: mentor, type, issue date and optional expiry."""

    read_only_names = frozenset(CERTIFICATION_FIELDS)

    mentor_id = MentorIdField()
    certification_type = serializers.SlugField(max_length=64)
    issued_at = UTCDateTimeField()
    expires_at = UTCDateTimeField(required=False, help_text="Defaults to issued_at plus the type's validity.")


class CertificationUpdateSerializer(StrictSerializer):
    """PUT/PATCH body: a partial update of the writable fields."""

    read_only_names = frozenset(CERTIFICATION_FIELDS)
    min_fields = 1

    issued_at = UTCDateTimeField(required=False)
    expires_at = UTCDateTimeField(required=False)
    status = serializers.ChoiceField(choices=CertificationStatus.choices, required=False)
    certification_type = serializers.SlugField(max_length=64, required=False)
    revocation_reason = serializers.CharField(max_length=500, required=False, allow_blank=True)

    def validate(self, attrs: dict) -> dict:
        if not attrs:
            raise serializers.ValidationError(
                "Nothing to update: send at least one of "
                "issued_at, expires_at, status, certification_type, revocation_reason."
            )
        return attrs


class CertificationDeletedSerializer(serializers.Serializer):
    """DELETE response."""

    certification_id = serializers.CharField()
    deleted = serializers.BooleanField()
    deleted_at = UTCDateTimeField()

    def to_representation(self, cert: Certification) -> dict:
        return {"certification_id": cert.certification_id, "deleted": True, "deleted_at": format_utc(cert.deleted_at)}


# "async" is a Python keyword, so this serializer is built with type() to declare it.
ExpiryJobRunRequestSerializer = type(
    "ExpiryJobRunRequestSerializer",
    (StrictSerializer,),
    {
        "__doc__": "POST body of the run endpoint; an empty body is a real, synchronous run.",
        "__module__": __name__,
        "dry_run": StrictBooleanField(required=False, default=False, help_text="Compute the counters, change nothing."),
        "async": StrictBooleanField(
            required=False, default=False, help_text="Queue the run on the worker and answer 202 at once."
        ),
    },
)


# The contract lists the first three counters, before ``failures``; ``marked_expired`` came later, after ``dry_run``.
CONTRACT_COUNTERS = representation.RUN_COUNTERS[:3]


class ExpiryJobRunResultSerializer(serializers.Serializer):
    """The run endpoint's synchronous answer (the contract's fields + dry_run, marked_expired)."""

    job_run_id = serializers.CharField()
    started_at = UTCDateTimeField(allow_null=True)
    completed_at = UTCDateTimeField(allow_null=True)
    failures = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    dry_run = serializers.BooleanField()

    def get_fields(self) -> dict[str, serializers.Field]:
        """The declared fields and the run's counters (``RUN_COUNTERS``), in the contract's order."""
        fields = {}
        for name, field in super().get_fields().items():
            if name == "failures":
                fields.update((counter, serializers.IntegerField()) for counter in CONTRACT_COUNTERS)
            fields[name] = field
            if name == "dry_run":
                added = (counter for counter in representation.RUN_COUNTERS if counter not in CONTRACT_COUNTERS)
                fields.update((counter, serializers.IntegerField()) for counter in added)
        return fields


class ExpiryJobRunSerializer(ExpiryJobRunResultSerializer):
    """A run as listed by the runs endpoints, with its state and trigger."""

    state = serializers.ChoiceField(choices=JobState.choices)
    trigger = serializers.CharField()
    created_at = UTCDateTimeField()
    error = serializers.CharField()


class AutoPauseLogSerializer(serializers.Serializer):
    """One auto-pause log row."""

    log_id = serializers.CharField()
    mentor_id = serializers.CharField()
    certification_id = serializers.CharField()
    event = serializers.ChoiceField(choices=LogEvent.choices)
    reason = serializers.CharField()
    job_run_id = serializers.CharField(allow_null=True)
    applied_at = UTCDateTimeField()

    def to_representation(self, log: AutoPauseLog) -> dict:
        return {
            "log_id": log.log_id,
            "mentor_id": log.mentor.mentor_id,
            "certification_id": log.certification.certification_id,
            "event": log.event,
            "reason": log.reason,
            "job_run_id": log.job_run.job_run_id if log.job_run_id else None,
            "applied_at": format_utc(log.applied_at),
        }
