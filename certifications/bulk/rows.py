"""The import file: its columns, and a CSV text read into numbered rows (the header is line 1).

A UTF-8 BOM, CRLF line ends and blank lines (a trailing one included) are
accepted; an unknown or missing column refuses the whole file with a message
that names it, and so does a file of more than ``IMPORT_MAX_ROWS`` rows. A
cell loses the ``'`` the export put before a formula character (``restored``),
so an exported file imports back as it was.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from certhub.errors import RuleViolation, TooLarge
from certifications.bulk.export import restored

REQUIRED = ("mentor_id", "certification_type", "issued_at")
OPTIONAL = ("expires_at", "mentor_name", "mentor_email", "action", "revocation_reason")
# Columns the export adds; an import accepts them (an exported file imports as it is) and ignores them.
EXPORT_ONLY = ("certification_id", "status")
COLUMNS = REQUIRED + OPTIONAL + EXPORT_ONLY
ACTIONS = ("upsert", "revoke")
READ_BYTES = 64 * 1024
LINE_END = re.compile(r"\r\n|\r|\n")


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
    """Every row of ``data`` at once (``iter_csv`` read to its end): for callers that need the rows twice."""
    return list(iter_csv(io.BytesIO(data), max_rows=max_rows))


def _decoded(source: BinaryIO) -> Iterator[str]:
    """``source``'s text, a piece at a time (UTF-8, BOM allowed); not UTF-8 or a NUL byte is a 400 naming it."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    head = b""
    while len(head) < len(codecs.BOM_UTF8) and (more := source.read(len(codecs.BOM_UTF8) - len(head))):
        head += more
    chunk = head.removeprefix(codecs.BOM_UTF8) or source.read(READ_BYTES)
    read = 0  # bytes decoded before ``chunk``, after the BOM
    while True:
        buffered = len(decoder.getstate()[0])
        try:
            text = decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise RuleViolation(
                f"The file is not UTF-8 text (byte {read - buffered + exc.start + 1}).",
                fields={"file": ["Not UTF-8 text."]},
            ) from None
        if "\x00" in text:
            raise RuleViolation("The file is not CSV text (it holds NUL bytes).", fields={"file": ["Not CSV text."]})
        if text:
            yield text
        if not chunk:
            return
        read += len(chunk)
        chunk = source.read(READ_BYTES)


def _lines(pieces: Iterable[str]) -> Iterator[str]:
    """The text's lines, each with its line end (CR, LF or CRLF only: as ``csv.reader`` reads with ``newline=""``).

    Each piece is searched once, so a long line costs its length, not its length squared.
    """
    parts: list[str] = []  # the line so far
    for piece in pieces:
        if parts and parts[-1].endswith("\r"):  # a CR held back: its LF may start this piece
            if piece.startswith("\n"):
                parts.append("\n")
                piece = piece[1:]
            yield "".join(parts)
            parts = []
        start = 0
        for match in LINE_END.finditer(piece):
            if match.end() == len(piece) and match.group() == "\r":
                break
            parts.append(piece[start : match.end()])
            yield "".join(parts)
            parts, start = [], match.end()
        if start < len(piece):
            parts.append(piece[start:])
    if parts:
        yield "".join(parts)


def iter_csv(source: BinaryIO, *, max_rows: int) -> Iterator[ImportRow]:
    """The file's rows read as they come, memory flat in the file; the header is checked before the first row.

    A fault of the whole file (the header, bytes that are not UTF-8 text, CSV
    that cannot be read, more than ``max_rows`` rows) is raised when reached:
    a caller that writes as it reads does so in one transaction, which the
    error then rolls back.
    """
    reader = csv.reader(_lines(_decoded(source)))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise _not_csv(reader, exc) from None
    if header is None or not any(cell.strip() for cell in header):
        raise RuleViolation("The file is empty: a header line is needed.", fields={"file": ["Empty file."]})
    return _rows(reader, check_header(header), max_rows=max_rows)


def _not_csv(reader, exc: csv.Error) -> RuleViolation:
    return RuleViolation(
        f"The file is not valid CSV (line {reader.line_num}): {exc}.", fields={"file": ["Not valid CSV."]}
    )


def _rows(reader, names: list[str], *, max_rows: int) -> Iterator[ImportRow]:
    count = 0
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, e.g. the trailing one
            if count >= max_rows:
                raise TooLarge(
                    f"The file has more than {max_rows} rows (IMPORT_MAX_ROWS); split it.", max_rows=max_rows
                )
            count += 1
            padded = [*cells, *[""] * (len(names) - len(cells))]
            row = {name: restored(value.strip()) for name, value in zip(names, padded, strict=False)}
            if len(cells) > len(names) and any(cell.strip() for cell in cells[len(names) :]):
                row["__extra__"] = "more cells than columns"
            yield ImportRow(line=reader.line_num, cells=row)
    except csv.Error as exc:
        raise _not_csv(reader, exc) from None
