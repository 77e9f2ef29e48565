"""``GET /api/v1/certifications/export.csv``: the list's filters, streamed, formula cells made inert, never public."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from rest_framework.test import APIClient

from certifications.bulk.export import neutralised
from certifications.models import Certification, Mentor
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
