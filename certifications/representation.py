"""A certification's representation, said once: which fields each output shows, how each is read and rendered.

``FIELDS`` is the one specification: each field's public name (the contract's),
the lookup that reads it from a certification (``mentor__mentor_id``), and
how it is rendered (a timestamp UTC to the second, free text whose empty value
is null). The outputs are named subsets of it, each in its own published order:
the API row (``API``), the event payload (``EVENT``; the job's ``EXPIRED_EVENT``),
the export's columns (``EXPORT``) and the history's values (``HISTORY``). Every
output reads its values with ``columns`` (or ``read`` on a loaded record) and
renders them with ``represent``; the SQL that builds the job's payloads on
PostgreSQL is derived from the same fields (``events.outbox``).

Every concrete field of ``Certification`` is either read by a field of the
specification or listed, with the reason, in ``NOT_REPRESENTED``: a test
fails when a model field is added and neither.

The run counters of the expiry job are said once too: ``RUN_COUNTERS`` and
``run_counters``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models

from certhub.api.fields import format_utc
from certifications.models import Certification, CertificationStatus, ExpiryJobRun


@dataclass(frozen=True)
class Field:
    """One field of a certification's representation."""

    name: str  # its name in every output
    path: str  # the lookup that reads it from a certification (``values()``), relations joined by ``__``
    time: bool = False  # a timestamp: rendered UTC to the second (``format_utc``)
    empty_is_null: bool = False  # free text: empty is rendered as null

    @property
    def model_field(self) -> models.Field:
        """The model field the lookup ends on (on ``Certification`` or a related model)."""
        model: Any = Certification
        *relations, last = self.path.split("__")
        for name in relations:
            model = model._meta.get_field(name).related_model
        return model._meta.get_field(last)

    @property
    def attribute(self) -> str:
        """The attribute of a loaded ``Certification`` that holds it (a relation's key: ``certification_type_id``)."""
        return Certification._meta.get_field(self.path.split("__")[0]).attname

    @property
    def renderer(self) -> Callable[[Any], Any] | None:
        """What turns a value into what every output shows (``None``: the value as it is)."""
        if self.time:
            return format_utc
        if self.empty_is_null:
            return _empty_is_null
        return None

    def render(self, value: Any) -> Any:
        """``value`` as every output shows it."""
        renderer = self.renderer
        return value if renderer is None else renderer(value)


def _empty_is_null(value: str | None) -> str | None:
    return value or None


FIELDS = (
    Field("certification_id", "certification_id"),
    Field("mentor_id", "mentor__mentor_id"),
    Field("certification_type", "certification_type__code"),
    Field("issued_at", "issued_at", time=True),
    Field("expires_at", "expires_at", time=True),
    Field("status", "status"),
    Field("auto_pause_applied", "auto_pause_applied"),
    Field("auto_pause_applied_at", "auto_pause_applied_at", time=True),
    Field("revoked_at", "revoked_at", time=True),
    Field("revocation_reason", "revocation_reason", empty_is_null=True),
    Field("created_at", "created_at", time=True),
    Field("updated_at", "updated_at", time=True),
    Field("deleted_at", "deleted_at", time=True),
    # Personal data, the holder's: only the export shows it (it takes view_mentor, decision 0025).
    Field("mentor_name", "mentor__name"),
    Field("mentor_email", "mentor__email"),
)
SPEC = {field.name: field for field in FIELDS}

# The concrete fields of ``Certification`` that no output shows, and why.
NOT_REPRESENTED = {
    "id": "the database key; every output names a record by its certification_id",
}

# The API's certification, in the contract's order (``api_representation``).
API = (
    "certification_id",
    "mentor_id",
    "certification_type",
    "issued_at",
    "expires_at",
    "status",
    "auto_pause_applied",
    "auto_pause_applied_at",
    "revoked_at",
    "revocation_reason",
    "created_at",
    "updated_at",
)
# An event's thin data: ids, states and dates, never names, emails or free text.
EVENT = (
    "certification_id",
    "mentor_id",
    "certification_type",
    "status",
    "issued_at",
    "expires_at",
    "revoked_at",
    "deleted_at",
)
# ``certification.expired`` (the job's step 1): a live record that was valid, so neither revoked nor deleted.
EXPIRED_EVENT = EVENT[:6]
# The export's certification columns, in its order; its ``action`` column comes before the reason (``bulk.export``).
EXPORT = (
    "certification_id",
    "mentor_id",
    "certification_type",
    "issued_at",
    "expires_at",
    "mentor_name",
    "mentor_email",
    "revocation_reason",
    "status",
)
# The values a history row records for a certification (``history.record``).
HISTORY = (
    "certification_type",
    "issued_at",
    "expires_at",
    "status",
    "revoked_at",
    "revocation_reason",
    "deleted_at",
    "auto_pause_applied",
)


def columns(names: Sequence[str]) -> tuple[str, ...]:
    """The lookups that read fields ``names`` (for ``values_list``), in their order."""
    return tuple(SPEC[name].path for name in names)


def read(cert: Certification, names: Sequence[str]) -> tuple:
    """Fields ``names`` of a loaded record, as ``values_list(*columns(names))`` would fetch them."""
    values = []
    for name in names:
        value: Any = cert
        for part in SPEC[name].path.split("__"):
            value = getattr(value, part)
        values.append(value)
    return tuple(values)


@functools.cache
def _renderers(names: tuple[str, ...]) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    return tuple((name, SPEC[name].renderer) for name in names)


def represent(names: tuple[str, ...], values: Sequence[Any]) -> dict[str, Any]:
    """``{name: rendered value}`` for fields ``names`` and their ``values`` (as ``columns`` reads them).

    It runs per listed row (a list page, the export, the job's events): the renderers are looked up once per output.
    """
    return {
        name: value if render is None else render(value)
        for (name, render), value in zip(_renderers(names), values, strict=True)
    }


def api_representation(values: Sequence[Any]) -> dict[str, Any]:
    """A certification as the API renders it, from its ``API`` fields' values (run per listed row)."""
    data = represent(API, values)
    if data["status"] != CertificationStatus.REVOKED:  # shown only while revoked
        data["revoked_at"] = data["revocation_reason"] = None
    return data


# --- The expiry job's run counters ----------------------------------------------------------

# What a run counted, in this order wherever they are listed (the API keeps the contract's order).
RUN_COUNTERS = ("mentors_scanned", "expired_found", "auto_paused", "marked_expired")


def run_counters(run: ExpiryJobRun) -> dict[str, int]:
    """A run's counters as plain data, in ``RUN_COUNTERS`` order."""
    return {name: getattr(run, name) for name in RUN_COUNTERS}
