"""The certification pages: list, filters, search, N+1-free lists, add and edit through the services, permissions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from certifications import services
from certifications.models import (
    AutoPauseLog,
    Certification,
    CertificationStatus,
    CertificationType,
    JobTrigger,
    LogEvent,
    Mentor,
    MentorStatus,
)
from tests.certifications.admin.helpers import (
    CERTS,
    DAY,
    LOGS,
    MENTORS,
    RUNS,
    UTC,
    VIEW_PERMS,
    act,
    auto_paused_cert,
    change_data,
    clock,
    dt_fields,
    listed_ids,
    make_cert,
    messages_of,
    snapshot,
    staff_user,
)
from tests.factories import MentorFactory, cert_type

pytestmark = pytest.mark.django_db


# --- Certifications: list, filters, search --------------------------------------------------


def test_changelist_columns_say_when_each_record_expires_or_lapsed(coordinator_client):
    soon = make_cert(days=10.5)
    far = make_cert(days=120.5)
    lapsed = make_cert(days=-3.5)
    revoked = make_cert(days=50, status=CertificationStatus.REVOKED, revoked_at=clock())
    old = make_cert(days=-40)
    make_cert(days=300, mentor=old.mentor)  # renews ``old``

    html = coordinator_client.get(CERTS).content.decode()

    def row(cert):
        return html.split(f">{cert.certification_id}</a>")[1].split("</tr>")[0]

    assert "expires in 10 days" in row(soon) and "ch-soon" in row(soon)
    assert "expires in 120 days" in row(far)
    assert "lapsed 3 days ago" in row(lapsed)
    assert "lapsed (revoked)" in row(revoked)
    assert "renewed" in row(old)
    assert soon.mentor.mentor_id in row(soon)


@pytest.mark.parametrize(
    ("window", "expected"), [("30", {"d10"}), ("60", {"d10", "d45"}), ("90", {"d10", "d45", "d80"})]
)
def test_expiring_within_filter(coordinator_client, window, expected):
    certs = {f"d{days}": make_cert(days=days) for days in (10, 45, 80, 200)}
    make_cert(days=-1)
    response = coordinator_client.get(CERTS, {"expiring": window})
    assert listed_ids(response) == {certs[key].certification_id for key in expected}


def test_lapsed_filters_split_due_from_applied(coordinator_client):
    applied = auto_paused_cert()
    due = make_cert(days=-1)
    revoked_due = make_cert(days=30, status=CertificationStatus.REVOKED, revoked_at=clock())
    make_cert(days=10)
    covered = make_cert(days=-3)
    make_cert(days=100, mentor=covered.mentor)  # a renewal: not lapsed

    expected_due = {due.certification_id, revoked_due.certification_id}
    assert listed_ids(coordinator_client.get(CERTS, {"lapsed": "due"})) == expected_due
    assert set(Certification.objects.due(now=clock()).values_list("certification_id", flat=True)) == expected_due
    assert listed_ids(coordinator_client.get(CERTS, {"lapsed": "applied"})) == {applied.certification_id}
    assert listed_ids(coordinator_client.get(CERTS, {"lapsed": "any"})) == expected_due | {applied.certification_id}


def test_deleted_records_are_hidden_by_default_and_listed_by_the_filter(coordinator_client):
    live = make_cert(days=100)
    gone = make_cert(days=100, deleted_at=clock())
    assert listed_ids(coordinator_client.get(CERTS)) == {live.certification_id}
    assert listed_ids(coordinator_client.get(CERTS, {"deleted": "yes"})) == {gone.certification_id}
    assert listed_ids(coordinator_client.get(CERTS, {"deleted": "any"})) == {
        live.certification_id,
        gone.certification_id,
    }


def test_status_type_and_auto_pause_filters(coordinator_client):
    valid = make_cert(days=100)
    advanced = make_cert(days=100, certification_type=cert_type("peer_mentor_advanced"))
    applied = auto_paused_cert()
    assert listed_ids(coordinator_client.get(CERTS, {"status__exact": "expired"})) == {applied.certification_id}
    assert listed_ids(
        coordinator_client.get(CERTS, {"certification_type__id__exact": advanced.certification_type_id})
    ) == {advanced.certification_id}
    assert listed_ids(coordinator_client.get(CERTS, {"auto_pause_applied__exact": "1"})) == {applied.certification_id}
    assert valid.certification_id in listed_ids(coordinator_client.get(CERTS, {"auto_pause_applied__exact": "0"}))


def test_date_hierarchy_on_expiry(coordinator_client):
    cert = make_cert(days=100)
    make_cert(days=500)
    response = coordinator_client.get(
        CERTS, {"expires_at__year": cert.expires_at.year, "expires_at__month": cert.expires_at.month}
    )
    assert listed_ids(response) == {cert.certification_id}


@pytest.mark.parametrize("field", ["certification_id", "mentor_id", "name", "email"])
def test_search_by_certification_id_mentor_id_name_and_email(coordinator_client, field):
    mentor = MentorFactory(name="Ada Lovelace", email="ada@example.org")
    wanted = make_cert(days=100, mentor=mentor)
    make_cert(days=100, mentor=MentorFactory(name="Alan Turing", email="alan@example.org"))
    term = {
        "certification_id": wanted.certification_id,
        "mentor_id": mentor.mentor_id,
        "name": "lovelace",
        "email": "ada@example",
    }[field]
    assert listed_ids(coordinator_client.get(CERTS, {"q": term})) == {wanted.certification_id}


def _changelist_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("url", "pinned"),
    # The date drill-down reads the tallies once by month, and once more by day when every record it shows
    # expires in one month (which depends on today's date): hence "at most" for the certification lists.
    # One query of each count asks whether the staff user has a second factor (STAFF_MFA=optional, access.factor).
    [(CERTS, 9), (CERTS + "?expiring=90", 10), (MENTORS, 5), (LOGS, 6), (RUNS, 8)],
)
def test_changelists_are_n_plus_one_free(superuser_client, url, pinned):
    def grow(count):
        for _ in range(count):
            mentor = MentorFactory()
            make_cert(days=-2, mentor=mentor)
            make_cert(days=20, mentor=mentor, certification_type=cert_type("peer_mentor_advanced"))
        services.expiry_job_run(now=clock(), trigger=JobTrigger.CLI)

    superuser_client.get(url)  # the session's first request notes its time (access's idle limit): not the list's cost
    grow(5)
    small = _changelist_queries(superuser_client, url)
    grow(45)
    large = _changelist_queries(superuser_client, url)
    assert AutoPauseLog.objects.count() == 50
    assert small == large <= pinned


# --- Certifications: add and edit through the services -------------------------------------------


def test_add_creates_the_mentor_and_derives_expiry_and_status(coordinator_client):
    issued = dt.datetime(2026, 1, 15, tzinfo=UTC)
    data = {"mentor_id": "mntr_01HX4V2K8P", "certification_type": cert_type().pk, **dt_fields("issued_at", issued)}
    response = coordinator_client.post(CERTS + "add/", {**data, "expires_at_0": "", "expires_at_1": ""})
    assert response.status_code == 302
    cert = Certification.objects.get(mentor__mentor_id="mntr_01HX4V2K8P")
    assert cert.expires_at == dt.datetime(2029, 1, 15, tzinfo=UTC)
    assert cert.status == CertificationStatus.VALID
    assert cert.certification_id.startswith("cert_")


@pytest.mark.parametrize(
    ("change", "api_body", "message"),
    [
        ("expires_before_issue", {"expires_at": "2025-01-01T00:00:00Z"}, "expires_at must be later than issued_at."),
        ("duplicate", None, "already holds a peer_mentor_basic certification issued at that time"),
        ("bad_mentor", None, "A mentor id is 'mntr_' followed by 8 to 26 upper-case Crockford base32 characters."),
    ],
)
def test_add_refuses_what_the_api_refuses(coordinator_client, api_client, change, api_body, message):
    existing = make_cert(days=100)
    issued = existing.issued_at if change == "duplicate" else dt.datetime(2026, 1, 15, tzinfo=UTC)
    data = {
        "mentor_id": "mntr_bad" if change == "bad_mentor" else existing.mentor.mentor_id,
        "certification_type": existing.certification_type_id,
        **dt_fields("issued_at", issued),
        **dt_fields("expires_at", dt.datetime(2025, 1, 1, tzinfo=UTC) if api_body else issued + 400 * DAY),
    }
    before = Certification.objects.count()

    response = coordinator_client.post(CERTS + "add/", data)

    assert response.status_code == 200
    assert escape(message) in response.content.decode()
    assert Certification.objects.count() == before
    if api_body:
        api = api_client.post(
            "/api/v1/certifications",
            {
                "mentor_id": existing.mentor.mentor_id,
                "certification_type": "peer_mentor_basic",
                "issued_at": "2026-01-15T00:00:00Z",
                **api_body,
            },
            format="json",
        )
        assert api.status_code == 400 and api.json()["error"]["message"] == message


def test_add_refuses_an_inactive_type_with_the_api_message(coordinator_client):
    retired = CertificationType.objects.create(code="legacy", name="Legacy", validity_months=12, is_active=False)
    data = {
        "mentor_id": "mntr_01HX4V2K8P",
        "certification_type": retired.pk,
        **dt_fields("issued_at", dt.datetime(2026, 1, 15, tzinfo=UTC)),
    }
    response = coordinator_client.post(CERTS + "add/", data)
    assert "Certification type &#x27;legacy&#x27; is inactive." in response.content.decode()
    assert not Mentor.objects.filter(mentor_id="mntr_01HX4V2K8P").exists()  # validation writes nothing


@pytest.mark.parametrize(
    ("days", "status", "api_message"),
    [
        (-10, "valid", "A valid certification must expire in the future."),
        (200, "expired", "An expired certification must have expires_at in the past."),
    ],
)
def test_edit_refuses_a_status_that_disagrees_with_the_dates(coordinator_client, api_client, days, status, api_message):
    cert = make_cert(days=days)

    response = coordinator_client.post(f"{CERTS}{cert.pk}/change/", change_data(cert, status=status))

    api = api_client.patch(f"/api/v1/certifications/{cert.certification_id}", {"status": status}, format="json")
    assert api.status_code == 400 and api.json()["error"]["message"] == api_message
    assert response.status_code == 200
    html = response.content.decode()
    assert api_message in html
    assert api.json()["error"]["fields"]["status"][0].replace("'", "&#x27;") in html
    after = Certification.objects.get(pk=cert.pk)
    assert (after.status, after.expires_at, after.updated_at) == (cert.status, cert.expires_at, cert.updated_at)


def test_edit_renewal_resumes_the_mentor_and_logs_it(coordinator_client):
    cert = auto_paused_cert()
    new_expiry = (clock() + 300 * DAY).replace(microsecond=0)
    response = coordinator_client.post(
        f"{CERTS}{cert.pk}/change/", change_data(cert, **dt_fields("expires_at", new_expiry))
    )
    assert response.status_code == 302
    cert.refresh_from_db()
    assert (cert.status, cert.expires_at, cert.auto_pause_applied) == (CertificationStatus.VALID, new_expiry, False)
    effects = snapshot(cert.mentor)
    assert effects["status"] == MentorStatus.ACTIVE
    assert (
        LogEvent.AUTO_RESUME,
        f"Certification peer_mentor_basic renewed until {new_expiry:%Y-%m-%d}",
        True,
    ) in effects["logs"]


def test_edit_revocation_via_the_form(coordinator_client):
    cert = make_cert(days=100)
    response = coordinator_client.post(
        f"{CERTS}{cert.pk}/change/", change_data(cert, status="revoked", revocation_reason="Withdrawn")
    )
    assert response.status_code == 302
    cert.refresh_from_db()
    assert (cert.status, cert.revocation_reason) == (CertificationStatus.REVOKED, "Withdrawn")
    assert cert.revoked_at is not None


def test_a_deleted_record_is_read_only_until_restored(coordinator_client):
    cert = make_cert(days=100, deleted_at=clock())
    url = f"{CERTS}{cert.pk}/change/"
    page = coordinator_client.get(url)
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert coordinator_client.post(url, change_data(cert, status="revoked")).status_code == 403


# --- Permissions on certifications -----------------------------------------------------------------


def test_staff_without_change_or_delete_permission_see_no_actions(viewer_client):
    cert = make_cert(days=10)
    response = viewer_client.get(CERTS)
    assert response.status_code == 200
    assert response.context["action_form"] is None
    assert viewer_client.get(CERTS + "add/").status_code == 403
    assert viewer_client.post(f"{CERTS}{cert.pk}/change/", change_data(cert, status="revoked")).status_code == 403
    # Posting an action anyway does nothing.
    act(viewer_client, CERTS, "revoke", [cert], apply="Revoke", reason="x")
    cert.refresh_from_db()
    assert cert.status == CertificationStatus.VALID


def test_change_permission_without_delete_hides_delete_and_restore(client):
    client.force_login(staff_user("editor", *VIEW_PERMS, "change_certification"))
    make_cert(days=10)
    actions = dict(client.get(CERTS).context["action_form"].fields["action"].choices)
    assert {"renew", "revoke"} <= set(actions)
    assert not {"soft_delete", "restore", "delete_selected"} & set(actions)


# --- One write per save ------------------------------------------------------------------------------


@pytest.fixture
def service_calls(monkeypatch) -> dict[str, int]:
    """Count the calls the admin makes to the record services (still calling them)."""
    calls: dict[str, int] = {}
    for name in (
        "certification_create",
        "certification_update",
        "certification_validate_create",
        "certification_validate_update",
    ):
        real = getattr(services, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            calls[_name] = calls.get(_name, 0) + 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(services, name, counted)
    return calls


def test_an_edit_that_resumes_validates_once_writes_once_and_names_the_mentor(coordinator_client, service_calls):
    cert = auto_paused_cert()
    new_expiry = clock() + 300 * DAY

    with CaptureQueriesContext(connection) as queries:
        response = coordinator_client.post(
            f"{CERTS}{cert.pk}/change/", change_data(cert, **dt_fields("expires_at", new_expiry)), follow=True
        )

    assert service_calls == {"certification_validate_update": 1, "certification_update": 1}
    sql = [query["sql"] for query in queries.captured_queries]
    assert not [statement for statement in sql if statement.startswith("ROLLBACK")]  # no trial write
    assert (
        len([statement for statement in sql if statement.startswith('INSERT INTO "certifications_autopauselog"')]) == 1
    )
    assert AutoPauseLog.objects.filter(event=LogEvent.AUTO_RESUME).count() == 1
    assert f"Resumed 1 auto-paused mentor: {cert.mentor}." in messages_of(response)


def test_an_edit_that_resumes_nobody_reports_no_resume(coordinator_client, service_calls):
    cert = make_cert(days=100)
    response = coordinator_client.post(
        f"{CERTS}{cert.pk}/change/", change_data(cert, status="revoked", revocation_reason="Withdrawn"), follow=True
    )
    assert service_calls == {"certification_validate_update": 1, "certification_update": 1}
    assert not any("Resumed" in text for text in messages_of(response))


def test_an_add_validates_once_and_writes_once(coordinator_client, service_calls):
    data = {
        "mentor_id": "mntr_01HX4V2K8P",
        "certification_type": cert_type().pk,
        **dt_fields("issued_at", dt.datetime(2026, 1, 15, tzinfo=UTC)),
    }
    response = coordinator_client.post(CERTS + "add/", {**data, "expires_at_0": "", "expires_at_1": ""})
    assert response.status_code == 302
    assert service_calls == {"certification_validate_create": 1, "certification_create": 1}
    assert Certification.objects.filter(mentor__mentor_id="mntr_01HX4V2K8P").count() == 1


def test_a_refused_edit_never_calls_the_write(coordinator_client, service_calls):
    cert = make_cert(days=-10)
    response = coordinator_client.post(f"{CERTS}{cert.pk}/change/", change_data(cert, status="valid"))
    assert response.status_code == 200
    assert service_calls == {"certification_validate_update": 1}
