"""Writes to a mentor's own details: created on first mention or by staff, name and email edited.

Pause state is ``lapse.pause``'s; these write the rest, each with its history row.
A name is stored on one line (``certifications.text.one_line``), whatever the door.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from certhub.errors import RuleViolation
from certifications.changes import MentorChange
from certifications.history import Actor
from certifications.models import Mentor
from certifications.services import effects
from certifications.services.guards import check_not_erased
from certifications.text import one_line

EDITABLE_FIELDS = ("name", "email")


def _check_fields(changes: dict[str, str]) -> None:
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise RuleViolation("Unknown fields.", fields={name: ["Unknown field."] for name in sorted(unknown)})


def mentor_get_or_create(*, mentor_id: str, now: dt.datetime, by: Actor, name: str = "", email: str = "") -> Mentor:
    """The mentor ``mentor_id``, created (with its history row) on first mention; call inside a transaction."""
    mentor, created = Mentor.objects.get_or_create(
        mentor_id=mentor_id, defaults={"name": one_line(name), "email": email, "created_at": now, "updated_at": now}
    )
    if created:
        effects.mentor_written(change=MentorChange.CREATED, before=None, after=mentor, now=now, by=by)
    else:
        check_not_erased(mentor)
    return mentor


def mentor_create(*, mentor_id: str, now: dt.datetime, by: Actor, name: str = "", email: str = "") -> Mentor:
    """Add a mentor (staff, before any certification names them)."""
    with transaction.atomic():
        return mentor_get_or_create(mentor_id=mentor_id, now=now, by=by, name=name, email=email)


def mentor_update(*, mentor: Mentor, changes: dict[str, str], now: dt.datetime, by: Actor) -> Mentor:
    """Edit a mentor's ``name`` and ``email``; nothing is written when neither differs."""
    _check_fields(changes)
    with transaction.atomic():
        locked = Mentor.objects.select_for_update().get(pk=mentor.pk)
        check_not_erased(locked)
        before = effects.mentor_snapshot(locked)
        for name, value in changes.items():
            setattr(locked, name, one_line(value) if name == "name" else value or "")
        if effects.mentor_snapshot(locked) == before:
            return locked
        locked.updated_at = now
        locked.save(update_fields=[*changes, "updated_at"])
        effects.mentor_written(change=MentorChange.UPDATED, before=before, after=locked, now=now, by=by)
    return locked
