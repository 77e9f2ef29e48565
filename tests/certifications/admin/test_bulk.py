"""The admin's import (CSV, XLSX: preview, then confirm) and export of the filtered change list."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from import_export.tmp_storages import CacheStorage, MediaStorage

from certifications.admin.bulk import BulkAdminMixin
from certifications.bulk.export import HEADER
from certifications.history.models import HistoryEntry
from certifications.models import Certification, Mentor
from tests.certifications.admin.helpers import staff_user
from tests.factories import CertificationFactory, MentorFactory

pytestmark = pytest.mark.django_db

IMPORT = "/admin/certifications/certification/import/"
CONFIRM = "/admin/certifications/certification/process_import/"
EXPORT = "/admin/certifications/certification/export/"
COLUMNS = "mentor_id,certification_type,issued_at,expires_at,mentor_name"
GOOD = "mntr_01HX4V2K8P,peer_mentor_basic,2026-01-15,,Ada"


def upload(client, content: bytes, *, name="certs.csv", format_index=0):
    return client.post(
        IMPORT, {"import_file": SimpleUploadedFile(name, content), "format": format_index, "resource": 0}
    )


def test_a_csv_is_previewed_without_writing_then_confirmed_through_the_services(superuser_client):
    preview = upload(superuser_client, f"{COLUMNS}\n{GOOD}\n".encode())
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "New" in page and "mntr_01HX4V2K8P" in page
    assert Certification.objects.count() == 0 and Mentor.objects.count() == 0  # the preview rolled back

    confirm = preview.context["confirm_form"]
    response = superuser_client.post(CONFIRM, confirm.initial)
    assert response.status_code == 302
    cert = Certification.objects.get()
    assert (cert.mentor.mentor_id, cert.mentor.name) == ("mntr_01HX4V2K8P", "Ada")
    [row] = HistoryEntry.objects.filter(subject="certification", object_pk=cert.pk)
    assert (row.source, row.user.username, row.change) == ("import", preview.wsgi_request.user.username, "created")


def test_the_waiting_file_is_kept_where_every_worker_finds_it(settings):
    storage = BulkAdminMixin().get_tmp_storage_class()
    assert storage in (CacheStorage, MediaStorage)  # never a process's temporary folder or memory
    if storage is CacheStorage:
        assert "Redis" in settings.CACHES["default"]["BACKEND"]


def test_an_invalid_row_is_shown_with_its_reason_and_nothing_can_be_confirmed(superuser_client):
    bad = "mntr_01HX4V2K8Q,no_such_type,2026-01-15,,"
    preview = upload(superuser_client, f"{COLUMNS}\n{GOOD}\n{bad}\n".encode())
    page = preview.content.decode()
    assert "Unknown certification type" in page
    assert "confirm_form" not in preview.context or preview.context["confirm_form"] is None
    assert Certification.objects.count() == 0


def test_unknown_columns_are_named(superuser_client):
    preview = upload(superuser_client, f"{COLUMNS},colour\n{GOOD},red\n".encode())
    assert "unknown columns colour" in preview.content.decode()
    assert Certification.objects.count() == 0


def test_an_xlsx_with_date_cells_imports(superuser_client):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["mentor_id", "certification_type", "issued_at", "expires_at"])
    sheet.append(["mntr_01HX4V2K8P", "peer_mentor_basic", dt.datetime(2026, 1, 15), dt.datetime(2028, 1, 15)])
    content = io.BytesIO()
    book.save(content)
    preview = upload(superuser_client, content.getvalue(), name="certs.xlsx", format_index=1)
    assert preview.status_code == 200 and preview.context.get("confirm_form") is not None
    superuser_client.post(CONFIRM, preview.context["confirm_form"].initial)
    cert = Certification.objects.get()
    assert cert.expires_at == dt.datetime(2028, 1, 15, tzinfo=dt.UTC)


def test_importing_needs_add_and_change_permission(viewer_client):
    response = viewer_client.get(IMPORT)
    assert response.status_code == 403


def export(client, query: str = "") -> list[dict]:
    response = client.post(f"{EXPORT}{query}", {"format": 0, "resource": 0, "certificationresource_mentor_id": "on"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_export_is_the_filtered_change_list_with_formula_cells_made_inert(superuser_client):
    CertificationFactory()
    mentor = MentorFactory(name="=cmd|' /C calc'!A0")
    revoked = CertificationFactory(
        mentor=mentor, status="revoked", revoked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), revocation_reason="x"
    )
    rows = export(superuser_client, "?status__exact=revoked")
    assert [row["certification_id"] for row in rows] == [revoked.certification_id]
    assert rows[0]["mentor_name"] == "'=cmd|' /C calc'!A0"
    assert tuple(rows[0]) == HEADER  # the API export's columns, in its order
    assert len(export(superuser_client)) == 2


def test_the_export_needs_view_mentor_too_as_in_the_api(client):
    """The rows name mentors and hold their addresses: a staff user without view_mentor gets no export."""
    mentor = MentorFactory(name="Wilhelmina Stroud", email="wilhelmina.stroud@example.org")
    CertificationFactory(mentor=mentor)
    client.force_login(staff_user("records", "view_certification", "change_certification"))
    page = client.get("/admin/certifications/certification/")
    assert page.status_code == 200 and EXPORT not in page.content.decode()  # no Export button
    response = client.post(EXPORT, {"format": 0, "resource": 0, "certificationresource_mentor_id": "on"})
    assert response.status_code == 403
    assert b"Stroud" not in (b"".join(response.streaming_content) if response.streaming else response.content)

    client.force_login(staff_user("both", "view_certification", "view_mentor"))
    assert EXPORT in client.get("/admin/certifications/certification/").content.decode()
    [row] = export(client)
    assert (row["mentor_name"], row["mentor_email"]) == (mentor.name, mentor.email)


@pytest.mark.parametrize("format_index", [0, 1])  # CSV, XLSX
def test_an_exported_file_imports_back_unchanged_in_the_admin_too(superuser_client, format_index):
    """The export's ``'`` before a formula character is taken off again on import: every row skipped."""
    names = ["=SUM(A1)", "+44 20 7946 0000", "-minus", "@handle", "'=quoted already"]
    for name in names:
        CertificationFactory(mentor=MentorFactory(name=name, email="x@example.org"))
    response = superuser_client.post(
        EXPORT, {"format": format_index, "resource": 0, "certificationresource_mentor_id": "on"}
    )
    content = b"".join(response.streaming_content) if response.streaming else response.content
    name = "certs.xlsx" if format_index else "certs.csv"
    preview = upload(superuser_client, content, name=name, format_index=format_index)
    totals = preview.context["result"].totals
    assert (totals["new"], totals["update"], totals["skip"], totals["invalid"]) == (0, 0, 5, 0)
    assert sorted(Mentor.objects.values_list("name", flat=True)) == sorted(names)


def test_an_admin_import_changing_a_mentor_needs_change_mentor_too(client):
    """The API's rule: a row that renames a mentor or changes their address is invalid without change_mentor."""
    mentor = MentorFactory(mentor_id="mntr_01HX4V2K8P", name="Ada", email="ada@example.org")
    CertificationFactory(mentor=mentor, issued_at=dt.datetime(2026, 1, 15, tzinfo=dt.UTC))
    client.force_login(staff_user("records", "view_certification", "add_certification", "change_certification"))
    row = "mntr_01HX4V2K8P,peer_mentor_basic,2026-01-15,mallory@evil.example"
    preview = upload(client, f"mentor_id,certification_type,issued_at,mentor_email\n{row}\n".encode())
    assert preview.status_code == 200
    assert preview.context["result"].totals["invalid"] == 1
    assert "needs the certifications.change_mentor permission" in preview.content.decode()
    assert "confirm_form" not in preview.context or preview.context["confirm_form"] is None
    mentor.refresh_from_db()
    assert mentor.email == "ada@example.org"
