"""Access to the two routes, and every door that names an erased mentor answering 409 ``mentor_erased``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from access.keys import api_key_create
from access.security_log import COMMAND_LINE
from certhub.errors import MentorErased
from certifications.bulk.rows import ImportRow
from certifications.models import Certification, Mentor
from certifications.renewals.links import renewal_path
from certifications.services import (
    certification_create,
    certification_import,
    mentor_erase,
    mentor_update,
    renewal_request_submit,
)
from tests.certifications.personal_data.conftest import NOW, PDF
from tests.factories import TEST_ACTOR, MentorFactory

pytestmark = pytest.mark.django_db
ROUTES = [("get", "export"), ("post", "erase")]


def client_of(*codenames: str, username: str = "someone") -> APIClient:
    user = User.objects.create_user(username)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def call(client: APIClient, method: str, route: str, mentor_id: str, body=None):
    url = f"/api/v1/mentors/{mentor_id}/{route}"
    return (
        client.get(url)
        if method == "get"
        else client.post(url, {"reason": "asked"} if body is None else body, format="json")
    )


@pytest.fixture
def mentor() -> Mentor:
    return MentorFactory(name="Zed Quorum", email="zed.quorum@example.org")


@pytest.fixture
def erased(mentor) -> Mentor:
    certification_create(
        mentor_id=mentor.mentor_id,
        certification_type="peer_mentor_basic",
        issued_at=NOW - dt.timedelta(days=30),
        now=NOW,
        by=TEST_ACTOR,
    )
    mentor_erase(mentor=mentor, reason="asked", now=NOW, by=TEST_ACTOR)
    return Mentor.objects.get(pk=mentor.pk)


@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_anonymous_is_401_and_a_user_without_the_permission_403(anon_client, mentor, method, route):
    assert call(anon_client, method, route, mentor.mentor_id).status_code == 401
    # Even a user who may see and change mentors may not hand out or erase their data.
    response = call(client_of("view_mentor", "change_mentor"), method, route, mentor.mentor_id)
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert Mentor.objects.get(pk=mentor.pk).erased_at is None


@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_an_api_key_needs_the_personal_data_scope(mentor, method, route):
    user = User.objects.create_user("machine")
    user.user_permissions.add(Permission.objects.get(codename="manage_personal_data"))
    answers = {}
    for scopes in (["mentors:read", "mentors:write"], ["personal_data:manage"]):
        _, secret = api_key_create(
            user=user,
            name="dpo",
            scopes=scopes,
            expires_at=timezone.now() + dt.timedelta(days=30),
            now=timezone.now(),
            by=None,
            origin=COMMAND_LINE,
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        answers[scopes[0]] = call(client, method, route, mentor.mentor_id).status_code
    assert answers == {"mentors:read": 403, "personal_data:manage": 200}


@pytest.mark.parametrize(("method", "route"), ROUTES)
@pytest.mark.parametrize("mentor_id", ["mntr_0000000000", "nope", "mntr_%27%3B--", "x" * 300, "%E2%80%AE"])
def test_hostile_or_unknown_ids_are_404_in_the_envelope(method, route, mentor_id):
    response = call(client_of("manage_personal_data"), method, route, mentor_id)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_erase_answers_the_mentor_and_erased_at_and_a_repeat_the_first(mentor):
    client = client_of("manage_personal_data", "view_mentor")
    first = call(client, "post", "erase", mentor.mentor_id, {"reason": "Asked to be forgotten"})
    assert first.status_code == 200
    assert first.json() == {"mentor_id": mentor.mentor_id, "erased_at": first.json()["erased_at"]}
    second = call(client, "post", "erase", mentor.mentor_id, {"reason": "again"})
    assert second.status_code == 200 and second.json() == first.json()
    shown = client.get(f"/api/v1/mentors/{mentor.mentor_id}").json()
    assert (shown["name"], shown["email"], shown["erased_at"]) == ("", "", first.json()["erased_at"])


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": 5}, {"reason": "x" * 301}, {"reason": "a", "x": 1}])
def test_erase_without_a_valid_reason_is_400_and_erases_nothing(mentor, body):
    response = call(client_of("manage_personal_data"), "post", "erase", mentor.mentor_id, body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"
    assert Mentor.objects.get(pk=mentor.pk).name == "Zed Quorum"


def assert_erased_409(response) -> None:
    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "mentor_erased"


def test_the_api_refuses_certifications_naming_an_erased_mentor(erased):
    client = client_of("add_certification", "change_certification")
    body = {"mentor_id": erased.mentor_id, "certification_type": "peer_mentor_advanced", "issued_at": "2026-01-01"}
    count = Certification.objects.count()
    assert_erased_409(client.post("/api/v1/certifications", body, format="json"))
    record = Certification.objects.get(mentor=erased)
    assert_erased_409(
        client.patch(f"/api/v1/certifications/{record.certification_id}", {"expires_at": "2030-01-01"}, format="json")
    )
    assert Certification.objects.count() == count


def test_the_services_refuse_mentor_writes_and_renewal_requests(erased):
    with pytest.raises(MentorErased):
        mentor_update(mentor=erased, changes={"name": "Back again"}, now=NOW, by=TEST_ACTOR)
    with pytest.raises(MentorErased):
        renewal_request_submit(
            mentor_id=erased.mentor_id,
            certification_type="peer_mentor_basic",
            issued_at=NOW - dt.timedelta(days=1),
            evidence=ContentFile(PDF, name="x.pdf"),
            now=NOW,
            by=TEST_ACTOR,
        )
    assert Mentor.objects.get(pk=erased.pk).name == ""


def test_the_renewal_request_route_refuses_an_erased_mentor(erased, evidence_dir):
    client = client_of("add_renewalrequest", "view_renewalrequest")
    response = client.post(
        "/api/v1/renewal-requests",
        {
            "mentor_id": erased.mentor_id,
            "certification_type": "peer_mentor_basic",
            "issued_at": "2026-03-20",
            "evidence": ContentFile(PDF, name="x.pdf"),
        },
        format="multipart",
    )
    assert_erased_409(response)


def test_the_mentors_link_shows_the_not_valid_page(erased, client):
    response = client.get(renewal_path(erased))
    assert response.status_code == 409
    assert b"This link is not valid" in response.content


def test_import_rows_naming_an_erased_mentor_are_row_errors(erased):
    rows = [
        ImportRow(
            line=2,
            cells={
                "mentor_id": erased.mentor_id,
                "certification_type": "peer_mentor_advanced",
                "issued_at": "2026-01-01T00:00:00Z",
            },
        )
    ]
    result = certification_import(rows=rows, now=NOW, by=TEST_ACTOR, partial=True)
    [row] = result.rows
    assert row.action == "invalid" and "erased" in str(row.errors)
    assert not Certification.objects.filter(mentor=erased, certification_type__code="peer_mentor_advanced").exists()


def test_the_admin_refuses_an_erased_mentors_form_and_records_naming_them(erased, admin_client):
    change = reverse("admin:certifications_mentor_change", args=[erased.pk])
    response = admin_client.post(change, {"name": "Back again", "email": "back@example.org"})
    assert response.status_code == 200 and b"was erased" in response.content
    add = reverse("admin:certifications_certification_add")
    response = admin_client.post(
        add,
        {
            "mentor_id": erased.mentor_id,
            "certification_type": "1",
            "issued_at_0": "2026-01-01",
            "issued_at_1": "00:00:00",
        },
    )
    assert response.status_code == 200 and b"was erased" in response.content
    assert Mentor.objects.get(pk=erased.pk).name == ""


def test_the_admin_erases_with_a_reason_and_the_typed_mentor_id(mentor, admin_client):
    changelist = reverse("admin:certifications_mentor_changelist")
    base = {"action": "erase_personal_data", "_selected_action": [mentor.pk], "apply": "1", "reason": "asked"}
    response = admin_client.post(changelist, {**base, "confirm": "mntr_WRONG"})
    assert response.status_code == 200 and b"to confirm the erasure" in response.content
    assert Mentor.objects.get(pk=mentor.pk).erased_at is None
    response = admin_client.post(changelist, {**base, "confirm": mentor.mentor_id})
    assert response.status_code == 302
    assert Mentor.objects.get(pk=mentor.pk).erased_at is not None


def test_the_admin_exports_one_mentor(mentor, admin_client):
    changelist = reverse("admin:certifications_mentor_changelist")
    response = admin_client.post(changelist, {"action": "export_personal_data", "_selected_action": [mentor.pk]})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert b"mentor.json" in b"".join(response.streaming_content)
