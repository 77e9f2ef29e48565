"""The export: every member DESIGN lists, the evidence files, and nothing about another mentor."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from access.models import SecurityEvent
from certifications.models import Certification, RenewalRequest
from certifications.services import mentor_erase
from tests.certifications.personal_data.conftest import NOW, PDF
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.django_db
MEMBERS = {
    "mentor.json",
    "certifications.csv",
    "history.json",
    "notifications.json",
    "renewal_requests.json",
    "events.json",
}


@pytest.fixture
def manager() -> APIClient:
    user = User.objects.create_user("dpo")
    user.user_permissions.add(Permission.objects.get(codename="manage_personal_data"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def export(client: APIClient, mentor_id: str) -> zipfile.ZipFile:
    response = client.get(f"/api/v1/mentors/{mentor_id}/export")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/zip" and response.streaming
    assert f"{mentor_id}-personal-data.zip" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None
    return archive


def test_the_export_holds_every_member_and_the_evidence_files(manager, subject):
    archive = export(manager, subject.mentor.mentor_id)
    names = set(archive.namelist())
    evidence = {name for name in names if name.startswith("evidence/")}
    assert names - evidence == MEMBERS and len(evidence) == 2
    assert sorted(archive.read(name) for name in evidence) == sorted([PDF, PDF + b"again"])

    mentor = json.loads(archive.read("mentor.json"))
    assert (mentor["mentor_id"], mentor["name"], mentor["email"]) == (
        subject.mentor.mentor_id,
        subject.name,
        subject.email,
    )
    assert mentor["erased_at"] is None
    rows = list(csv.DictReader(io.StringIO(archive.read("certifications.csv").decode())))
    assert {row["certification_id"] for row in rows} == set(
        Certification.objects.filter(mentor=subject.mentor).values_list("certification_id", flat=True)
    )
    assert {row["mentor_email"] for row in rows} == {subject.email}
    history = json.loads(archive.read("history.json"))
    assert {"mentor", "certification"} <= {row["subject"] for row in history}
    assert any(row["changes"].get("name") == [subject.old_name, subject.name] for row in history)

    notices = json.loads(archive.read("notifications.json"))
    sent = [notice for notice in notices if notice["state"] == "sent"]
    assert sent and all(notice["recipient"] == subject.email and notice["body"] for notice in sent)
    assert any(subject.name in notice["body"] for notice in sent)
    requests = json.loads(archive.read("renewal_requests.json"))
    assert {request["renewal_request_id"] for request in requests} == set(
        RenewalRequest.objects.filter(mentor=subject.mentor).values_list("renewal_request_id", flat=True)
    )
    assert {request["evidence_file"] for request in requests} == evidence
    assert any(subject.name in request["note"] for request in requests)
    events = json.loads(archive.read("events.json"))
    assert {"mentor.paused", "mentor.resumed", "renewal_request.submitted"} <= {event["type"] for event in events}
    assert {event["data"]["mentor_id"] for event in events} == {subject.mentor.mentor_id}


def test_nothing_about_another_mentor_enters_the_export(manager, subject, other):
    archive = export(manager, subject.mentor.mentor_id)
    other_ids = {other.mentor.mentor_id, *other.traces}
    other_ids |= set(Certification.objects.filter(mentor=other.mentor).values_list("certification_id", flat=True))
    other_ids |= set(RenewalRequest.objects.filter(mentor=other.mentor).values_list("renewal_request_id", flat=True))
    for name in archive.namelist():
        content = archive.read(name).decode(errors="replace")
        assert not [needle for needle in other_ids if needle in content or needle in name], name


def test_the_export_is_recorded_in_the_security_log(manager, subject):
    export(manager, subject.mentor.mentor_id)
    row = SecurityEvent.objects.get(kind="personal_data_exported")
    assert (row.detail, row.username) == (subject.mentor.mentor_id, "dpo")


def test_after_erasure_the_export_shows_what_is_kept_and_no_evidence(
    manager, subject, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        mentor_erase(mentor=subject.mentor, reason="Asked to be forgotten", now=NOW, by=TEST_ACTOR)
    archive = export(manager, subject.mentor.mentor_id)
    assert set(archive.namelist()) == MEMBERS
    content = b"".join(archive.read(name) for name in archive.namelist()).decode()
    assert not [trace for trace in subject.traces if trace in content]
    assert json.loads(archive.read("mentor.json"))["erased_at"] == "2026-03-26T01:00:00Z"
