"""``POST /api/v1/certifications/import``: a CSV applied row by row through the services, and its edge cases."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.handlers.wsgi import LimitedStream
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import force_authenticate

from certifications.api.imports import CertificationImportViewSet
from certifications.history.models import HistoryEntry
from certifications.models import AutoPauseLog, Certification, LogEvent, Mentor, MentorStatus
from certifications.services import expiry_job_run
from tests.certhub.test_schema import _check
from tests.conftest import _token_client, _user_with
from tests.factories import CertificationFactory, MentorFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/certifications/import"
HEADER = "mentor_id,certification_type,issued_at,expires_at,mentor_name,mentor_email,action,revocation_reason"
ROWS = [
    "mntr_01HX4V2K8P,peer_mentor_basic,2026-01-15,,Ada Lovelace,ada@example.org,,",
    "mntr_01HX4V2K8Q,peer_mentor_advanced,2025-06-01T00:00:00Z,2027-06-01T00:00:00Z,,,,",
    "mntr_01HX4V2K8R,peer_mentor_basic,2024-02-01T09:30:00+02:00,2027-02-01T00:00:00Z,,,revoke,Audit finding",
]


def csv(*rows: str, header: str = HEADER, newline: str = "\n") -> str:
    return newline.join([header, *rows]) + newline


@pytest.fixture
def importer():
    return _token_client(_user_with("importer", "add_certification", "change_certification", "view_certification"))


def post(client, body: str | bytes, **params):
    query = "&".join(f"{name}={value}" for name, value in params.items())
    return client.post(f"{URL}?{query}" if query else URL, data=body, content_type="text/csv")


def state() -> dict:
    return {
        "certifications": list(Certification.objects.order_by("pk").values()),
        "mentors": list(Mentor.objects.order_by("pk").values()),
        "history": HistoryEntry.objects.count(),
    }


def test_an_import_creates_records_and_mentors_through_the_services(importer, client):
    response = post(importer, csv(*ROWS))
    assert response.status_code == 200, response.content
    _check(client.get("/api/schema/", {"format": "json"}).json(), "/api/v1/certifications/import", "post", response)
    body = response.json()
    assert (body["dry_run"], body["applied"]) == (False, True)
    assert body["totals"] == {"new": 3, "updated": 0, "skipped": 0, "invalid": 0}
    assert [row["line"] for row in body["rows"]] == [2, 3, 4]
    first = Certification.objects.get(certification_id=body["rows"][0]["certification_id"])
    assert first.expires_at == dt.datetime(2029, 1, 15, tzinfo=dt.UTC)  # a bare date: midnight UTC, type's validity
    assert (first.mentor.name, first.mentor.email) == ("Ada Lovelace", "ada@example.org")
    revoked = Certification.objects.get(certification_id=body["rows"][2]["certification_id"])
    assert (revoked.status, revoked.revocation_reason) == ("revoked", "Audit finding")
    assert revoked.issued_at == dt.datetime(2024, 2, 1, 7, 30, tzinfo=dt.UTC)
    rows = HistoryEntry.objects.filter(subject="certification", object_pk=first.pk)
    assert [(row.source, row.actor, row.change) for row in rows] == [("import", "importer", "created")]


def test_reimporting_the_same_file_changes_nothing_and_skips_every_row(importer):
    post(importer, csv(*ROWS))
    before = state()
    body = post(importer, csv(*ROWS)).json()
    assert body["totals"] == {"new": 0, "updated": 0, "skipped": 3, "invalid": 0}
    assert state() == before


def test_one_invalid_row_applies_nothing_unless_partial(importer):
    rows = [ROWS[0], "mntr_01HX4V2K8Q,no_such_type,2025-06-01,,,,,", ROWS[2]]
    body = post(importer, csv(*rows)).json()
    assert (body["applied"], body["totals"]) == (False, {"new": 2, "updated": 0, "skipped": 0, "invalid": 1})
    invalid = body["rows"][1]
    assert (invalid["line"], invalid["action"]) == (3, "invalid")
    assert invalid["errors"] == {"certification_type": ["Unknown certification type 'no_such_type'."]}
    assert all(row["certification_id"] is None for row in body["rows"])
    assert Certification.objects.count() == 0 and Mentor.objects.count() == 0

    body = post(importer, csv(*rows), partial="true").json()
    assert (body["applied"], body["totals"]["new"], body["totals"]["invalid"]) == (True, 2, 1)
    assert Certification.objects.count() == 2


def test_a_dry_run_reports_what_the_import_would_do_and_writes_nothing(importer):
    before = state()
    dry = post(importer, csv(*ROWS), dry_run="true").json()
    assert (dry["dry_run"], dry["applied"], dry["totals"]["new"]) == (True, False, 3)
    assert state() == before
    real = post(importer, csv(*ROWS)).json()
    assert [row["action"] for row in real["rows"]] == [row["action"] for row in dry["rows"]]


def test_a_bom_crlf_line_ends_and_a_trailing_empty_line_are_accepted(importer):
    body = ("\ufeff" + csv(ROWS[0], ROWS[1], newline="\r\n") + "\r\n").encode()
    response = post(importer, body)
    assert response.status_code == 200
    assert response.json()["totals"]["new"] == 2
    assert [row["line"] for row in response.json()["rows"]] == [2, 3]


def test_line_numbers_count_the_header_as_line_one_and_skip_nothing_for_blank_lines(importer):
    body = csv(ROWS[0], "", "mntr_BAD,peer_mentor_basic,2026-01-15,,,,,")
    [_, bad] = post(importer, body, partial="true").json()["rows"]
    assert (bad["line"], bad["action"]) == (4, "invalid")
    assert "mentor_id" in bad["errors"]


def test_unknown_columns_are_a_400_naming_them(importer):
    response = post(
        importer,
        csv(
            "mntr_01HX4V2K8P,peer_mentor_basic,2026-01-15,x,y",
            header="mentor_id,certification_type,issued_at,colour,shoe_size",
        ),
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert "colour" in error["message"] and "shoe_size" in error["message"]
    assert set(error["fields"]) == {"colour", "shoe_size"}


def test_a_missing_required_column_is_a_400(importer):
    response = post(importer, csv("mntr_01HX4V2K8P,2026-01-15", header="mentor_id,issued_at"))
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"certification_type": ["Missing required column."]}


def test_an_empty_file_and_bad_bytes_are_a_400(importer):
    assert post(importer, "").status_code == 400
    assert post(importer, b"\xff\xfe\x00bad").status_code == 400


def test_a_duplicate_row_inside_the_file_is_invalid_naming_the_first(importer):
    body = post(importer, csv(ROWS[0], ROWS[0].replace("2026-01-15", "2026-01-15T00:00:00Z"))).json()
    assert body["applied"] is False
    assert body["rows"][1]["errors"] == {"row": ["Duplicate of line 2 (same mentor, type and issued_at)."]}


def test_a_date_time_without_a_zone_is_invalid_with_a_clear_message_and_a_bare_date_is_midnight_utc(importer):
    body = post(importer, csv("mntr_01HX4V2K8P,peer_mentor_basic,2026-01-15T10:00:00,,,,,")).json()
    assert body["rows"][0]["errors"] == {
        "issued_at": ["A timestamp needs a zone: end it with Z or an offset such as +02:00."]
    }


def test_an_import_that_renews_a_lapsed_record_resumes_the_mentor_with_an_auto_resume_row(importer):
    cert = CertificationFactory(
        issued_at=dt.datetime(2023, 3, 1, tzinfo=dt.UTC), expires_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    )
    expiry_job_run(now=timezone.now())
    assert Mentor.objects.get(pk=cert.mentor.pk).status == MentorStatus.PAUSED
    history_before = HistoryEntry.objects.count()
    row = f"{cert.mentor.mentor_id},peer_mentor_basic,2023-03-01T00:00:00Z,2030-03-01T00:00:00Z,,,,"
    body = post(importer, csv(row)).json()
    assert body["totals"]["updated"] == 1
    mentor = Mentor.objects.get(pk=cert.mentor.pk)
    assert mentor.status == MentorStatus.ACTIVE
    log = AutoPauseLog.objects.get(event=LogEvent.AUTO_RESUME)
    assert log.reason == "Certification peer_mentor_basic renewed until 2030-03-01"
    # Every object the import changed has its row: the record (renewal, flag cleared) and the mentor.
    new_rows = HistoryEntry.objects.order_by("id")[history_before:]
    assert sorted((row.subject, row.source) for row in new_rows) == [
        ("certification", "import"),
        ("certification", "import"),
        ("mentor", "import"),
    ]


def test_mentor_columns_update_an_existing_mentor(importer):
    mentor = MentorFactory(mentor_id="mntr_01HX4V2K8P", name="Ada", email="")
    CertificationFactory(mentor=mentor, issued_at=dt.datetime(2026, 1, 15, tzinfo=dt.UTC))
    row = "mntr_01HX4V2K8P,peer_mentor_basic,2026-01-15,,Ada L.,ada@example.org,,"
    mentor_editor = _token_client(_user_with("editor", "add_certification", "change_certification", "change_mentor"))
    body = post(mentor_editor, csv(row)).json()
    assert body["totals"]["updated"] == 1
    assert Mentor.objects.filter(pk=mentor.pk, name="Ada L.", email="ada@example.org").exists()


@pytest.mark.parametrize("partial", ["false", "true"])
def test_a_row_changing_a_mentors_name_or_email_needs_change_mentor(importer, partial):
    """Certification permissions do not reach a person's details: the row is invalid and says why."""
    mentor = MentorFactory(mentor_id="mntr_01HX4V2K8P", name="Ada", email="ada@example.org")
    CertificationFactory(mentor=mentor, issued_at=dt.datetime(2026, 1, 15, tzinfo=dt.UTC))
    hijack = "mntr_01HX4V2K8P,peer_mentor_basic,2026-01-15,,Mallory,mallory@evil.example,,"
    same = "mntr_01HX4V2K8P,peer_mentor_advanced,2026-02-01,,Ada,ada@example.org,,"  # names nothing new
    new_mentor = "mntr_02BY7M3RLQ,peer_mentor_basic,2026-01-15,,Grace,grace@example.org,,"  # a first mention
    before = state()
    response = post(importer, csv(hijack, same, new_mentor), partial=partial)
    assert response.status_code == 200
    body = response.json()
    assert [row["action"] for row in body["rows"]] == ["invalid", "new", "new"]
    assert body["applied"] is (partial == "true")
    message = "Changing an existing mentor's name and email needs the certifications.change_mentor permission."
    assert body["rows"][0]["errors"] == {"mentor_name": [message], "mentor_email": [message]}
    mentor.refresh_from_db()
    assert (mentor.name, mentor.email) == ("Ada", "ada@example.org")
    if partial == "false":
        assert state() == before
    else:
        assert Mentor.objects.get(mentor_id="mntr_02BY7M3RLQ").email == "grace@example.org"
        assert Certification.objects.filter(mentor=mentor).count() == 2


def test_a_row_changing_only_the_email_is_refused_naming_the_email(importer):
    mentor = MentorFactory(mentor_id="mntr_01HX4V2K8P", name="Ada", email="ada@example.org")
    CertificationFactory(mentor=mentor, issued_at=dt.datetime(2026, 1, 15, tzinfo=dt.UTC))
    row = "mntr_01HX4V2K8P,peer_mentor_basic,2026-01-15,,,mallory@evil.example,,"
    body = post(importer, csv(row), dry_run="true").json()
    message = "Changing an existing mentor's email needs the certifications.change_mentor permission."
    assert body["rows"] == [
        {"line": 2, "action": "invalid", "certification_id": None, "errors": {"mentor_email": [message]}}
    ]


def test_more_rows_than_import_max_rows_is_a_413(importer, settings):
    settings.IMPORT_MAX_ROWS = 2
    response = post(importer, csv(*ROWS))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert Certification.objects.count() == 0


@pytest.mark.parametrize("limit", ["max_rows", "max_bytes"])
def test_a_413_names_its_limit_as_the_schema_documents_it(importer, client, settings, limit):
    settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_BYTES = (2, 10_000) if limit == "max_rows" else (50, 100)

    response = post(importer, csv(*ROWS))

    assert response.status_code == 413
    assert response.json()["error"][limit] == (2 if limit == "max_rows" else 100)
    _check(client.get("/api/schema/", {"format": "json"}).json(), URL, "post", response)  # no undocumented key


class Endless(io.RawIOBase):
    """A request body that never ends, counting what was read of it."""

    def __init__(self) -> None:
        self.read_bytes = 0
        self.line = (("mntr_01HX4V2K8P,peer_mentor_basic,2026-01-15,,,,," + " " * 60) + "\n").encode()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = len(buffer)
        data = (self.line * (size // len(self.line) + 1))[:size]
        buffer[:size] = data
        self.read_bytes += size
        return size


def _upload(settings, meta: dict):
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    user = _user_with("big", "add_certification", "change_certification")
    stream = Endless()
    request = RequestFactory().generic("POST", URL, content_type="text/csv")
    request.META.update({"wsgi.input": stream, "CONTENT_TYPE": "text/csv", **meta})
    if "CONTENT_LENGTH" not in meta:
        request.META.pop("CONTENT_LENGTH", None)  # a chunked upload: the length is not known in advance
    request._stream = stream if "CONTENT_LENGTH" not in meta else LimitedStream(stream, int(meta["CONTENT_LENGTH"]))
    request._read_started = False
    force_authenticate(request, user=user)
    response = CertificationImportViewSet.as_view({"post": "create"})(request)
    return response, stream


def test_a_100_mb_upload_is_refused_before_any_of_it_is_read(settings):
    response, stream = _upload(settings, {"CONTENT_LENGTH": str(100 * 1024 * 1024)})
    assert response.status_code == 413
    assert stream.read_bytes == 0


def test_an_upload_without_a_length_is_refused_once_past_the_limit(settings):
    response, stream = _upload(settings, {})
    assert response.status_code == 413
    assert stream.read_bytes <= settings.IMPORT_MAX_BYTES + 128 * 1024  # never the whole (endless) body


def test_a_multipart_file_is_accepted_and_a_missing_file_is_a_400(importer):
    upload = io.BytesIO(csv(ROWS[0]).encode())
    upload.name = "certifications.csv"
    response = importer.post(URL, {"file": upload}, format="multipart")
    assert response.status_code == 200 and response.json()["totals"]["new"] == 1
    response = importer.post(URL, {"other": "x"}, format="multipart")
    assert response.status_code == 400 and response.json()["error"]["fields"] == {"file": ["Required."]}


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data", "multipart/form-data; boundary=", 'multipart/form-data; boundary=""']
)
def test_a_multipart_body_without_a_boundary_is_a_400_and_applies_nothing(importer, client, content_type):
    response = importer.generic("POST", URL, csv(ROWS[0]).encode(), content_type=content_type)

    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "parse_error"
    _check(client.get("/api/schema/", {"format": "json"}).json(), URL, "post", response)
    assert Certification.objects.count() == 0


def test_json_is_a_415(importer):
    response = importer.post(URL, {"rows": []}, format="json")
    assert response.status_code == 415 and "error" in response.json()


def test_an_idempotency_key_replays_the_first_answer_and_refuses_another_file(importer):
    first = importer.post(URL, data=csv(ROWS[0]), content_type="text/csv", HTTP_IDEMPOTENCY_KEY="import-1")
    again = importer.post(URL, data=csv(ROWS[0]), content_type="text/csv", HTTP_IDEMPOTENCY_KEY="import-1")
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert Certification.objects.count() == 1
    other = importer.post(URL, data=csv(ROWS[1]), content_type="text/csv", HTTP_IDEMPOTENCY_KEY="import-1")
    assert other.status_code == 422
    dry = importer.post(
        f"{URL}?dry_run=true", data=csv(ROWS[0]), content_type="text/csv", HTTP_IDEMPOTENCY_KEY="import-1"
    )
    assert dry.status_code == 422  # another request: the flags are part of it


def test_an_import_needs_add_and_change_certification(anon_client):
    assert post(anon_client, csv(*ROWS)).status_code == 401
    only_add = _token_client(_user_with("adder", "add_certification"))
    response = post(only_add, csv(*ROWS))
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert Certification.objects.count() == 0


def test_a_bad_flag_is_a_400(importer):
    response = post(importer, csv(*ROWS), dry_run="maybe")
    assert response.status_code == 400 and "dry_run" in response.json()["error"]["fields"]


def test_an_empty_flag_means_its_default(importer):
    body = post(importer, csv(ROWS[0]), partial="", dry_run="").json()
    assert (body["dry_run"], body["applied"]) == (False, True)


def test_an_email_longer_than_a_mentor_can_hold_is_an_invalid_row_not_a_refused_file(importer):
    email = ("a" * 64) + "@" + ".".join(["b" * 60] * 4) + ".org"  # well-formed, 312 characters
    body = post(importer, csv(f"mntr_01HX4V2K8P,peer_mentor_basic,2026-01-15,,Ada,{email},,", ROWS[1]), partial="true")
    assert body.status_code == 200, body.content
    rows = body.json()["rows"]
    assert rows[0]["action"] == "invalid"
    assert rows[0]["errors"] == {"mentor_email": ["At most 254 characters."]}
    assert rows[1]["action"] == "new"
    assert not Mentor.objects.filter(mentor_id="mntr_01HX4V2K8P").exists()


def test_imported_names_are_stored_on_one_line_and_an_unchanged_name_is_skipped():
    importer = _token_client(_user_with("editor", "add_certification", "change_certification", "change_mentor"))
    MentorFactory(mentor_id="mntr_01HX4V2K8Q", name="Grace Hopper")
    MentorFactory(mentor_id="mntr_01HX4V2K8R", name="Old Name")
    rows = [
        'mntr_01HX4V2K8P,peer_mentor_basic,2026-01-15,,"Ada\r\nLovelace\u202e",,,',  # a new mentor (bulk road)
        'mntr_01HX4V2K8Q,peer_mentor_basic,2026-01-15,,"Grace\r\n Hopper\u2066",,,',  # the same name, once clean
        'mntr_01HX4V2K8R,peer_mentor_basic,2026-01-15,,"New\tName\x07",,,',  # a changed name
    ]
    body = post(importer, csv(*rows)).json()
    assert body["totals"] == {"new": 3, "updated": 0, "skipped": 0, "invalid": 0}, body
    names = dict(Mentor.objects.values_list("mentor_id", "name"))
    assert names == {
        "mntr_01HX4V2K8P": "Ada Lovelace",
        "mntr_01HX4V2K8Q": "Grace Hopper",
        "mntr_01HX4V2K8R": "New Name",
    }
    # The clean name was not rewritten: only the creation and the changed name left mentor history.
    changed = HistoryEntry.objects.filter(subject="mentor", change="changed")
    assert [row.changes["name"] for row in changed] == [["Old Name", "New Name"]]


@pytest.mark.parametrize("query", ["dry_run=true&dry_run=false", "partial=false&partial=true", "dry_run=true&dry_run="])
def test_a_flag_given_twice_is_a_400_and_applies_nothing(importer, query):
    response = importer.post(f"{URL}?{query}", data=csv(*ROWS), content_type="text/csv")
    assert response.status_code == 400, response.content
    flag = query.split("=")[0]
    assert response.json()["error"]["fields"] == {flag: ["Give this flag once."]}
    assert Certification.objects.count() == 0 and Mentor.objects.count() == 0


def test_two_multipart_files_are_a_400_and_neither_is_applied(importer):
    first, second = io.BytesIO(csv(ROWS[0]).encode()), io.BytesIO(csv(ROWS[1]).encode())
    first.name, second.name = "first.csv", "second.csv"
    response = importer.post(URL, {"file": [first, second]}, format="multipart")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"] == {"file": ["One file only."]}
    assert Certification.objects.count() == 0 and Mentor.objects.count() == 0
