"""``/api/v1/mentors``: access, staff pause and resume, and eligibility for a match period."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from rest_framework.test import APIClient

from certifications.eligibility import mentors_eligibility
from certifications.models import Certification, Mentor, MentorStatus
from certifications.services import certification_delete, expiry_job_run
from tests.certifications.api_helpers import client_with
from tests.factories import TEST_ACTOR, CertificationFactory, MentorFactory, cert_type

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 1, 0, tzinfo=UTC)
MENTORS = "/api/v1/mentors"
DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff() -> APIClient:
    return client_with("view_mentor", "change_mentor")


def held(mentor: Mentor, code: str = "peer_mentor_basic", *, expires: dt.datetime, **fields) -> Certification:
    fields.setdefault("issued_at", expires - 700 * DAY)
    return CertificationFactory(mentor=mentor, certification_type=cert_type(code), expires_at=expires, **fields)


def error_code(response) -> str:
    return response.json()["error"]["code"]


# --- Access ----------------------------------------------------------------------------------


def test_mentors_need_credentials_and_view_mentor_whatever_public_reads_says(anon_client, settings):
    settings.API_PUBLIC_READS = True
    mentor = MentorFactory()
    assert anon_client.get(MENTORS).status_code == 401
    assert client_with("view_certification").get(MENTORS).status_code == 403
    assert client_with("view_mentor").get(f"{MENTORS}/{mentor.mentor_id}").status_code == 200
    assert client_with("view_mentor").post(f"{MENTORS}/{mentor.mentor_id}/pause", {}, format="json").status_code == 403


def test_the_list_is_the_envelope_and_filters_by_status(staff):
    MentorFactory.create_batch(2)
    paused = MentorFactory()
    staff.post(f"{MENTORS}/{paused.mentor_id}/pause", {"reason": "On leave"}, format="json")
    body = staff.get(f"{MENTORS}?status=paused&paused_by=staff").json()
    assert body["pagination"]["total"] == 1
    assert body["data"][0]["mentor_id"] == paused.mentor_id
    assert staff.get(f"{MENTORS}?status=sleeping").status_code == 400


# --- Pause and resume --------------------------------------------------------------------------


def test_staff_pause_and_resume(staff):
    mentor = MentorFactory()
    body = staff.post(f"{MENTORS}/{mentor.mentor_id}/pause", {"reason": "On leave"}, format="json").json()
    assert (body["status"], body["paused_by"], body["pause_reason"]) == ("paused", "staff", "On leave")
    assert body["paused_at"] == "2026-03-26T01:00:00Z"
    body = staff.post(f"{MENTORS}/{mentor.mentor_id}/resume", format="json").json()
    assert (body["status"], body["paused_by"], body["paused_at"]) == ("active", None, None)


def test_resuming_an_auto_pause_while_a_record_is_lapsed_is_409_still_lapsed(staff):
    mentor = MentorFactory()
    held(mentor, expires=NOW - 5 * DAY)
    expiry_job_run(now=NOW)
    response = staff.post(f"{MENTORS}/{mentor.mentor_id}/resume", format="json")
    assert response.status_code == 409 and error_code(response) == "still_lapsed"
    assert Mentor.objects.get(pk=mentor.pk).status == MentorStatus.PAUSED


def test_unknown_pause_fields_are_400_and_unknown_mentors_404(staff):
    mentor = MentorFactory()
    response = staff.post(f"{MENTORS}/{mentor.mentor_id}/pause", {"why": "x"}, format="json")
    assert response.status_code == 400 and Mentor.objects.get(pk=mentor.pk).status == MentorStatus.ACTIVE
    assert staff.post(f"{MENTORS}/mntr_ZZZZZZZZ/pause", {}, format="json").status_code == 404


# --- Eligibility -----------------------------------------------------------------------------


def eligibility(client, mentor: Mentor, **query) -> dict:
    response = client.get(f"{MENTORS}/{mentor.mentor_id}/eligibility", query)
    assert response.status_code == 200, response.content
    return response.json()


def test_an_active_mentor_with_a_current_record_is_eligible_through_its_end(staff):
    mentor = MentorFactory()
    cert = held(mentor, expires=NOW + 400 * DAY)
    body = eligibility(staff, mentor)
    assert (body["eligible"], body["reasons"], body["warnings"]) == (True, [], [])
    assert body["eligible_through"] == "2027-04-30T01:00:00Z"
    assert body["certifications"] == [
        {
            "certification_id": cert.certification_id,
            "certification_type": "peer_mentor_basic",
            "expires_at": "2027-04-30T01:00:00Z",
            "lifecycle": "active",
            "grace_until": "2027-04-30T01:00:00Z",
        }
    ]
    later = eligibility(staff, mentor, through="2027-06-01")
    assert (later["eligible"], later["reasons"]) == (False, ["lapses_before:peer_mentor_basic"])
    assert later["eligible_through"] == "2027-04-30T01:00:00Z"


def test_two_types_the_earlier_end_counts_and_one_lapsed_type_makes_the_mentor_ineligible(staff):
    mentor = MentorFactory()
    held(mentor, expires=NOW + 400 * DAY)
    held(mentor, "peer_mentor_advanced", expires=NOW + 200 * DAY)
    assert eligibility(staff, mentor)["eligible_through"] == "2026-10-12T01:00:00Z"
    other = MentorFactory()
    held(other, expires=NOW + 400 * DAY)
    held(other, "peer_mentor_advanced", expires=NOW - 10 * DAY)
    body = eligibility(staff, other)
    assert (body["eligible"], body["eligible_through"]) == (False, None)
    assert body["reasons"] == ["lapsed:peer_mentor_advanced"]


def test_grace_and_renewal_window_warn_without_refusing(staff):
    basic = cert_type("peer_mentor_basic")
    basic.grace_days = 10
    basic.save()
    mentor = MentorFactory()
    held(mentor, expires=NOW - 2 * DAY)
    held(mentor, "peer_mentor_advanced", expires=NOW + 30 * DAY)  # advanced's window: 60 days
    body = eligibility(staff, mentor)
    assert body["eligible"] is True
    assert body["warnings"] == ["renewal_due:peer_mentor_advanced", "in_grace:peer_mentor_basic"]
    assert body["eligible_through"] == "2026-04-03T01:00:00Z"  # basic's grace ends first


def test_superseded_records_never_show_and_deleted_ones_never_count(staff):
    mentor = MentorFactory()
    old = held(mentor, expires=NOW - 30 * DAY, issued_at=NOW - 1000 * DAY)
    new = held(mentor, expires=NOW + 300 * DAY, issued_at=NOW - 20 * DAY)
    body = eligibility(staff, mentor)
    assert [each["certification_id"] for each in body["certifications"]] == [new.certification_id]
    assert old.certification_id not in str(body)
    certification_delete(by=TEST_ACTOR, certification=new, now=NOW)
    body = eligibility(staff, mentor)
    assert body["eligible"] is False and body["reasons"] == ["lapsed:peer_mentor_basic"]


def test_paused_and_certificateless_mentors_say_why(staff):
    bare = MentorFactory()
    assert eligibility(staff, bare)["reasons"] == ["no_certification"]
    paused = MentorFactory()
    held(paused, expires=NOW + 100 * DAY)
    staff.post(f"{MENTORS}/{paused.mentor_id}/pause", {"reason": "Review"}, format="json")
    body = eligibility(staff, paused)
    assert (body["eligible"], body["status"], body["paused_by"], body["reasons"]) == (
        False,
        "paused",
        "staff",
        ["paused_by_staff"],
    )


@pytest.mark.parametrize("through", ["2026-03-25", "2026-03-26T09:00:00", "soon"])
def test_a_through_in_the_past_naive_or_malformed_is_400(staff, through):
    mentor = MentorFactory()
    response = staff.get(f"{MENTORS}/{mentor.mentor_id}/eligibility", {"through": through})
    assert response.status_code == 400 and "through" in response.json()["error"]["fields"]


def test_the_batch_answers_in_request_order_with_unknown_ids(staff):
    first, second = MentorFactory(), MentorFactory()
    held(second, expires=NOW + 100 * DAY)
    ids = [second.mentor_id, "mntr_ZZZZZZZZ", first.mentor_id]
    response = staff.post(f"{MENTORS}/eligibility", {"mentor_ids": ids}, format="json")
    assert response.status_code == 200
    answers = response.json()["data"]
    assert [each["mentor_id"] for each in answers] == ids
    assert [each["eligible"] for each in answers] == [True, False, False]
    assert answers[1]["reasons"] == ["unknown_mentor"] and answers[1]["status"] is None


def test_the_batch_takes_five_queries_whatever_its_size(staff, django_assert_num_queries):
    few = [MentorFactory() for _ in range(2)]
    many = [MentorFactory() for _ in range(60)]
    for mentor in few + many:
        held(mentor, expires=NOW + 100 * DAY)
        held(mentor, "peer_mentor_advanced", expires=NOW - 100 * DAY)
    # The token, the user's and the user's groups' permissions; then the mentors and their records.
    for mentors in (few, many, few + many + [MentorFactory()]):
        with django_assert_num_queries(5):
            ids = [each.mentor_id for each in mentors] + ["mntr_ZZZZZZZZ"]
            assert staff.post(f"{MENTORS}/eligibility", {"mentor_ids": ids}, format="json").status_code == 200
    with django_assert_num_queries(6):  # and the mentor looked up by its path
        eligibility(staff, many[0], through="2026-06-01")


def test_a_batch_answer_lets_go_of_its_data_once_rendered(staff):
    # DRF's view and response refer to each other: data kept on the response would wait for a full collection.
    mentors = [MentorFactory() for _ in range(5)]
    for mentor in mentors:
        held(mentor, expires=NOW + 100 * DAY)
    response = staff.post(f"{MENTORS}/eligibility", {"mentor_ids": [m.mentor_id for m in mentors]}, format="json")
    assert response.status_code == 200 and len(response.json()["data"]) == 5
    assert response.data is None


def test_the_answers_take_two_queries_whatever_their_number(django_assert_num_queries):
    mentors = [MentorFactory() for _ in range(30)]
    for mentor in mentors:
        held(mentor, expires=NOW + 100 * DAY, issued_at=NOW - 600 * DAY)
        held(mentor, expires=NOW + 50 * DAY, issued_at=NOW - 700 * DAY)  # an older record of the type: superseded
    for count in (1, 30):
        with django_assert_num_queries(2):
            answers = mentors_eligibility(mentor_ids=[each.mentor_id for each in mentors[:count]], now=NOW)
        assert [len(each.certifications) for each in answers] == [1] * count


def test_batch_ids_are_read_as_one_mentor_id_field_reads_them(staff):
    first, second = MentorFactory(), MentorFactory()
    held(first, expires=NOW + 100 * DAY)
    # Well-formed ids are taken as they are; others go through the field (which trims) id by id.
    for ids, read in [
        ([first.mentor_id, second.mentor_id], [first.mentor_id, second.mentor_id]),
        ([f" {first.mentor_id}", f"{second.mentor_id}\n"], [first.mentor_id, second.mentor_id]),
    ]:
        response = staff.post(f"{MENTORS}/eligibility", {"mentor_ids": ids}, format="json")
        assert response.status_code == 200, response.content
        assert [each["mentor_id"] for each in response.json()["data"]] == read
    response = staff.post(f"{MENTORS}/eligibility", {"mentor_ids": [first.mentor_id, 7, "mntr_short"]}, format="json")
    assert response.status_code == 400 and set(response.json()["error"]["fields"]) == {"mentor_ids.1", "mentor_ids.2"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mentor_ids": ["mntr_01HX4V2K8P"], "extra": 1}, "extra"),
        ({"mentor_ids": [f"mntr_{n:08d}".replace("0", "A") + "B" for n in range(501)]}, "mentor_ids"),
        ({"mentor_ids": ["mntr_01HX4V2K8P", "mntr_01HX4V2K8P"]}, "mentor_ids"),
        ({"mentor_ids": ["mentor-1"]}, "mentor_ids.0"),
        ({"mentor_ids": []}, "mentor_ids"),
        ({"mentor_ids": ["mntr_01HX4V2K8P"], "through": "2027-01-01T00:00:00"}, "through"),
    ],
)
def test_bad_batches_are_400_naming_the_field(staff, body, field):
    response = staff.post(f"{MENTORS}/eligibility", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


def test_the_batch_is_a_read_view_mentor_is_enough():
    response = client_with("view_mentor").post(
        f"{MENTORS}/eligibility", {"mentor_ids": ["mntr_01HX4V2K8P"]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["data"][0]["reasons"] == ["unknown_mentor"]


def test_the_batch_needs_view_mentor(anon_client):
    assert (
        anon_client.post(f"{MENTORS}/eligibility", {"mentor_ids": ["mntr_01HX4V2K8P"]}, format="json").status_code
        == 401
    )
    assert (
        client_with("view_certification")
        .post(f"{MENTORS}/eligibility", {"mentor_ids": ["mntr_01HX4V2K8P"]}, format="json")
        .status_code
        == 403
    )


def test_the_admin_mentor_page_shows_the_eligibility_answer(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("boss", password="pw-boss"))
    eligible = MentorFactory()
    held(eligible, expires=NOW + 400 * DAY)
    page = client.get(f"/admin/certifications/mentor/{eligible.pk}/change/").content.decode()
    assert 'Eligible</strong> through <span class="ch-nowrap">2027-04-30</span>' in page
    lapsed = MentorFactory()
    held(lapsed, expires=NOW - 40 * DAY)
    page = client.get(f"/admin/certifications/mentor/{lapsed.pk}/change/").content.decode()
    assert "Not eligible</strong>: lapsed:peer_mentor_basic" in page


def test_a_batch_of_500_unknown_ids_answers_each_of_them(staff):
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    ids = [f"mntr_{alphabet[n // 32 % 32]}{alphabet[n % 32]}ZZZZZZZZ" for n in range(500)]
    response = staff.post(f"{MENTORS}/eligibility", {"mentor_ids": ids}, format="json")
    assert response.status_code == 200
    answers = response.json()["data"]
    assert [each["mentor_id"] for each in answers] == ids
    assert all(each["reasons"] == ["unknown_mentor"] and not each["eligible"] for each in answers)


# --- Inputs the schema states (issue 23) --------------------------------------------------------


@pytest.mark.parametrize("reason", [0, 1.5, True, ["On leave"], {"why": "leave"}])
def test_a_pause_reason_that_is_not_a_string_is_a_400_and_pauses_nobody(staff, reason):
    mentor = MentorFactory()
    response = staff.post(f"{MENTORS}/{mentor.mentor_id}/pause", {"reason": reason}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"] == {"reason": ["Must be a string."]}
    assert Mentor.objects.get(pk=mentor.pk).status == MentorStatus.ACTIVE


def test_an_empty_through_means_now_as_an_empty_filter_does(staff):
    mentor = MentorFactory()
    held(mentor, expires=NOW + 30 * DAY)
    assert eligibility(staff, mentor, through="") == eligibility(staff, mentor)
