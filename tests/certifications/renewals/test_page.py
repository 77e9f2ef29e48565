"""The mentor's page ``/renew/<token>``: the signed link, the form, CSRF, the size limit, the rate limit."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import signing
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from certifications.models import Certification, RenewalRequest
from certifications.renewals.links import SALT, renewal_link, renewal_path
from tests.certifications.renewals.conftest import EXE, PDF, stored_files
from tests.factories import CertificationFactory, MentorFactory


@pytest.fixture(autouse=True)
def _fresh_rate_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def held() -> Certification:
    now = timezone.now()
    mentor = MentorFactory(name="Ada Okafor")
    return CertificationFactory(
        mentor=mentor, issued_at=now - dt.timedelta(days=1000), expires_at=now - dt.timedelta(days=5), status="expired"
    )


def form(**overrides) -> dict:
    values = {
        "certification_type": "peer_mentor_basic",
        "issued_at": (timezone.now() - dt.timedelta(days=1)).date().isoformat(),
        "expires_at": "",
        "note": "From my phone",
        "evidence": SimpleUploadedFile("photo.pdf", PDF),
    }
    return {**values, **overrides}


def csrf_post(client: Client, url: str, data: dict, **extra):
    """Open the page (the CSRF cookie), then post the form with its token, as a browser does."""
    page = client.get(url)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    return client.post(url, {**data, "csrfmiddlewaretoken": token}, **extra)


@pytest.mark.django_db
def test_the_page_shows_the_mentors_records_and_the_form(held):
    response = Client().get(renewal_path(held.mentor))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ada Okafor" in page and "Peer mentor" in page and f"Expired on {held.expires_at:%Y-%m-%d}" in page
    assert 'type="file"' in page and "<script" not in page
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.django_db
def test_sending_the_form_records_a_request_from_the_mentors_link_and_confirms(held, evidence_dir):
    client = Client(enforce_csrf_checks=True)
    url = renewal_path(held.mentor)
    response = csrf_post(client, url, form())
    assert response.status_code == 302 and response["Location"] == f"{url}?sent=1"
    request = RenewalRequest.objects.get()
    assert (request.mentor, request.submitted_via, request.note) == (held.mentor, "mentor_link", "From my phone")
    assert request.issued_at.time() == dt.time() and request.expires_at is None
    confirmation = client.get(response["Location"]).content.decode()
    assert "your request is sent" in confirmation and request.renewal_request_id in confirmation
    assert len(stored_files(evidence_dir)) == 1


@pytest.mark.django_db
def test_a_post_without_the_csrf_token_is_refused_and_stores_nothing(held, evidence_dir):
    response = Client(enforce_csrf_checks=True).post(renewal_path(held.mentor), form())
    assert response.status_code == 403
    assert not RenewalRequest.objects.exists() and stored_files(evidence_dir) == []


@pytest.mark.django_db
def test_a_renamed_executable_is_shown_as_an_error_and_stores_nothing(held, evidence_dir):
    response = csrf_post(Client(), renewal_path(held.mentor), form(evidence=SimpleUploadedFile("c.pdf", EXE)))
    assert response.status_code == 400
    assert "PDF, PNG or JPEG" in response.content.decode()
    assert not RenewalRequest.objects.exists() and stored_files(evidence_dir) == []


@pytest.mark.django_db
def test_a_future_issue_date_is_shown_on_its_field(held):
    tomorrow = (timezone.now() + dt.timedelta(days=2)).date().isoformat()
    response = csrf_post(Client(), renewal_path(held.mentor), form(issued_at=tomorrow))
    assert response.status_code == 400 and "cannot be issued in the future" in response.content.decode()
    assert not RenewalRequest.objects.exists()


@pytest.mark.django_db
def test_a_body_declared_too_large_is_a_413_before_it_is_read(held, evidence_dir, settings):
    settings.RENEWAL_EVIDENCE_MAX_BYTES = 1000
    response = Client().post(renewal_path(held.mentor), form(), CONTENT_LENGTH=str(10_000_000))
    assert response.status_code == 413 and "too large" in response.content.decode()
    assert not RenewalRequest.objects.exists() and stored_files(evidence_dir) == []


def _altered(token: str) -> str:
    _value, rest = token.split(":", 1)  # keep the stamp and signature, swap the signed value
    return signing.dumps("mntr_0000000000", salt=SALT).split(":", 1)[0] + ":" + rest


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make_token",
    [
        lambda mentor: "forged",
        lambda mentor: _altered(signing.dumps(mentor.mentor_id, salt=SALT)),
        lambda mentor: signing.dumps(mentor.mentor_id, salt="another.purpose"),
        lambda mentor: signing.dumps(mentor.mentor_id, salt=SALT)[:-1] + "x",
    ],
)
def test_a_bad_token_gets_a_404_that_names_nobody_and_says_whom_to_contact(held, settings, make_token):
    settings.PROGRAM_CONTACT_EMAIL = "coordinators@example.org"
    response = Client().get(f"/renew/{make_token(held.mentor)}")
    assert response.status_code == 404
    page = response.content.decode()
    assert "not valid" in page and "coordinators@example.org" in page
    assert held.mentor.mentor_id not in page and "Ada" not in page


@pytest.mark.django_db
def test_a_link_expires_after_renewal_link_days(held, settings):
    settings.RENEWAL_LINK = {**settings.RENEWAL_LINK, "DAYS": 30}
    path = renewal_path(held.mentor)
    with time_machine.travel(timezone.now() + dt.timedelta(days=29)):
        assert Client().get(path).status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(days=31)):
        assert Client().get(path).status_code == 404


@pytest.mark.django_db
def test_the_page_is_rate_limited_per_address(held, settings):
    settings.RENEWAL_LINK = {**settings.RENEWAL_LINK, "RATE_PER_MINUTE": 3}
    path = renewal_path(held.mentor)
    client = Client(REMOTE_ADDR="198.51.100.7")
    assert [client.get(path).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert Client(REMOTE_ADDR="198.51.100.8").get(path).status_code == 200  # another address


@pytest.mark.django_db
def test_the_link_is_absolute_under_public_base_url_and_absent_without_it(held, settings):
    settings.PUBLIC_BASE_URL = ""
    assert renewal_link(held.mentor) == ""
    settings.PUBLIC_BASE_URL = "https://certhub.example.org"
    link = renewal_link(held.mentor)
    assert link.startswith("https://certhub.example.org/renew/")
    assert Client().get(link.removeprefix("https://certhub.example.org")).status_code == 200
