"""Writes to certification types: added by staff, edited (their policy included), each with its history row."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from certhub.errors import RuleViolation
from certifications.history import Actor
from certifications.models import CertificationType
from certifications.services import effects

FIELDS = ("code", "name", "validity_months", "is_active", "renewal_window_days", "grace_days", "reminder_days")


def _check_fields(values: dict[str, Any]) -> None:
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise RuleViolation("Unknown fields.", fields={name: ["Unknown field."] for name in sorted(unknown)})


def certification_type_create(*, values: dict[str, Any], now: dt.datetime, by: Actor) -> CertificationType:
    """Add a certification type; ``values`` are its fields (validated by the caller's form or ``full_clean``)."""
    _check_fields(values)
    with transaction.atomic():
        cert_type = CertificationType(**values)
        cert_type.full_clean()
        cert_type.save()
        effects.certification_type_written(before=None, after=cert_type, now=now, by=by)
    return cert_type


def certification_type_update(
    *, certification_type: CertificationType, changes: dict[str, Any], now: dt.datetime, by: Actor
) -> CertificationType:
    """Edit a type's fields (its policy included); applies from the next job run and lifts no pause by itself."""
    _check_fields(changes)
    with transaction.atomic():
        locked = CertificationType.objects.select_for_update().get(pk=certification_type.pk)
        before = effects.certification_type_snapshot(locked)
        for name, value in changes.items():
            setattr(locked, name, value)
        if effects.certification_type_snapshot(locked) == before:
            return locked
        locked.full_clean()
        locked.save(update_fields=list(changes))
        effects.certification_type_written(before=before, after=locked, now=now, by=by)
    return locked
