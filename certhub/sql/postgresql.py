"""The PostgreSQL dialect: array parameters, ``jsonb``, data-modifying CTEs, advisory locks, ``COPY``."""

from __future__ import annotations

import json
import sys
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BooleanField, DateField, IntegerField, JSONField, Model, QuerySet
from django.db.models.expressions import RawSQL
from psycopg.types.datetime import TimestamptzLoader

from certhub.sql.base import Dialect, fold_terms
from certhub.sql.statements import Build, CompiledOnce, bigint_array

T = TypeVar("T")


def _inserted(model: type[Model]) -> list:
    """The fields an insert of ``model`` gives values for: every concrete one but the generated pk."""
    return [field for field in model._meta.concrete_fields if not field.primary_key]


class PostgreSQL(Dialect):
    def pick(self, *, postgresql: T, sqlite: T) -> T:
        return postgresql

    def field_in(self, model: type[Model], field: str, values: Iterable[Any]):
        # ``= ANY(%s)`` with one array parameter: a list of a thousand placeholders costs
        # the client more to quote and send than the statement costs the server.
        fld = model._meta.get_field(field)
        column = f'"{model._meta.db_table}"."{fld.column}"'
        if isinstance(fld.target_field if fld.is_relation else fld, IntegerField):  # a key to an integer id too
            return RawSQL(f"{column} = ANY(%s::bigint[])", [bigint_array(values)], output_field=BooleanField())
        return RawSQL(f"{column} = ANY(%s)", [sorted(values)], output_field=BooleanField())

    def prepared(self, build: Build, **samples: Any) -> CompiledOnce:
        return CompiledOnce(build, self.fetch_rows, **samples)

    def fetch_rows(self, sql: str, params: Sequence[Any]) -> list[tuple]:
        # Django loads each timestamptz with a pure-Python subclass of psycopg's loader (to set the
        # zone, UTC); psycopg's own, registered on this cursor alone, is its C one and reads the
        # session's zone, which Django sets to UTC: the same aware values, for a tenth of the
        # ~4 µs a timestamp costs otherwise (10 ms for the 2,500 of an eligibility batch).
        with connection.cursor() as cursor:
            cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
            cursor.execute(sql, params)
            return cursor.fetchall()

    def listed_pks(self, queryset: QuerySet) -> array:
        # One value, each key's 8 bytes in order (a server-side cursor would hold as little but is
        # planned for its first rows: the job's due listing took 2.2 s instead of 0.35 s at 1M).
        pks = array("q")
        try:
            sql, params = queryset.order_by().values_list("pk", flat=True).query.sql_with_params()
        except EmptyResultSet:
            return pks
        with connection.cursor() as cursor:
            packing = "SELECT string_agg(int8send(listed.pk), '' ORDER BY listed.pk)"
            cursor.execute(f"{packing} FROM ({sql}) AS listed(pk)", params)
            (packed,) = cursor.fetchone()
        if packed:
            pks.frombytes(packed)
            if sys.byteorder == "little":
                pks.byteswap()  # int8send is big-endian
        return pks

    def listed_pk_chunks(self, queryset: QuerySet, *, size: int) -> Iterator[list[int]]:
        try:
            sql, params = queryset.order_by("pk").values_list("pk", flat=True).query.sql_with_params()
        except EmptyResultSet:
            return
        with connection.cursor() as cursor:
            # Plan the cursor for all its rows, as the whole listing is planned, not for its first ones.
            cursor.execute("SET LOCAL cursor_tuple_fraction = 1")
        with connection.chunked_cursor() as cursor:  # a server-side cursor (no hold: in the transaction)
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(size):
                yield [pk for (pk,) in rows]

    def json_with_new_values(self, constant: dict[str, Any], per_row: dict[str, str]) -> tuple[str, list[Any]]:
        pairs = ", ".join(f"'{name}', jsonb_build_array(NULL, {column})" for name, column in per_row.items())
        sql = "%s::jsonb" + (f" || jsonb_build_object({pairs})" if per_row else "")
        return sql, [json.dumps(constant)]

    def json_key_replaced(self, column: str, key: str, value: Any) -> tuple[str, str, list[Any], list[Any]]:
        expression = f"jsonb_set({column}, %s::text[], %s::jsonb)"
        return expression, f"jsonb_exists({column}, %s)", ["{" + key + "}", json.dumps(value)], [key]

    def month_start(self, column: str) -> str:
        return f"CAST(date_trunc('month', CAST({column} AS timestamp)) AS date)"

    def lock_transaction(self, cursor, key: int) -> None:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])

    def lock_table(self, cursor, table: str) -> None:
        cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")

    def fold(self, cursor, *, table: str, key: str, values: Sequence[str]) -> int:
        # One statement: a writer's uncommitted row is not in its snapshot, so it stays for the next fold.
        columns, sums, nonzero = fold_terms(key, values)
        cursor.execute(
            f"WITH gone AS (DELETE FROM {table} WHERE ({key}) IN "
            f"(SELECT {key} FROM {table} GROUP BY {key} HAVING COUNT(*) > 1) RETURNING {columns}), "
            f"kept AS (INSERT INTO {table} ({columns}) SELECT {key}, {sums} FROM gone "
            f"GROUP BY {key} HAVING {nonzero} RETURNING 1) "
            "SELECT (SELECT COUNT(*) FROM gone) - (SELECT COUNT(*) FROM kept)"
        )
        return cursor.fetchone()[0]

    def empty_tables(self, models: Sequence[type[Model]]) -> None:
        tables = ", ".join(model._meta.db_table for model in models)
        with connection.cursor() as cursor:
            # Rows written earlier in this transaction leave deferred foreign-key checks
            # pending, and TRUNCATE refuses a table with pending checks: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY")

    @contextmanager
    def deferred_indexes(self, models: Sequence[type[Model]]) -> Iterator[None]:
        # Bulk loading then writes bare heaps, and each index is built once, sorted,
        # instead of taking a million random insertions. Inside a transaction.
        tables = [model._meta.db_table for model in models]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
                "WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('u', 'f') ORDER BY contype DESC",
                [tables],
            )
            constraints = cursor.fetchall()  # foreign keys first: they depend on the unique ones
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x'))",
                [tables],
            )
            indexes = cursor.fetchall()
            for table, name, _, _ in constraints:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {name}")
        yield
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for _, definition in indexes:
                cursor.execute(definition)
            for table, name, definition, _ in reversed(constraints):
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')

    def insert_objects(self, objs: Sequence[Model]) -> None:
        if not objs:
            return
        fields = _inserted(type(objs[0]))
        pks = self._insert(type(objs[0]), fields, [[field.pre_save(obj, True) for field in fields] for obj in objs])
        for obj, pk in zip(objs, pks, strict=True):
            obj.pk = pk
            obj._state.adding, obj._state.db = False, connection.alias

    def insert_rows(self, model: type[Model], rows: Sequence[dict[str, Any]]) -> list[int]:
        fields = _inserted(model)
        return self._insert(model, fields, [[row[field.attname] for field in fields] for row in rows]) if rows else []

    def _insert(self, model: type[Model], fields: list, rows: list[list[Any]]) -> list[int]:
        """One ``INSERT … SELECT`` of ``rows`` (a value per field of ``fields``) sent as one JSON array; the new pks."""
        iso = [i for i, field in enumerate(fields) if isinstance(field, DateField)]
        for row in rows:
            for i in iso:  # a date or a timestamp (DateTimeField is a DateField) as ISO text
                if row[i] is not None:
                    row[i] = row[i].isoformat()
        values = ", ".join(
            f"v->{i}" if isinstance(field, JSONField) else f"(v->>{i})::{field.db_type(connection)}"
            for i, field in enumerate(fields)
        )
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
                f"SELECT {values} FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS r (v, n) "
                f"ORDER BY n RETURNING {quote(model._meta.pk.column)}",
                [json.dumps(rows, separators=(",", ":"))],
            )
            return [pk for (pk,) in cursor.fetchall()]

    def write_rows(self, model: type[Model], columns: Sequence[str], rows: list[tuple]) -> None:
        table = model._meta.db_table
        # The Django cursor wraps psycopg 3's, whose copy() streams rows in COPY's text format.
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def reset_sequences(self, models: Sequence[type[Model]]) -> None:
        with connection.cursor() as cursor:
            for model in models:
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )

    def analyze(self, models: Sequence[type[Model]]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(model._meta.db_table for model in models)}")
