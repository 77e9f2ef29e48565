"""Writing history rows: one per changed object of a single write, and set-based for bulk updates.

``object_written`` compares a write's ``before`` snapshot with the object as
written and keeps the fields that differ, rendered as the API renders them.
``rows_changed`` writes one row per object of a queryset in one
``INSERT ... SELECT`` statement, whatever the number of rows: the job's batches,
its step 1 and auto-resume's un-flagging use it, since a bulk ``.update()``
calls no ``save()`` for a library to notice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import DateTimeField, IntegerField, Model, QuerySet

from certhub.api.fields import format_utc
from certhub.sql import bigint_array, dialect
from certifications import representation
from certifications.history.actor import Actor
from certifications.history.models import Change, HistoryEntry, Subject
from certifications.models import Certification, CertificationType, Mentor

SUBJECTS: dict[type[Model], str] = {
    Certification: Subject.CERTIFICATION,
    Mentor: Subject.MENTOR,
    CertificationType: Subject.CERTIFICATION_TYPE,
}
# The fields of each kind of object that a history row records (the attribute names).
TRACKED: dict[str, tuple[str, ...]] = {
    Subject.CERTIFICATION: tuple(representation.SPEC[name].attribute for name in representation.HISTORY),
    Subject.MENTOR: ("name", "email", "status", "paused_by", "paused_at", "pause_reason"),
    Subject.CERTIFICATION_TYPE: (
        "code",
        "name",
        "validity_months",
        "is_active",
        "renewal_window_days",
        "grace_days",
        "reminder_days",
    ),
}
# Fields the API renders as null when empty.
EMPTY_IS_NULL = {"revocation_reason", "paused_by", "pause_reason"}


def snapshot(obj: Model) -> dict[str, Any]:
    """The tracked fields of ``obj`` as they are now (a write's ``before``)."""
    return {name: getattr(obj, name) for name in TRACKED[SUBJECTS[type(obj)]]}


def _type_code(pk: int, obj: Model) -> str:
    field = Certification._meta.get_field("certification_type")
    if isinstance(obj, Certification) and field.is_cached(obj) and obj.certification_type.pk == pk:
        return obj.certification_type.code
    return CertificationType.objects.values_list("code", flat=True).get(pk=pk)


# A certification's tracked attributes, and the fields of its representation they hold.
CERTIFICATION_ATTRIBUTES = {field.attribute: field for field in map(representation.SPEC.get, representation.HISTORY)}


def render(name: str, value: Any, obj: Model) -> tuple[str, Any]:
    """``(field name, value)`` as the API shows it: timestamps ``...Z``, a type as its code, empty text as null."""
    if name == "certification_type_id":
        return "certification_type", None if value is None else _type_code(value, obj)
    if isinstance(obj, Certification):
        field = CERTIFICATION_ATTRIBUTES[name]
        return field.name, field.render(value)
    if isinstance(value, dt.datetime):
        return name, format_utc(value)
    if name in EMPTY_IS_NULL and value == "":
        return name, None
    return name, value


def diff(obj: Model, before: dict[str, Any] | None) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for each tracked field that differs (all of them, from null, for a creation)."""
    after = snapshot(obj)
    changes: dict[str, list[Any]] = {}
    for name, new in after.items():
        old = None if before is None else before.get(name)
        if before is not None and old == new:
            continue
        key, rendered_new = render(name, new, obj)
        _, rendered_old = render(name, old, obj)
        if rendered_old != rendered_new:
            changes[key] = [rendered_old, rendered_new]
    return changes


def object_written(
    *, obj: Model, before: dict[str, Any] | None, change: str, now: dt.datetime, by: Actor, reason: str = ""
) -> HistoryEntry | None:
    """One history row for a write of ``obj`` (``before`` None: created); none when no tracked field changed."""
    changes = diff(obj, before)
    if not changes and change == Change.CHANGED:
        return None
    return HistoryEntry.objects.create(
        subject=SUBJECTS[type(obj)],
        object_pk=obj.pk,
        at=now,
        actor=by.name,
        user=by.user,
        source=by.source,
        change=change,
        changes=changes,
        reason=(reason or by.reason)[:500],
    )


def objects_created(*, objs: Sequence[Model], now: dt.datetime, by: Actor, reason: str = "") -> None:
    """One ``created`` history row per object of ``objs`` (all of one model), in one ``INSERT``.

    The rows are exactly those ``object_written`` writes for each object with
    ``before=None``: a bulk create records what a single create records.
    """
    if not objs:
        return
    subject = SUBJECTS[type(objs[0])]
    common = {
        "subject": subject,
        "at": now,
        "actor": by.name,
        "user_id": by.user.pk if by.user is not None else None,
        "source": by.source,
        "change": Change.CREATED,
        "reason": (reason or by.reason)[:500],
    }
    # Rows, not instances: a bulk create's history is the bulk of its objects.
    dialect().insert_rows(HistoryEntry, [common | {"object_pk": obj.pk, "changes": diff(obj, None)} for obj in objs])


def rows_changed(
    *,
    queryset: QuerySet,
    changes: dict[str, list[Any]],
    now: dt.datetime,
    by: Actor,
    per_row: tuple[str, ...] = (),
) -> None:
    """One history row (``changed``, ``changes``) for each object of ``queryset``, in one statement.

    ``per_row`` names text fields whose new value differs per object: each is
    recorded as ``[null, <its value now>]`` (the write set them, from empty).
    """
    model = queryset.model
    table = model._meta.db_table
    columns = {name: f'"{table}"."{model._meta.get_field(name).column}"' for name in per_row}
    json_sql, json_params = dialect().json_with_new_values(changes, columns)
    select = queryset.order_by().values_list("pk")
    select_sql, select_params = select.query.sql_with_params()
    # ``select_sql`` is ``SELECT <pk> FROM ... WHERE ...``; the constant columns go after the primary key.
    head, rest = select_sql.split(" FROM ", 1)
    user_pk = by.user.pk if by.user is not None else None
    sql = (
        f'INSERT INTO "{HistoryEntry._meta.db_table}" '
        "(object_pk, subject, at, actor, user_id, source, change, reason, changes) "
        f"{head}, %s, %s, %s, CAST(%s AS integer), %s, %s, %s, {json_sql} FROM {rest}"
    )
    now_param = DateTimeField().get_db_prep_value(now, connection)
    user_param = IntegerField().get_db_prep_value(user_pk, connection)
    constants = [SUBJECTS[model], now_param, by.name, user_param, by.source, Change.CHANGED, by.reason[:500]]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*constants, *json_params, *select_params])


def rows_changed_part_sql(
    *,
    model: type[Certification] | type[Mentor],
    source: str,
    changes: dict[str, list[Any]],
    now: dt.datetime,
    by: Actor,
    prefix: str,
    per_row: dict[str, str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """PostgreSQL: the rows ``rows_changed`` writes, as an ``INSERT … SELECT id … FROM source`` (a ``WITH`` name).

    For a part of a data-modifying statement (decision 0053): ``source`` has an
    ``id`` column (the objects' primary keys); ``per_row`` maps a text field to
    the SQL of its new value in ``source``. The parameters are named after
    ``prefix``; returns the SQL and its parameters.
    """
    json_sql, json_params = dialect().json_with_new_values(changes, per_row or {})
    json_sql = json_sql.replace("%s", f"%({prefix}changes)s", 1)
    user_pk = by.user.pk if by.user is not None else None
    sql = (
        f'INSERT INTO "{HistoryEntry._meta.db_table}" '
        "(object_pk, subject, at, actor, user_id, source, change, reason, changes) "
        f"SELECT {source}.id, %({prefix}subject)s, %({prefix}at)s, %({prefix}actor)s, "
        f"CAST(%({prefix}user)s AS integer), %({prefix}source)s, %({prefix}change)s, %({prefix}reason)s, "
        f"{json_sql} FROM {source}"
    )
    params = {
        f"{prefix}subject": SUBJECTS[model],
        f"{prefix}at": now,
        f"{prefix}actor": by.name,
        f"{prefix}user": user_pk,
        f"{prefix}source": by.source,
        f"{prefix}change": Change.CHANGED,
        f"{prefix}reason": by.reason[:500],
        f"{prefix}changes": json_params[0],
    }
    return sql, params


# to_char's spelling of ``format_utc`` (UTC, to the second, the fraction dropped).
UTC_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'


def _rendered_sql(model: type[Model], name: str) -> tuple[str, str]:
    """Tracked field ``name`` of row ``o`` as ``render`` gives it, in SQL: its key and value (a code: ``t``)."""
    if model is Certification:
        spec = CERTIFICATION_ATTRIBUTES[name]
        if name == "certification_type_id":
            return spec.name, "t.code"
        key, column, time, empty_is_null = spec.name, f"o.{spec.model_field.column}", spec.time, spec.empty_is_null
    else:
        field = model._meta.get_field(name)
        key, column = name, f"o.{field.column}"
        time, empty_is_null = isinstance(field, DateTimeField), name in EMPTY_IS_NULL
    if time:
        return key, f"to_char({column} AT TIME ZONE 'UTC', '{UTC_FORMAT}')"
    return key, f"NULLIF({column}, '')" if empty_is_null else column


def rows_created(*, model: type[Model], pks: Sequence[int], now: dt.datetime, by: Actor, reason: str = "") -> None:
    """PostgreSQL: the ``created`` rows ``objects_created`` writes for the objects ``pks``, built from their rows.

    One ``INSERT … SELECT``: each tracked field that is not null once rendered,
    as ``[null, value]``, in primary-key order (the order of the bulk insert).
    """
    if not pks:
        return
    pairs = ", ".join(
        f"'{key}', CASE WHEN {sql} IS NULL THEN NULL ELSE jsonb_build_array(NULL, {sql}) END"
        for key, sql in (_rendered_sql(model, name) for name in TRACKED[SUBJECTS[model]])
    )
    join = (
        f"JOIN {CertificationType._meta.db_table} t ON t.id = o.certification_type_id" if model is Certification else ""
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{HistoryEntry._meta.db_table}" '
            "(object_pk, subject, at, actor, user_id, source, change, reason, changes) "
            f"SELECT o.id, %s, %s, %s, CAST(%s AS integer), %s, %s, %s, jsonb_strip_nulls(jsonb_build_object({pairs})) "
            f"FROM {model._meta.db_table} o {join} WHERE o.id = ANY(%s::bigint[]) ORDER BY o.id",
            [
                SUBJECTS[model],
                now,
                by.name,
                by.user.pk if by.user is not None else None,
                by.source,
                Change.CREATED,
                (reason or by.reason)[:500],
                bigint_array(pks),
            ],
        )
