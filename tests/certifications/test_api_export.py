"""``GET /api/v1/certifications/export.csv``: the list's filters, streamed, formula cells made inert."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from certifications.bulk.export import neutralised
from certifications.models import Certification, Mentor
from tests.conftest import _token_client, _user_with
from tests.factories import CertificationFactory, MentorFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/certifications/export.csv"


def read(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_export_has_the_import_columns_plus_id_and_status(client):
    cert = CertificationFactory(
        status="revoked", revoked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), revocation_reason="Audit"
    )
    [row] = read(client.get(URL))
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


def test_the_export_takes_the_lists_filters_and_refuses_bad_ones(client):
    CertificationFactory()
    revoked = CertificationFactory(status="revoked", revoked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert [row["certification_id"] for row in read(client.get(URL, {"status": "revoked"}))] == [
        revoked.certification_id
    ]
    response = client.get(URL, {"status": "nonsense"})
    assert response.status_code == 400 and "error" in response.json()


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_made_text(client, start):
    mentor = MentorFactory(name=f'{start}HYPERLINK("http://evil")', email="")
    CertificationFactory(mentor=mentor)
    [row] = read(client.get(URL))
    assert row["mentor_name"] == "'" + mentor.name
    assert neutralised("Ada") == "Ada"


def test_an_exported_file_imports_back_as_every_row_skipped(client):
    CertificationFactory.create_batch(3)
    content = b"".join(client.get(URL).streaming_content)
    importer = _token_client(_user_with("importer", "add_certification", "change_certification"))
    body = importer.post("/api/v1/certifications/import", data=content, content_type="text/csv").json()
    assert body["totals"] == {"new": 0, "updated": 0, "skipped": 3, "invalid": 0}
    assert Certification.objects.count() == 3


def test_the_export_is_closed_when_public_reads_are(client, settings):
    settings.API_PUBLIC_READS = False
    response = client.get(URL)
    assert response.status_code == 401 and "error" in response.json()


def test_formula_cells_in_an_imported_csv_are_kept_as_text_and_exported_inert(client):
    importer = _token_client(_user_with("importer", "add_certification", "change_certification"))
    body = (
        "mentor_id,certification_type,issued_at,mentor_name,mentor_email\n"
        'mntr_01HX4V2K8P,peer_mentor_basic,2026-01-15,"=HYPERLINK(""http://evil"",""x"")",\n'
    )
    answer = importer.post("/api/v1/certifications/import", data=body, content_type="text/csv").json()
    assert answer["totals"]["new"] == 1
    assert Mentor.objects.get().name == '=HYPERLINK("http://evil","x")'  # stored as the text it is
    [row] = read(client.get(URL))
    assert row["mentor_name"] == '\'=HYPERLINK("http://evil","x")'
