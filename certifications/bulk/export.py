"""The CSV export: the import's columns plus ``certification_id`` and ``status``, streamed row by row.

Rows are read in chunks (``QuerySet.iterator``), so memory stays flat whatever
the number of rows. A cell a spreadsheet would run as a formula (one that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is prefixed
with ``'``, which spreadsheets show as text; so is a cell that starts with ``'``
itself, so that the import can take off exactly the quotes the export added
(``restored``) and an exported file imports back unchanged.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from certifications import representation
from certifications.models import CertificationStatus

# The import's columns plus ``certification_id`` and ``status``: the representation's export fields,
# with the import's ``action`` (told from the status) before the reason.
HEADER = (*representation.EXPORT[:-2], "action", *representation.EXPORT[-2:])
# The rows name mentors and hold their addresses: reading them takes both view permissions,
# in the API and in the admin, whatever ``API_PUBLIC_READS`` says.
EXPORT_PERMISSIONS = ("certifications.view_certification", "certifications.view_mentor")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 2000


# What gets a ``'`` before it: a formula's start, and the quote itself (else a value starting with
# ``'=`` would lose its quote on the way back).
ESCAPED_STARTS = (*FORMULA_STARTS, "'")


def neutralised(value: str) -> str:
    """``value`` made inert for a spreadsheet: a leading formula character (or ``'``) gets a ``'`` before it."""
    return "'" + value if value.startswith(ESCAPED_STARTS) else value


def restored(cell: str) -> str:
    """What ``neutralised`` was given: its ``'`` taken off where it added one, any other cell as it is."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(ESCAPED_STARTS) else cell


def export_rows(queryset: QuerySet) -> Iterator[list[str]]:
    """The header, then one list of cells per record of ``queryset``, read in chunks."""
    yield list(HEADER)
    values = queryset.values_list(*representation.columns(representation.EXPORT))
    for row in values.iterator(chunk_size=CHUNK_ROWS):
        data = representation.represent(representation.EXPORT, row)
        revoked = data["status"] == CertificationStatus.REVOKED
        data["action"] = "revoke" if revoked else "upsert"
        data["revocation_reason"] = (data["revocation_reason"] or "") if revoked else ""  # null is an empty cell
        yield [neutralised(data[name]) for name in HEADER]


class _Line:
    """A file-like object whose ``write`` returns what was written (for ``csv.writer``)."""

    def write(self, value: str) -> str:
        return value


def export_stream(rows: Iterable[list[str]]) -> Iterator[bytes]:
    """CSV lines (UTF-8, CRLF as the CSV RFC says), one per row, for a streaming response."""
    writer = csv.writer(_Line())
    for row in rows:
        yield writer.writerow(row).encode()
