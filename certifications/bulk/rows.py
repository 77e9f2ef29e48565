"""The import file: its columns, and a CSV text read into numbered rows (the header is line 1).

A UTF-8 BOM, CRLF line ends and blank lines (a trailing one included) are
accepted; an unknown or missing column refuses the whole file with a message
that names it, and so does a file of more than ``IMPORT_MAX_ROWS`` rows. A
cell loses the ``'`` the export put before a formula character (``restored``),
so an exported file imports back as it was.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from certhub.errors import RuleViolation, TooLarge
from certifications.bulk.export import restored

REQUIRED = ("mentor_id", "certification_type", "issued_at")
OPTIONAL = ("expires_at", "mentor_name", "mentor_email", "action", "revocation_reason")
# Columns the export adds; an import accepts them (an exported file imports as it is) and ignores them.
EXPORT_ONLY = ("certification_id", "status")
COLUMNS = REQUIRED + OPTIONAL + EXPORT_ONLY
ACTIONS = ("upsert", "revoke")


@dataclass(frozen=True)
class ImportRow:
    """One data row: its line in the file (the header is line 1) and its cells by column (stripped)."""

    line: int
    cells: dict[str, str]


def check_header(header: Iterable[str]) -> list[str]:
    """The header's column names, normalised; a 400 naming unknown, repeated or missing columns."""
    names = [(name or "").strip().lower() for name in header]
    unknown = sorted({name for name in names if name not in COLUMNS})
    repeated = sorted({name for name in names if names.count(name) > 1})
    missing = [name for name in REQUIRED if name not in names]
    fields: dict[str, list[str]] = {}
    for name in unknown:
        fields[name or "(empty)"] = [f"Unknown column; the columns are {', '.join(COLUMNS)}."]
    for name in repeated:
        fields[name] = ["Repeated column."]
    for name in missing:
        fields[name] = ["Missing required column."]
    if fields:
        problems = []
        if unknown:
            problems.append("unknown columns " + ", ".join(unknown))
        if repeated:
            problems.append("repeated columns " + ", ".join(repeated))
        if missing:
            problems.append("missing columns " + ", ".join(missing))
        raise RuleViolation(f"The header has {'; '.join(problems)}.", fields=fields)
    return names


def read_csv(data: bytes, *, max_rows: int) -> list[ImportRow]:
    """Decode ``data`` (UTF-8, BOM allowed) and read its rows; more than ``max_rows`` is ``TooLarge``."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RuleViolation(
            f"The file is not UTF-8 text (byte {exc.start + 1}).", fields={"file": ["Not UTF-8 text."]}
        ) from None
    if "\x00" in text:
        raise RuleViolation("The file is not CSV text (it holds NUL bytes).", fields={"file": ["Not CSV text."]})
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise RuleViolation("The file is empty: a header line is needed.", fields={"file": ["Empty file."]})
        names = check_header(header)
        rows: list[ImportRow] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, e.g. the trailing one
            if len(rows) >= max_rows:
                raise TooLarge(
                    f"The file has more than {max_rows} rows (IMPORT_MAX_ROWS); split it.", max_rows=max_rows
                )
            line = reader.line_num
            padded = [*cells, *[""] * (len(names) - len(cells))]
            row = {name: restored(value.strip()) for name, value in zip(names, padded, strict=False)}
            if len(cells) > len(names) and any(cell.strip() for cell in cells[len(names) :]):
                row["__extra__"] = "more cells than columns"
            rows.append(ImportRow(line=line, cells=row))
    except csv.Error as exc:
        raise RuleViolation(
            f"The file is not valid CSV (line {reader.line_num}): {exc}.", fields={"file": ["Not valid CSV."]}
        ) from None
    return rows
