"""Hypothesis strategies for the import's CSV files: files it reads, and files it refuses whole.

A schema can say "a string" or "a binary file", not "a CSV file with these
columns", so the fuzzer draws the files itself (``tests/hardening/test_fuzz_schema.py``):

- ``import_files``: a header the import reads (the required columns, any of the
  optional and export-only ones, in any order, any case, padded), at most
  ``max_rows`` rows, each valid or with one cell at fault (a row at fault is
  reported ``invalid``, never refuses the file), LF or CRLF, a BOM or not,
  blank lines. The import answers every one of them 200.
- ``refused_files``: an empty file, an unknown, repeated or missing column,
  bytes that are not UTF-8, a NUL byte, a cell past the CSV field limit (400),
  more than ``max_rows`` rows or more than ``max_bytes`` bytes (413).

Mentor ids come mostly from a small pool, so the files of one run meet each
other's records (updates, skips, revocations, duplicates inside a file).
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from hypothesis import strategies as st

from certhub.ids import MENTOR_ID_RE
from certifications.bulk.rows import COLUMNS, EXPORT_ONLY, OPTIONAL, REQUIRED

MENTORS = ("mntr_01HX4V2K8P", "mntr_01HX4V2K8Q", "mntr_01HX4V2K8R")
CSV_FIELD_LIMIT = csv.field_size_limit()
ZONES = (dt.UTC, dt.timezone(dt.timedelta(hours=2)), dt.timezone(dt.timedelta(hours=-5, minutes=-30)))


def _text(max_size: int) -> st.SearchStrategy[str]:
    """Any text a cell can hold: no NUL (the file would be refused), no lone surrogate (not UTF-8)."""
    return st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=max_size)


def _written(moment: dt.datetime | dt.date) -> str:
    if isinstance(moment, dt.datetime) and moment.utcoffset() == dt.timedelta(0) and moment.microsecond == 0:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat()


# Years whose record fits the calendar with the widest validity (36 months) or ten years more added.
_moments = st.datetimes(
    min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(9985, 12, 31), timezones=st.sampled_from(ZONES)
)
_issued = st.one_of(
    st.sampled_from(["2026-01-15", "2025-06-01T00:00:00Z", "2024-02-01T09:30:00+02:00"]),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(9985, 12, 31)).map(_written),
    _moments.map(_written),
)


def _later(issued: str) -> st.SearchStrategy[str]:
    start = dt.datetime.fromisoformat(issued.replace("Z", "+00:00"))
    if start.tzinfo is None:
        start = start.replace(tzinfo=dt.UTC)
    return st.integers(1, 3650).map(lambda days: _written((start + dt.timedelta(days=days)).astimezone(dt.UTC)))


@st.composite
def _valid_row(draw, types: list[str]) -> dict[str, str]:
    issued = draw(_issued)
    action = draw(st.sampled_from(["", "", "upsert", "revoke", "REVOKE"]))
    return {
        "mentor_id": draw(st.one_of(st.sampled_from(MENTORS), st.from_regex(MENTOR_ID_RE, fullmatch=True))),
        "certification_type": draw(st.sampled_from(types)),
        "issued_at": issued,
        "expires_at": draw(st.one_of(st.just(""), _later(issued))),
        "mentor_name": draw(st.one_of(st.just(""), _text(200))),
        "mentor_email": draw(st.one_of(st.just(""), st.emails())),
        "action": action,
        "revocation_reason": draw(_text(500)) if action.lower() == "revoke" else "",
        "certification_id": draw(st.one_of(st.just(""), _text(13))),
        "status": draw(st.sampled_from(["", "valid", "expired", "revoked"])),
    }


def _longer_than(limit: int) -> st.SearchStrategy[str]:
    return st.tuples(st.integers(limit + 1, limit + 20), _text(5)).map(lambda drawn: "x" * drawn[0] + drawn[1])


# One cell at fault: each makes the row ``invalid`` (a reason on a row that is no revoke, or too long),
# or may (a drawn text can be a valid cell); an email past 254 characters (the column's length) must.
_FAULTS = {
    "mentor_id": st.one_of(_text(40), st.just("mntr_01hx4v2k8p")),
    "certification_type": st.one_of(_text(30), st.just("retired_or_unknown")),
    "issued_at": st.one_of(_text(30), st.sampled_from(["", "2026-01-15T10:00:00", "1899-12-31", "9999-01-01"])),
    "expires_at": st.one_of(_text(30), st.sampled_from(["1900-01-01", "2026-01-15T10:00:00"])),
    "mentor_name": _longer_than(200),
    "mentor_email": st.one_of(
        _text(40),
        st.integers(59, 64).map(lambda size: "a" * size + "@" + "d" * 63 + "." + "e" * 63 + "." + "f" * 63 + ".org"),
    ),
    "action": st.one_of(_text(12), st.just("delete")),
    "revocation_reason": st.one_of(_text(20).filter(str.strip), _longer_than(500)),
}


@st.composite
def _row(draw, columns: list[str], types: list[str]) -> list[str]:
    cells = draw(_valid_row(types))
    faulty = [name for name in columns if name in _FAULTS]
    fault = draw(st.one_of(st.none(), st.none(), st.sampled_from(faulty)))
    if fault is not None:
        cells[fault] = draw(_FAULTS[fault])
    values = [cells[name] for name in columns]
    if draw(st.integers(0, 9)) == 0:
        values.append(draw(_text(10)))  # one cell more than the header: invalid if it holds anything
    return values


_HEADER_NAMES = st.sampled_from([str, str.upper, str.title, lambda name: f" {name} "])


@st.composite
def _columns(draw) -> list[str]:
    optional = draw(st.lists(st.sampled_from(OPTIONAL + EXPORT_ONLY), unique=True))
    return draw(st.permutations([*REQUIRED, *optional]))


def _encode(lines: list[list[str]], *, newline: str, bom: bool, trailing_blank: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerows(lines)
    text = buffer.getvalue() + (newline if trailing_blank else "")
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


@st.composite
def import_files(draw, *, types: list[str], max_rows: int) -> bytes:
    """A file the import reads: 200, each row ``new``, ``updated``, ``skipped`` or ``invalid``."""
    columns = draw(_columns())
    header = [draw(_HEADER_NAMES)(name) for name in columns]
    rows = draw(st.lists(_row(columns, types), max_size=max_rows))
    lines = [header]
    for row in rows:
        if draw(st.integers(0, 7)) == 0:
            lines.append([""] * draw(st.integers(0, len(columns))))  # a blank line (or only commas): skipped
        lines.append(row)
    return _encode(
        lines,
        newline=draw(st.sampled_from(["\n", "\r\n"])),
        bom=draw(st.booleans()),
        trailing_blank=draw(st.booleans()),
    )


_UNKNOWN_COLUMN = _text(20).filter(lambda name: name.strip().lower() not in COLUMNS)


@st.composite
def _bad_header(draw, types: list[str]) -> bytes:
    columns = draw(_columns())
    fault = draw(st.sampled_from(["unknown", "repeated", "missing"]))
    if fault == "unknown":
        columns.insert(draw(st.integers(0, len(columns))), draw(_UNKNOWN_COLUMN))
    elif fault == "repeated":
        columns.append(draw(st.sampled_from(columns)))
    else:
        columns.remove(draw(st.sampled_from(REQUIRED)))
    rows = draw(st.lists(_row([c for c in columns if c in COLUMNS], types), max_size=2))
    return _encode([columns, *rows], newline="\n", bom=False, trailing_blank=False)


@st.composite
def _spoiled(draw, types: list[str], max_rows: int, spoiler: bytes) -> bytes:
    """A readable file with ``spoiler`` put in at any place after its BOM."""
    data = draw(import_files(types=types, max_rows=max_rows)).removeprefix(b"\xef\xbb\xbf")
    at = draw(st.integers(0, len(data)))
    return data[:at] + spoiler + data[at:]


@st.composite
def _too_many_rows(draw, types: list[str], max_rows: int) -> bytes:
    row = ["mntr_01HX4V2K8P", types[0], "2026-01-15"]
    lines = [list(REQUIRED)] + [[row[0], row[1], f"20{10 + n:02d}-01-15"] for n in range(max_rows + 1)]
    return _encode(lines, newline=draw(st.sampled_from(["\n", "\r\n"])), bom=False, trailing_blank=False)


def refused_files(*, types: list[str], max_rows: int, max_bytes: int) -> st.SearchStrategy[bytes]:
    """A file the import refuses whole: 400 (``validation_error``) or 413 (``too_large``)."""
    header = ",".join(REQUIRED).encode()
    return st.one_of(
        st.sampled_from([b"", b"\n\n", b" , ,\r\n", b"\xef\xbb\xbf"]),
        _bad_header(types),
        _spoiled(types, max_rows, b"\x00"),
        _spoiled(types, max_rows, b"\xff"),
        _spoiled(types, max_rows, "é".encode("latin-1")),
        st.just(header + b"\nmntr_01HX4V2K8P," + b"x" * (CSV_FIELD_LIMIT + 1) + b",2026-01-15\n"),
        _too_many_rows(types, max_rows),
        st.just(header + b"\n" + b" " * max_bytes),
    )
