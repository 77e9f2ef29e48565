"""An import's answer: every row's verdict in file order, and the totals."""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field

NEW, UPDATED, SKIPPED, INVALID = "new", "updated", "skipped", "invalid"
ACTIONS = (NEW, UPDATED, SKIPPED, INVALID)


@dataclass
class RowResult:
    line: int
    action: str
    certification_id: str | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


class RowResults:
    """Every row's verdict in file order, kept small: a line, an action code and an id a row; errors when invalid.

    The answer names every row, so this grows with the file, by tens of bytes
    a row rather than the row's objects.
    """

    def __init__(self) -> None:
        self._lines = array("q")
        self._actions = bytearray()
        self._ids: list[str | None] = []
        self._errors: dict[int, dict[str, list[str]]] = {}

    def append(self, row: RowResult) -> None:
        if row.errors:
            self._errors[len(self._ids)] = row.errors
        self._lines.append(row.line)
        self._actions.append(ACTIONS.index(row.action))
        self._ids.append(row.certification_id)

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, index: int) -> RowResult:
        return RowResult(
            self._lines[index], ACTIONS[self._actions[index]], self._ids[index], self._errors.get(index, {})
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
                self._ids[index] = None


@dataclass
class ImportResult:
    dry_run: bool
    applied: bool
    rows: RowResults

    @property
    def totals(self) -> dict[str, int]:
        return {action: self.rows.count(action) for action in ACTIONS}
