"""Creating many certifications at once, set-based: the import's path for the rows that only create.

``certifications_create_bulk`` writes what ``records.certification_create``
writes for each of its items (the mentor on first mention, the record, and
every consequence through ``effects``: history rows, tally deltas, the
``certification.created`` events and their deliveries) in a fixed number of
statements whatever the number of items. On PostgreSQL no model instance is
made per row: the mentors and records go in as rows (``insert_rows``) and the
consequences are built in the database from the rows just inserted
(``effects.rows_created``, decision 0050); elsewhere as model instances.

It is for items whose outcome needs no decision of their own, which the
caller establishes set-based before calling: no live record holds an item's
``(mentor, type, issued_at)``, and each existing mentor named is neither
paused by ``auto`` nor holds a record flagged ``auto_pause_applied`` (``lapse.pause.auto_resume_can_act``; locked
for the transaction), so auto-resume, which a single create runs after the
insert, would find nothing to do. A concurrent writer that takes a key or a
mentor id meanwhile makes the insert fail with ``IntegrityError``: the caller
runs its own savepoint and writes those items one by one instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Model

from certhub.ids import fresh_ids
from certhub.sql import dialect
from certifications.history import Actor
from certifications.models import Certification, Mentor
from certifications.services import effects
from certifications.services.records import NewCertification
from certifications.text import one_line


@dataclass(frozen=True)
class NewMentor:
    """A mentor to create with the records that first name them."""

    mentor_id: str
    name: str = ""
    email: str = ""


def certifications_create_bulk(
    *,
    items: Sequence[NewCertification],
    mentors: dict[str, Mentor],
    new_mentors: Sequence[NewMentor],
    now: dt.datetime,
    by: Actor,
) -> list[str]:
    """Create ``new_mentors``, then one record per item (its mentor from ``mentors`` or the new ones).

    Each item's rules are already checked (``records.certification_prepare``,
    and the set-based conditions of the module); returns the ids of the records
    created, in the order of ``items``. On PostgreSQL the rows go in as rows
    and every consequence is built in the database from them
    (``effects.rows_created``); elsewhere as model instances.
    """
    write = dialect().pick(postgresql=_create_as_rows, sqlite=_create_as_objects)
    with transaction.atomic():
        return write(items=items, mentors=mentors, new_mentors=new_mentors, now=now, by=by)


def _create_as_objects(*, items, mentors, new_mentors, now, by) -> list[str]:
    created = [
        Mentor(mentor_id=new.mentor_id, name=one_line(new.name), email=new.email, created_at=now, updated_at=now)
        for new in new_mentors
    ]
    dialect().insert_objects(created)
    by_id = {**mentors, **{mentor.mentor_id: mentor for mentor in created}}
    ids = fresh_ids(Certification, field="certification_id", prefix="cert_", count=len(items))
    certs = [
        Certification(
            certification_id=certification_id,
            mentor=by_id[item.mentor_id],
            certification_type=item.certification_type,
            issued_at=item.issued_at,
            expires_at=item.expires_at,
            status=item.status,
            created_at=now,
            updated_at=now,
        )
        for certification_id, item in zip(ids, items, strict=True)
    ]
    dialect().insert_objects(certs)
    effects.certifications_created(certs=certs, mentors=created, now=now, by=by)
    return ids


def _defaults(model: type[Model]) -> dict[str, Any]:
    """A new row of ``model``: each inserted field's default (the generated pk left out)."""
    return {field.attname: field.get_default() for field in model._meta.concrete_fields if not field.primary_key}


def _create_as_rows(*, items, mentors, new_mentors, now, by) -> list[str]:
    """The same rows as ``_create_as_objects``, without a model instance per row (PostgreSQL)."""
    mentor_row = _defaults(Mentor) | {"created_at": now, "updated_at": now}
    mentor_pks = dialect().insert_rows(
        Mentor,
        [
            mentor_row | {"mentor_id": new.mentor_id, "name": one_line(new.name), "email": new.email}
            for new in new_mentors
        ],
    )
    pk_of = {mentor_id: mentor.pk for mentor_id, mentor in mentors.items()}
    pk_of.update(zip((new.mentor_id for new in new_mentors), mentor_pks, strict=True))
    ids = fresh_ids(Certification, field="certification_id", prefix="cert_", count=len(items))
    cert_row = _defaults(Certification) | {"created_at": now, "updated_at": now}
    cert_pks = dialect().insert_rows(
        Certification,
        [
            cert_row
            | {
                "certification_id": certification_id,
                "mentor_id": pk_of[item.mentor_id],
                "certification_type_id": item.certification_type.pk,
                "issued_at": item.issued_at,
                "expires_at": item.expires_at,
                "status": item.status,
            }
            for certification_id, item in zip(ids, items, strict=True)
        ],
    )
    effects.rows_created(cert_pks=cert_pks, mentor_pks=mentor_pks, now=now, by=by)
    return ids
