"""An import's answer: every row's verdict in file order, and the totals."""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field

from certifications.models import Certification

NEW, UPDATED, SKIPPED, INVALID = "new", "updated", "skipped", "invalid"
ACTIONS = (NEW, UPDATED, SKIPPED, INVALID)
# The bytes a row's certification id takes (the longest an id may be).
ID_WIDTH = Certification._meta.get_field("certification_id").max_length


@dataclass
class RowResult:
    line: int
    action: str
    certification_id: str | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


class RowResults:
    """Every row's verdict in file order, kept small: a line, an action code and an id a row; errors when invalid.

    The answer names every row, so this grows with the file: by 22 bytes a row
    (an 8-byte line, a 1-byte action, the id's ``ID_WIDTH`` ASCII bytes, NUL
    for none), not by the row's objects.
    """

    def __init__(self) -> None:
        self._lines = array("q")
        self._actions = bytearray()
        self._ids = bytearray()
        self._errors: dict[int, dict[str, list[str]]] = {}

    def append(self, row: RowResult) -> None:
        if row.errors:
            self._errors[len(self._lines)] = row.errors
        self._lines.append(row.line)
        self._actions.append(ACTIONS.index(row.action))
        self._ids += (row.certification_id or "").encode("ascii").ljust(ID_WIDTH, b"\0")

    def __len__(self) -> int:
        return len(self._lines)

    def _id(self, index: int) -> str | None:
        return self._ids[index * ID_WIDTH : (index + 1) * ID_WIDTH].rstrip(b"\0").decode("ascii") or None

    def __getitem__(self, index: int) -> RowResult:
        return RowResult(
            self._lines[index], ACTIONS[self._actions[index]], self._id(index), self._errors.get(index, {})
        )

    def __iter__(self) -> Iterator[RowResult]:
        return (self[index] for index in range(len(self)))

    def count(self, action: str) -> int:
        return self._actions.count(ACTIONS.index(action))

    def forget_new_ids(self) -> None:
        """The rows that would have been new keep no id: rolled back, no record was kept."""
        code = ACTIONS.index(NEW)
        for index, action in enumerate(self._actions):
            if action == code:
                self._ids[index * ID_WIDTH : (index + 1) * ID_WIDTH] = bytes(ID_WIDTH)


@dataclass
class ImportResult:
    dry_run: bool
    applied: bool
    rows: RowResults

    @property
    def totals(self) -> dict[str, int]:
        return {action: self.rows.count(action) for action in ACTIONS}
