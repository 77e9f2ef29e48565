"""``GET /api/v1/certifications/export.csv``: the list's filters, streamed, formula cells made inert, never public."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from certifications.bulk.export import FORMULA_STARTS, HEADER, export_stream, neutralised
from certifications.bulk.rows import read_csv
from certifications.models import Certification, Mentor
from certifications.text import one_line
from tests.conftest import _token_client, _user_with
from tests.factories import CertificationFactory, MentorFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/certifications/export.csv"


@pytest.fixture
def exporter():
    """A client holding what the export needs: view_certification and view_mentor."""
    return _token_client(_user_with("exporter", "view_certification", "view_mentor"))


def read(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_export_has_the_import_columns_plus_id_and_status(exporter):
    cert = CertificationFactory(
        status="revoked", revoked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), revocation_reason="Audit"
    )
    [row] = read(exporter.get(URL))
    assert row == {
        "certification_id": cert.certification_id,
        "mentor_id": cert.mentor.mentor_id,
        "certification_type": "peer_mentor_basic",
        "issued_at": "2024-06-15T00:00:00Z",
        "expires_at": "2027-06-15T00:00:00Z",
        "mentor_name": cert.mentor.name,
        "mentor_email": cert.mentor.email,
        "action": "revoke",
        "revocation_reason": "Audit",
        "status": "revoked",
    }


def test_the_export_takes_the_lists_filters_and_refuses_bad_ones(exporter):
    CertificationFactory()
    revoked = CertificationFactory(status="revoked", revoked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert [row["certification_id"] for row in read(exporter.get(URL, {"status": "revoked"}))] == [
        revoked.certification_id
    ]
    response = exporter.get(URL, {"status": "nonsense"})
    assert response.status_code == 400 and "error" in response.json()


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_made_text(exporter, start):
    mentor = MentorFactory(name=f'{start}HYPERLINK("http://evil")', email="")
    CertificationFactory(mentor=mentor)
    [row] = read(exporter.get(URL))
    assert row["mentor_name"] == "'" + mentor.name
    assert neutralised("Ada") == "Ada"


def test_an_exported_file_imports_back_as_every_row_skipped(exporter):
    CertificationFactory.create_batch(3)
    content = b"".join(exporter.get(URL).streaming_content)
    importer = _token_client(_user_with("importer", "add_certification", "change_certification"))
    body = importer.post("/api/v1/certifications/import", data=content, content_type="text/csv").json()
    assert body["totals"] == {"new": 0, "updated": 0, "skipped": 3, "invalid": 0}
    assert Certification.objects.count() == 3


@pytest.mark.parametrize("public_reads", [True, False])
def test_the_export_needs_view_certification_and_view_mentor_whatever_public_reads_say(settings, public_reads):
    """The rows carry mentors' names and addresses: personal data is never a public read."""
    settings.API_PUBLIC_READS = public_reads
    mentor = MentorFactory(name="Wilhelmina Stroud", email="wilhelmina.stroud@example.org")
    CertificationFactory(mentor=mentor)
    callers = {
        "anonymous": (APIClient(), 401),
        "no permission": (_token_client(_user_with("nobody")), 403),
        "view_certification only": (_token_client(_user_with("certs", "view_certification")), 403),
        "view_mentor only": (_token_client(_user_with("mentors", "view_mentor")), 403),
    }
    for label, (caller, status) in callers.items():
        response = caller.get(URL)
        assert response.status_code == status, label
        assert response.json()["error"]["code"] in ("not_authenticated", "permission_denied"), label
        assert b"Stroud" not in response.content, label
    both = _token_client(_user_with("both", "view_certification", "view_mentor"))
    [row] = read(both.get(URL))
    assert (row["mentor_name"], row["mentor_email"]) == (mentor.name, mentor.email)


def test_formula_cells_in_an_imported_csv_are_kept_as_text_and_exported_inert(exporter):
    importer = _token_client(_user_with("importer", "add_certification", "change_certification"))
    body = (
        "mentor_id,certification_type,issued_at,mentor_name,mentor_email\n"
        'mntr_01HX4V2K8P,peer_mentor_basic,2026-01-15,"=HYPERLINK(""http://evil"",""x"")",\n'
    )
    answer = importer.post("/api/v1/certifications/import", data=body, content_type="text/csv").json()
    assert answer["totals"]["new"] == 1
    assert Mentor.objects.get().name == '=HYPERLINK("http://evil","x")'  # stored as the text it is
    [row] = read(exporter.get(URL))
    assert row["mentor_name"] == '\'=HYPERLINK("http://evil","x")'


# --- Export then import is the identity ----------------------------------------------------------


@pytest.fixture
def importer():
    """A client that may import (add and change certifications) and nothing more: no mentor permission."""
    return _token_client(_user_with("importer", "add_certification", "change_certification"))


# Text as the mentors' and reasons' cells hold it: every entry point strips it; NUL is refused in a file.
CELL_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)
STARTS = st.sampled_from(["", "'", "''", "'=", "' ", *FORMULA_STARTS, *(f"{start}'" for start in FORMULA_STARTS)])
STORED_TEXT = st.builds(lambda start, rest: (start + rest).strip(), STARTS, CELL_TEXT)
# A name as the services store it: on one line, without control or bidi characters.
STORED_NAMES = STORED_TEXT.map(one_line)
EMAILS = st.builds(
    lambda start, local: f"{start}{local}@example.org",
    st.sampled_from(["", "'", "''", "'=", "=", "+", "-", "=+"]),
    st.from_regex(r"\A[a-z0-9]{1,12}\Z"),
)


@given(names=st.lists(STORED_TEXT, min_size=1, max_size=5), reason=STORED_TEXT, email=EMAILS)
def test_a_cell_read_back_from_the_export_is_the_value_exported(names, reason, email):
    """The CSV the export writes, read as the import reads it, gives back every value: the ``'`` it added only."""
    rows = [
        ["cert_X", "mntr_01HX4V2K8P", "peer_mentor_basic", "2026-01-15", "", name, email, "revoke", reason, "revoked"]
        for name in names
    ]
    exported = b"".join(export_stream([list(HEADER), *([neutralised(cell) for cell in row] for row in rows)]))
    read = read_csv(exported, max_rows=len(rows))
    assert [[row.cells[name] for name in HEADER] for row in read] == rows


@pytest.mark.parametrize(
    "name",
    ["=SUM(A1)", "+44 20 7946 0000", "-minus", "@handle", "'=quoted already", "'plain quote", "''=two quotes"],
)
def test_an_exported_file_with_formula_like_names_imports_back_unchanged(exporter, importer, name):
    """The export's ``'`` does not come back: every row skipped, names, addresses and reasons as they were."""
    mentor = MentorFactory(name=name, email=f"{name[0]}x@example.org" if name[0] in "=+-'" else "x@example.org")
    CertificationFactory(
        mentor=mentor, status="revoked", revoked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), revocation_reason=name
    )
    content = b"".join(exporter.get(URL).streaming_content)
    body = importer.post("/api/v1/certifications/import", data=content, content_type="text/csv").json()
    assert body["totals"] == {"new": 0, "updated": 0, "skipped": 1, "invalid": 0}, body["rows"]
    mentor.refresh_from_db()
    assert (mentor.name, Certification.objects.get().revocation_reason) == (name, name)


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=STORED_NAMES, email=EMAILS)
def test_export_then_import_changes_nothing_whatever_the_name(exporter, importer, name, email):
    """Property: for generated names and addresses, the exported file imports back with its row skipped."""
    assume(len(name) <= 200)
    mentor = MentorFactory(name=name, email=email)
    CertificationFactory(mentor=mentor)
    content = b"".join(exporter.get(URL, {"mentor_id": mentor.mentor_id}).streaming_content)
    body = importer.post("/api/v1/certifications/import", data=content, content_type="text/csv").json()
    assert body["totals"] == {"new": 0, "updated": 0, "skipped": 1, "invalid": 0}, body["rows"]
    mentor.refresh_from_db()
    assert (mentor.name, mentor.email) == (name, email)
