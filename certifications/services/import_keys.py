"""The keys of an import's valid rows, each with its first line: a duplicate names that line wherever it was.

An import reads its file a chunk at a time (``services.imports``); a row whose
``(mentor, type, issued_at)`` an earlier valid row already had is invalid and
names the earlier line. ``SeenKeys.first_lines`` answers for one chunk and
remembers the chunk's new keys. On PostgreSQL the keys are kept in a temporary
table of the import's transaction (two statements a chunk), so the import's
memory does not grow by a key a row; elsewhere in a dict.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection

from certhub.sql import dialect

TABLE = "import_seen_keys"


class SeenKeys:
    """Keys in memory: the first line of each (SQLite, and any database but PostgreSQL)."""

    def __init__(self) -> None:
        self._lines: dict[str, int] = {}

    def first_lines(self, keys: Sequence[tuple[str, int]]) -> list[int | None]:
        """For each ``(key, line)`` of one chunk, in order: the line that had the key first, or None if this one."""
        found: list[int | None] = []
        for key, line in keys:
            first = self._lines.setdefault(key, line)
            found.append(None if first == line else first)
        return found


class SeenKeysInTable(SeenKeys):
    """Keys in a temporary table, dropped when the import's transaction ends (PostgreSQL)."""

    def __init__(self) -> None:
        super().__init__()
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {TABLE} (key text PRIMARY KEY, line bigint) ON COMMIT DROP"
            )
            cursor.execute(f"TRUNCATE {TABLE}")  # another import earlier in the same transaction

    def first_lines(self, keys: Sequence[tuple[str, int]]) -> list[int | None]:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT key, line FROM {TABLE} WHERE key IN (SELECT jsonb_array_elements_text(%s::jsonb))",
                [json.dumps([key for key, _ in keys])],
            )
            earlier = dict(cursor.fetchall())
        self._lines = earlier  # the chunk's own keys are added below: a duplicate inside the chunk is found too
        found = super().first_lines(keys)
        new = [[key, line] for (key, line), first in zip(keys, found, strict=True) if first is None]
        if new:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {TABLE} (key, line) SELECT v->>0, (v->>1)::bigint "
                    "FROM jsonb_array_elements(%s::jsonb) AS r (v)",
                    [json.dumps(new)],
                )
        self._lines = {}
        return found


def seen_keys() -> SeenKeys:
    """An empty set of keys for one import (call inside its transaction)."""
    return dialect().pick(postgresql=SeenKeysInTable, sqlite=SeenKeys)()
