"""The SQLite dialect: SQLite's JSON and date functions, and the ORM where no one statement would do.

Also the dialect of any database other than PostgreSQL: what it does through
the ORM runs anywhere. SQLite serializes its writers (one ``IMMEDIATE``
transaction at a time, decision 0014), so the locks have nothing to add.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import JSONField, Model, Q, QuerySet

from certhub.sql.base import Dialect, fold_terms
from certhub.sql.statements import Build, CompiledEachTime

T = TypeVar("T")


class SQLite(Dialect):
    def pick(self, *, postgresql: T, sqlite: T) -> T:
        return sqlite

    def field_in(self, model: type[Model], field: str, values: Iterable[Any]):
        return Q(**{f"{field}__in": values})

    def prepared(self, build: Build, **samples: Any) -> CompiledEachTime:
        return CompiledEachTime(build)

    def fetch_rows(self, sql: str, params: Sequence[Any]) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def listed_pks(self, queryset: QuerySet) -> array:
        return array("q", queryset.order_by("pk").values_list("pk", flat=True).iterator())

    def json_with_new_values(self, constant: dict[str, Any], per_row: dict[str, str]) -> tuple[str, list[Any]]:
        pairs = ", ".join(f"'{name}', json_array(NULL, {column})" for name, column in per_row.items())
        sql = f"json_patch(%s, json_object({pairs}))" if per_row else "%s"
        return sql, [json.dumps(constant)]

    def json_key_replaced(self, column: str, key: str, value: Any) -> tuple[str, str, list[Any], list[Any]]:
        path = f"$.{key}"
        return (
            f"json_set({column}, %s, json(%s))",
            f"json_type({column}, %s) IS NOT NULL",
            [path, json.dumps(value)],
            [path],
        )

    def month_start(self, column: str) -> str:
        return f"date({column}, 'start of month')"

    def lock_transaction(self, cursor, key: int) -> None:
        pass

    def lock_table(self, cursor, table: str) -> None:
        pass

    def fold(self, cursor, *, table: str, key: str, values: Sequence[str]) -> int:
        # Writes are serialised: the rows up to the highest id now are folded, by id, in the caller's transaction.
        columns, sums, nonzero = fold_terms(key, values)
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        last = cursor.fetchone()[0]
        several = f"SELECT {key} FROM {table} WHERE id <= %s GROUP BY {key} HAVING COUNT(*) > 1"
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {key}, {sums} FROM {table} "
            f"WHERE id <= %s AND ({key}) IN ({several}) GROUP BY {key} HAVING {nonzero}",
            [last, last],
        )
        kept = cursor.rowcount
        cursor.execute(f"DELETE FROM {table} WHERE id <= %s AND ({key}) IN ({several})", [last, last])
        return cursor.rowcount - kept

    def empty_tables(self, models: Sequence[type[Model]]) -> None:
        with transaction.atomic():
            for model in models:
                model.objects.all()._raw_delete(using=connection.alias)

    def deferred_indexes(self, models: Sequence[type[Model]]):
        return nullcontext()

    def insert_objects(self, objs: Sequence[Model]) -> None:
        if objs:
            type(objs[0])._default_manager.bulk_create(objs)

    def insert_rows(self, model: type[Model], rows: Sequence[dict[str, Any]]) -> list[int]:
        objs = [model(**row) for row in rows]
        self.insert_objects(objs)
        return [obj.pk for obj in objs]

    def write_rows(self, model: type[Model], columns: Sequence[str], rows: list[tuple]) -> None:
        attnames = [_field(model, column).attname for column in columns]
        # Rows carry JSON columns as COPY text ('[]'); a model instance needs the value itself,
        # or the field would store the JSON *string* "[]".
        json_at = [i for i, column in enumerate(columns) if isinstance(_field(model, column), JSONField)]

        def instance(row: tuple):
            values = list(row)
            for i in json_at:
                if isinstance(values[i], str):
                    values[i] = json.loads(values[i])
            return model(**dict(zip(attnames, values, strict=True)))

        model.objects.bulk_create([instance(row) for row in rows], batch_size=len(rows))

    def reset_sequences(self, models: Sequence[type[Model]]) -> None:
        pass  # a new rowid is above the highest anyway

    def analyze(self, models: Sequence[type[Model]]) -> None:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _field(model: type[Model], column: str):
    for fld in model._meta.concrete_fields:
        if fld.column == column:
            return fld
    raise LookupError(column)
