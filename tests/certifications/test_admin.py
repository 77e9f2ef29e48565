"""The coordinators' admin, through Django's test client.

Every action, filter and permission; the add/edit forms refusing what the API
refuses with the same messages; the admin's writes having the same database
effects as the API's (log rows, auto-resume); N+1-free changelists.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin as django_admin
from django.contrib.admin import helpers
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from certhub.admin import CertHubAdminSite
from certifications import services
from certifications.models import (
    AutoPauseLog,
    Certification,
    CertificationStatus,
    CertificationType,
    ExpiryJobRun,
    JobLock,
    JobTrigger,
    LogEvent,
    Mentor,
    MentorStatus,
    PausedBy,
)
from certifications.services.records import add_months
from tests.factories import CertificationFactory, MentorFactory, cert_type

pytestmark = pytest.mark.django_db

UTC = dt.UTC
DAY = dt.timedelta(days=1)
CERTS = "/admin/certifications/certification/"
MENTORS = "/admin/certifications/mentor/"
RUNS = "/admin/certifications/expiryjobrun/"
RUN_PAGE = "/admin/certifications/expiryjobrun/run/"
LOGS = "/admin/certifications/autopauselog/"
VIEW_PERMS = ("view_certification", "view_mentor", "view_expiryjobrun", "view_autopauselog", "view_certificationtype")


# --- Fixtures and helpers ----------------------------------------------------------------


def _staff(username: str, *codenames: str, groups: tuple[str, ...] = ()) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username, is_staff=True)
    if codenames:
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def coordinator() -> User:
    return _staff("coordinator", groups=("Coordinators",))


@pytest.fixture
def coordinator_client(client, coordinator):
    client.force_login(coordinator)
    return client


@pytest.fixture
def viewer_client(client):
    """Staff who may look at everything and change nothing."""
    client.force_login(_staff("viewer", *VIEW_PERMS))
    return client


@pytest.fixture
def superuser_client(client):
    client.force_login(User.objects.create_superuser("boss", password="pw-boss"))
    return client


def _clock() -> dt.datetime:
    """The admin reads the real clock; whole seconds, as the admin's date-time inputs carry."""
    return timezone.now().replace(microsecond=0)


def _cert(*, days: float, mentor: Mentor | None = None, **fields) -> Certification:
    """A live certification expiring ``days`` from now (negative: already past)."""
    expires_at = _clock() + dt.timedelta(days=days)
    fields.setdefault("status", CertificationStatus.VALID if days > 0 else CertificationStatus.EXPIRED)
    fields.setdefault("issued_at", expires_at - dt.timedelta(days=3 * 365))
    if mentor is not None:
        fields["mentor"] = mentor
    return CertificationFactory(expires_at=expires_at, **fields)


def _auto_paused_cert(**fields) -> Certification:
    """A lapsed certification whose mentor the expiry job has paused."""
    cert = _cert(days=-5, **fields)
    services.expiry_job_run(now=_clock(), trigger=JobTrigger.CLI)
    cert.refresh_from_db()
    assert cert.auto_pause_applied and cert.mentor.status == MentorStatus.PAUSED
    return cert


def _ids(response) -> set[str]:
    return {obj.certification_id for obj in response.context["cl"].result_list}


def _act(client, url: str, action: str, objs, **data):
    """Post an admin action for ``objs`` (``apply`` posts the intermediate page's form too)."""
    payload = {"action": action, helpers.ACTION_CHECKBOX_NAME: [obj.pk for obj in objs], **data}
    if "apply" not in data:
        payload["index"] = 0
    return client.post(url, payload, follow=True)


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _snapshot(mentor: Mentor) -> dict:
    """What a write did to a mentor, without ids or times: to compare admin and API effects."""
    mentor.refresh_from_db()
    return {
        "status": mentor.status,
        "paused_by": mentor.paused_by,
        "pause_reason": mentor.pause_reason,
        "logs": sorted(
            (row.event, row.reason.replace(row.certification.certification_id, "<id>"), row.job_run_id is None)
            for row in AutoPauseLog.objects.filter(mentor=mentor).select_related("certification")
        ),
        "certs": sorted(
            (cert.status, cert.auto_pause_applied, cert.deleted_at is None)
            for cert in Certification.objects.filter(mentor=mentor)
        ),
    }


# --- The site and its dashboard ------------------------------------------------------------


def test_admin_site_is_certhubs_and_keeps_the_beat_schedule(coordinator_client):
    assert isinstance(django_admin.site, CertHubAdminSite)
    response = coordinator_client.get("/admin/django_celery_beat/periodictask/")
    assert response.status_code == 200
    assert "expiry job daily at 01:00 UTC" in response.content.decode()


def test_dashboard_counts_what_a_coordinator_checks_first(coordinator_client):
    _cert(days=10)
    _cert(days=25)
    _cert(days=100)
    _cert(days=400)
    CertificationFactory(expires_at=_clock() + 5 * DAY, deleted_at=_clock())  # deleted: not counted
    lapsed = _cert(days=-2)
    staff_paused = MentorFactory()
    services.mentor_pause(mentor=staff_paused, now=_clock(), reason="On leave")
    auto = _auto_paused_cert()
    # The job above applied ``lapsed`` too; a fresh one stays due.
    due = _cert(days=-1)

    response = coordinator_client.get("/admin/")

    assert response.status_code == 200
    board = response.context["dashboard"]
    assert board.valid == 4
    assert board.expiring_soon == 2
    assert board.lapsed_awaiting_job == 1
    assert board.paused_auto == 2  # ``lapsed`` and ``auto``'s mentors
    assert board.paused_staff == 1
    assert board.last_run.trigger == JobTrigger.CLI
    assert sum(bar.count for bar in board.months) == 3  # the 400-day one is beyond 12 months
    assert len(board.months) == 12
    assert max(bar.percent for bar in board.months) == 100
    html = response.content.decode()
    assert 'id="expiry-chart"' in html and "cdn" not in html.lower()
    assert board.last_run.job_run_id in html
    assert RUN_PAGE in html
    assert lapsed.pk and auto.pk and due.pk


def test_dashboard_says_when_nothing_expires_within_a_year(viewer_client):
    _cert(days=500)
    response = viewer_client.get("/admin/")
    assert [bar.count for bar in response.context["dashboard"].months] == [0] * 12
    html = response.content.decode()
    assert "No valid certification expires in the next 12 months." in html
    assert RUN_PAGE not in html  # no run permission, no link to the run page


def test_dashboard_hidden_from_staff_who_cannot_view_certifications(client):
    client.force_login(_staff("helpdesk"))
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "dashboard" not in response.context


def test_dashboard_links_filter_the_changelists(coordinator_client):
    soon = _cert(days=10)
    _cert(days=200)
    links = coordinator_client.get("/admin/").context["dashboard_links"]
    assert _ids(coordinator_client.get(links["expiring_soon"])) == {soon.certification_id}
    assert len(_ids(coordinator_client.get(links["valid"]))) == 2


# --- Certifications: list, filters, search --------------------------------------------------


def test_changelist_columns_say_when_each_record_expires_or_lapsed(coordinator_client):
    soon = _cert(days=10.5)
    far = _cert(days=120.5)
    lapsed = _cert(days=-3.5)
    revoked = _cert(days=50, status=CertificationStatus.REVOKED, revoked_at=_clock())
    old = _cert(days=-40)
    _cert(days=300, mentor=old.mentor)  # renews ``old``

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
    certs = {f"d{days}": _cert(days=days) for days in (10, 45, 80, 200)}
    _cert(days=-1)
    response = coordinator_client.get(CERTS, {"expiring": window})
    assert _ids(response) == {certs[key].certification_id for key in expected}


def test_lapsed_filters_split_due_from_applied(coordinator_client):
    applied = _auto_paused_cert()
    due = _cert(days=-1)
    revoked_due = _cert(days=30, status=CertificationStatus.REVOKED, revoked_at=_clock())
    _cert(days=10)
    covered = _cert(days=-3)
    _cert(days=100, mentor=covered.mentor)  # a renewal: not lapsed

    expected_due = {due.certification_id, revoked_due.certification_id}
    assert _ids(coordinator_client.get(CERTS, {"lapsed": "due"})) == expected_due
    assert set(Certification.objects.due(now=_clock()).values_list("certification_id", flat=True)) == expected_due
    assert _ids(coordinator_client.get(CERTS, {"lapsed": "applied"})) == {applied.certification_id}
    assert _ids(coordinator_client.get(CERTS, {"lapsed": "any"})) == expected_due | {applied.certification_id}


def test_deleted_records_are_hidden_by_default_and_listed_by_the_filter(coordinator_client):
    live = _cert(days=100)
    gone = _cert(days=100, deleted_at=_clock())
    assert _ids(coordinator_client.get(CERTS)) == {live.certification_id}
    assert _ids(coordinator_client.get(CERTS, {"deleted": "yes"})) == {gone.certification_id}
    assert _ids(coordinator_client.get(CERTS, {"deleted": "any"})) == {live.certification_id, gone.certification_id}


def test_status_type_and_auto_pause_filters(coordinator_client):
    valid = _cert(days=100)
    advanced = _cert(days=100, certification_type=cert_type("peer_mentor_advanced"))
    applied = _auto_paused_cert()
    assert _ids(coordinator_client.get(CERTS, {"status__exact": "expired"})) == {applied.certification_id}
    assert _ids(coordinator_client.get(CERTS, {"certification_type__id__exact": advanced.certification_type_id})) == {
        advanced.certification_id
    }
    assert _ids(coordinator_client.get(CERTS, {"auto_pause_applied__exact": "1"})) == {applied.certification_id}
    assert valid.certification_id in _ids(coordinator_client.get(CERTS, {"auto_pause_applied__exact": "0"}))


def test_date_hierarchy_on_expiry(coordinator_client):
    cert = _cert(days=100)
    _cert(days=500)
    response = coordinator_client.get(
        CERTS, {"expires_at__year": cert.expires_at.year, "expires_at__month": cert.expires_at.month}
    )
    assert _ids(response) == {cert.certification_id}


@pytest.mark.parametrize("field", ["certification_id", "mentor_id", "name", "email"])
def test_search_by_certification_id_mentor_id_name_and_email(coordinator_client, field):
    mentor = MentorFactory(name="Ada Lovelace", email="ada@example.org")
    wanted = _cert(days=100, mentor=mentor)
    _cert(days=100, mentor=MentorFactory(name="Alan Turing", email="alan@example.org"))
    term = {
        "certification_id": wanted.certification_id,
        "mentor_id": mentor.mentor_id,
        "name": "lovelace",
        "email": "ada@example",
    }[field]
    assert _ids(coordinator_client.get(CERTS, {"q": term})) == {wanted.certification_id}


def _changelist_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("url", "pinned"),
    [(CERTS, 8), (CERTS + "?expiring=90", 8), (MENTORS, 5), (LOGS, 8), (RUNS, 7)],
)
def test_changelists_are_n_plus_one_free(superuser_client, url, pinned):
    def grow(count):
        for _ in range(count):
            mentor = MentorFactory()
            _cert(days=-2, mentor=mentor)
            _cert(days=20, mentor=mentor, certification_type=cert_type("peer_mentor_advanced"))
        services.expiry_job_run(now=_clock(), trigger=JobTrigger.CLI)

    grow(5)
    small = _changelist_queries(superuser_client, url)
    grow(45)
    large = _changelist_queries(superuser_client, url)
    assert AutoPauseLog.objects.count() == 50
    assert small == large == pinned


# --- Certifications: actions -----------------------------------------------------------------


def test_hard_delete_action_is_replaced_by_soft_delete_and_restore(coordinator_client):
    _cert(days=10)
    actions = dict(coordinator_client.get(CERTS).context["action_form"].fields["action"].choices)
    assert "delete_selected" not in actions
    assert {"renew", "revoke", "soft_delete", "restore"} <= set(actions)


def test_renew_asks_how_then_renews_by_the_types_validity(coordinator_client):
    cert = _cert(days=10)
    page = _act(coordinator_client, CERTS, "renew", [cert])
    assert page.status_code == 200 and "Renew certifications" in page.content.decode()
    cert.refresh_from_db()
    before = cert.expires_at

    response = _act(coordinator_client, CERTS, "renew", [cert], apply="Renew", mode="validity")

    cert.refresh_from_db()
    assert cert.expires_at == add_months(before, cert.certification_type.validity_months)
    assert cert.status == CertificationStatus.VALID
    assert "Renewed 1 certification." in _messages(response)


def test_renew_to_an_entered_date(coordinator_client):
    cert = _cert(days=-3)
    target = (_clock() + 400 * DAY).date()
    _act(coordinator_client, CERTS, "renew", [cert], apply="Renew", mode="date", expires_on=target.isoformat())
    cert.refresh_from_db()
    assert cert.expires_at == dt.datetime(target.year, target.month, target.day, tzinfo=UTC)
    assert cert.status == CertificationStatus.VALID


def test_renew_to_a_date_needs_the_date_and_a_future_one(coordinator_client):
    cert = _cert(days=5)
    before = cert.expires_at
    page = _act(coordinator_client, CERTS, "renew", [cert], apply="Renew", mode="date")
    assert "Enter the new expiry date." in page.content.decode()
    past = (_clock() - 10 * DAY).date().isoformat()
    response = _act(coordinator_client, CERTS, "renew", [cert], apply="Renew", mode="date", expires_on=past)
    assert f"{cert.certification_id}: A renewal must end in the future." in _messages(response)
    cert.refresh_from_db()
    assert cert.expires_at == before


def test_renew_in_admin_resumes_the_mentor_as_the_api_does(coordinator_client, api_client):
    via_admin = _auto_paused_cert()
    via_api = _auto_paused_cert()
    target = (_clock() + 365 * DAY).date()

    response = _act(
        coordinator_client, CERTS, "renew", [via_admin], apply="Renew", mode="date", expires_on=target.isoformat()
    )
    api = api_client.put(
        f"/api/v1/certifications/{via_api.certification_id}",
        {"expires_at": f"{target.isoformat()}T00:00:00Z", "status": "valid"},
        format="json",
    )

    assert api.status_code == 200
    assert any("Resumed 1 auto-paused mentor" in text for text in _messages(response))
    admin_effects, api_effects = _snapshot(via_admin.mentor), _snapshot(via_api.mentor)
    assert admin_effects == api_effects
    assert admin_effects["status"] == MentorStatus.ACTIVE
    assert (LogEvent.AUTO_RESUME, f"Certification peer_mentor_basic renewed until {target}", True) in admin_effects[
        "logs"
    ]


def test_renewal_never_lifts_a_staff_pause(coordinator_client):
    cert = _cert(days=-3)
    services.mentor_pause(mentor=cert.mentor, now=_clock(), reason="Conduct review")
    response = _act(coordinator_client, CERTS, "renew", [cert], apply="Renew", mode="validity")
    cert.mentor.refresh_from_db()
    assert cert.mentor.paused_by == PausedBy.STAFF
    assert not any("Resumed" in text for text in _messages(response))


def test_revoke_needs_a_reason_and_records_it(coordinator_client):
    cert = _cert(days=100)
    page = _act(coordinator_client, CERTS, "revoke", [cert], apply="Revoke", reason="")
    assert page.context["form"].errors == {"reason": ["This field is required."]}
    cert.refresh_from_db()
    assert cert.status == CertificationStatus.VALID

    response = _act(coordinator_client, CERTS, "revoke", [cert], apply="Revoke", reason="Training not completed")

    cert.refresh_from_db()
    assert (cert.status, cert.revocation_reason) == (CertificationStatus.REVOKED, "Training not completed")
    assert cert.revoked_at is not None
    assert "Revoked 1 certification." in _messages(response)


def test_soft_delete_and_restore_match_the_api(coordinator_client, api_client):
    via_admin = _auto_paused_cert()
    via_api = _auto_paused_cert()

    response = _act(coordinator_client, CERTS, "soft_delete", [via_admin])
    assert api_client.delete(f"/api/v1/certifications/{via_api.certification_id}").status_code == 200

    assert _snapshot(via_admin.mentor) == _snapshot(via_api.mentor)
    assert _snapshot(via_admin.mentor)["status"] == MentorStatus.ACTIVE
    assert Certification.objects.filter(pk=via_admin.pk, deleted_at__isnull=False).exists()
    assert "Deleted 1 certification." in _messages(response)

    response = _act(coordinator_client, CERTS + "?deleted=yes", "restore", [via_admin])
    via_admin.refresh_from_db()
    assert via_admin.deleted_at is None
    assert "Restored 1 certification." in _messages(response)


def test_restore_of_live_records_explains_where_deleted_ones_are(coordinator_client):
    live = _cert(days=100)
    response = _act(coordinator_client, CERTS, "restore", [live])
    assert "None of the selected records is deleted; the 'Deleted' filter lists those." in _messages(response)


def test_restore_refused_when_a_live_record_takes_its_place(coordinator_client):
    gone = _cert(days=100, deleted_at=_clock())
    CertificationFactory(
        mentor=gone.mentor,
        certification_type=gone.certification_type,
        issued_at=gone.issued_at,
        expires_at=gone.expires_at,
    )
    response = _act(coordinator_client, CERTS + "?deleted=yes", "restore", [gone])
    gone.refresh_from_db()
    assert gone.deleted_at is not None
    assert any("already holds a peer_mentor_basic certification" in text for text in _messages(response))


def test_delete_from_the_change_page_is_a_soft_delete(coordinator_client):
    cert = _auto_paused_cert()
    url = f"{CERTS}{cert.pk}/delete/"
    page = coordinator_client.get(url)
    assert page.status_code == 200 and "can be restored" in page.content.decode()
    coordinator_client.post(url, {"post": "yes"})
    cert.refresh_from_db()
    assert cert.deleted_at is not None
    assert _snapshot(cert.mentor)["status"] == MentorStatus.ACTIVE


# --- Certifications: add and edit through the services -------------------------------------------


def _dt_fields(name: str, value: dt.datetime) -> dict:
    return {f"{name}_0": value.strftime("%Y-%m-%d"), f"{name}_1": value.strftime("%H:%M:%S")}


def test_add_creates_the_mentor_and_derives_expiry_and_status(coordinator_client):
    issued = dt.datetime(2026, 1, 15, tzinfo=UTC)
    data = {"mentor_id": "mntr_01HX4V2K8P", "certification_type": cert_type().pk, **_dt_fields("issued_at", issued)}
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
    existing = _cert(days=100)
    issued = existing.issued_at if change == "duplicate" else dt.datetime(2026, 1, 15, tzinfo=UTC)
    data = {
        "mentor_id": "mntr_bad" if change == "bad_mentor" else existing.mentor.mentor_id,
        "certification_type": existing.certification_type_id,
        **_dt_fields("issued_at", issued),
        **_dt_fields("expires_at", dt.datetime(2025, 1, 1, tzinfo=UTC) if api_body else issued + 400 * DAY),
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
        **_dt_fields("issued_at", dt.datetime(2026, 1, 15, tzinfo=UTC)),
    }
    response = coordinator_client.post(CERTS + "add/", data)
    assert "Certification type &#x27;legacy&#x27; is inactive." in response.content.decode()
    assert not Mentor.objects.filter(mentor_id="mntr_01HX4V2K8P").exists()  # the trial write was rolled back


def _change_data(cert: Certification, **overrides) -> dict:
    data = {
        "certification_type": cert.certification_type_id,
        **_dt_fields("issued_at", cert.issued_at),
        **_dt_fields("expires_at", cert.expires_at),
        "status": cert.status,
        "revocation_reason": cert.revocation_reason,
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("days", "status", "api_message"),
    [
        (-10, "valid", "A valid certification must expire in the future."),
        (200, "expired", "An expired certification must have expires_at in the past."),
    ],
)
def test_edit_refuses_a_status_that_disagrees_with_the_dates(coordinator_client, api_client, days, status, api_message):
    cert = _cert(days=days)

    response = coordinator_client.post(f"{CERTS}{cert.pk}/change/", _change_data(cert, status=status))

    api = api_client.patch(f"/api/v1/certifications/{cert.certification_id}", {"status": status}, format="json")
    assert api.status_code == 400 and api.json()["error"]["message"] == api_message
    assert response.status_code == 200
    html = response.content.decode()
    assert api_message in html
    assert api.json()["error"]["fields"]["status"][0].replace("'", "&#x27;") in html
    after = Certification.objects.get(pk=cert.pk)
    assert (after.status, after.expires_at, after.updated_at) == (cert.status, cert.expires_at, cert.updated_at)


def test_edit_renewal_resumes_the_mentor_and_logs_it(coordinator_client):
    cert = _auto_paused_cert()
    new_expiry = (_clock() + 300 * DAY).replace(microsecond=0)
    response = coordinator_client.post(
        f"{CERTS}{cert.pk}/change/", _change_data(cert, **_dt_fields("expires_at", new_expiry))
    )
    assert response.status_code == 302
    cert.refresh_from_db()
    assert (cert.status, cert.expires_at, cert.auto_pause_applied) == (CertificationStatus.VALID, new_expiry, False)
    effects = _snapshot(cert.mentor)
    assert effects["status"] == MentorStatus.ACTIVE
    assert (
        LogEvent.AUTO_RESUME,
        f"Certification peer_mentor_basic renewed until {new_expiry:%Y-%m-%d}",
        True,
    ) in effects["logs"]


def test_edit_revocation_via_the_form(coordinator_client):
    cert = _cert(days=100)
    response = coordinator_client.post(
        f"{CERTS}{cert.pk}/change/", _change_data(cert, status="revoked", revocation_reason="Withdrawn")
    )
    assert response.status_code == 302
    cert.refresh_from_db()
    assert (cert.status, cert.revocation_reason) == (CertificationStatus.REVOKED, "Withdrawn")
    assert cert.revoked_at is not None


def test_a_deleted_record_is_read_only_until_restored(coordinator_client):
    cert = _cert(days=100, deleted_at=_clock())
    url = f"{CERTS}{cert.pk}/change/"
    page = coordinator_client.get(url)
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert coordinator_client.post(url, _change_data(cert, status="revoked")).status_code == 403


# --- Permissions on certifications -----------------------------------------------------------------


def test_staff_without_change_or_delete_permission_see_no_actions(viewer_client):
    cert = _cert(days=10)
    response = viewer_client.get(CERTS)
    assert response.status_code == 200
    assert response.context["action_form"] is None
    assert viewer_client.get(CERTS + "add/").status_code == 403
    assert viewer_client.post(f"{CERTS}{cert.pk}/change/", _change_data(cert, status="revoked")).status_code == 403
    # Posting an action anyway does nothing.
    _act(viewer_client, CERTS, "revoke", [cert], apply="Revoke", reason="x")
    cert.refresh_from_db()
    assert cert.status == CertificationStatus.VALID


def test_change_permission_without_delete_hides_delete_and_restore(client):
    client.force_login(_staff("editor", *VIEW_PERMS, "change_certification"))
    _cert(days=10)
    actions = dict(client.get(CERTS).context["action_form"].fields["action"].choices)
    assert {"renew", "revoke"} <= set(actions)
    assert not {"soft_delete", "restore", "delete_selected"} & set(actions)


def test_staff_without_any_permission_are_refused(client):
    client.force_login(_staff("helpdesk"))
    for url in (CERTS, MENTORS, RUNS, LOGS, RUN_PAGE):
        assert client.get(url).status_code == 403


def test_coordinators_group_has_exactly_the_permissions_a_coordinator_needs():
    perms = set(Group.objects.get(name="Coordinators").permissions.values_list("content_type__app_label", "codename"))
    assert perms == {
        ("certifications", "view_certificationtype"),
        ("certifications", "view_mentor"),
        ("certifications", "change_mentor"),
        ("certifications", "view_certification"),
        ("certifications", "add_certification"),
        ("certifications", "change_certification"),
        ("certifications", "delete_certification"),
        ("certifications", "view_expiryjobrun"),
        ("certifications", "run_expiry_job"),
        ("certifications", "view_autopauselog"),
        ("django_celery_beat", "view_periodictask"),
        ("django_celery_beat", "change_periodictask"),
        ("django_celery_beat", "view_crontabschedule"),
    }


def test_coordinator_can_edit_the_daily_schedule(coordinator_client):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="expiry job daily at 01:00 UTC")
    page = coordinator_client.get(f"/admin/django_celery_beat/periodictask/{task.pk}/change/")
    assert page.status_code == 200 and page.context["has_change_permission"]


# --- Mentors ---------------------------------------------------------------------------------------


def test_mentor_page_lists_live_certifications_inline(coordinator_client):
    mentor = MentorFactory()
    live = _cert(days=100, mentor=mentor)
    gone = _cert(days=50, mentor=mentor, deleted_at=_clock(), issued_at=_clock() - 30 * DAY)
    html = coordinator_client.get(f"{MENTORS}{mentor.pk}/change/").content.decode()
    assert live.certification_id in html
    assert gone.certification_id not in html


def test_pause_with_a_reason_then_resume(coordinator_client):
    mentor = MentorFactory()
    page = _act(coordinator_client, MENTORS, "pause", [mentor])
    assert "Pause mentors" in page.content.decode()

    response = _act(coordinator_client, MENTORS, "pause", [mentor], apply="Pause", reason="Complaint under review")

    mentor.refresh_from_db()
    assert (mentor.status, mentor.paused_by, mentor.pause_reason) == ("paused", "staff", "Complaint under review")
    assert "Paused 1 mentor." in _messages(response)
    listed = coordinator_client.get(MENTORS, {"status__exact": "paused", "paused_by__exact": "staff"})
    assert [m.pk for m in listed.context["cl"].result_list] == [mentor.pk]

    response = _act(coordinator_client, MENTORS, "resume", [mentor])
    mentor.refresh_from_db()
    assert (mentor.status, mentor.paused_by, mentor.pause_reason) == ("active", "", "")
    assert "Resumed 1 mentor." in _messages(response)


def test_resume_lifts_an_auto_pause_too(coordinator_client):
    cert = _auto_paused_cert()
    _act(coordinator_client, MENTORS, "resume", [cert.mentor])
    cert.mentor.refresh_from_db()
    assert cert.mentor.status == MentorStatus.ACTIVE


def test_mentor_status_is_changed_only_by_the_actions(coordinator_client):
    mentor = MentorFactory(name="Old")
    response = coordinator_client.post(
        f"{MENTORS}{mentor.pk}/change/",
        {
            "name": "New Name",
            "email": "new@example.org",
            "status": "paused",
            # The read-only inline's management form, as a browser sends it.
            "certifications-TOTAL_FORMS": "0",
            "certifications-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    mentor.refresh_from_db()
    assert (mentor.name, mentor.status) == ("New Name", MentorStatus.ACTIVE)


def test_mentor_actions_need_change_permission(viewer_client):
    mentor = MentorFactory()
    assert viewer_client.get(MENTORS).context["action_form"] is None
    _act(viewer_client, MENTORS, "pause", [mentor], apply="Pause", reason="x")
    mentor.refresh_from_db()
    assert mentor.status == MentorStatus.ACTIVE


# --- The expiry job ----------------------------------------------------------------------------------


def test_run_page_previews_then_runs_for_real(coordinator_client, coordinator):
    due = _cert(days=-2)
    _cert(days=100)
    page = coordinator_client.get(RUN_PAGE)
    assert page.status_code == 200 and "Preview (dry run)" in page.content.decode()

    preview = coordinator_client.post(RUN_PAGE, {"preview": "1"})

    dry = preview.context["preview"]
    assert (dry.dry_run, dry.trigger, dry.requested_by, dry.expired_found, dry.auto_paused) == (
        True,
        JobTrigger.ADMIN,
        coordinator,
        1,
        1,
    )
    assert [item.certification_id for item in preview.context["items"]] == [due.certification_id]
    assert due.mentor.mentor_id in preview.content.decode()
    due.refresh_from_db()
    assert (due.auto_pause_applied, due.mentor.status) == (False, MentorStatus.ACTIVE)  # a dry run changes nothing

    response = coordinator_client.post(RUN_PAGE, {"run": "1"}, follow=True)

    run = ExpiryJobRun.objects.get(dry_run=False)
    assert (run.trigger, run.requested_by, run.state, run.auto_paused) == (
        JobTrigger.ADMIN,
        coordinator,
        "succeeded",
        1,
    )
    assert response.redirect_chain[-1][0] == f"{RUNS}{run.pk}/change/"
    assert any(text.startswith(f"Expiry job {run.job_run_id} succeeded") for text in _messages(response))
    due.refresh_from_db()
    assert due.auto_pause_applied and due.mentor.status == MentorStatus.PAUSED
    log = AutoPauseLog.objects.get(certification=due)
    assert (log.event, log.job_run, log.reason) == (
        LogEvent.AUTO_PAUSE,
        run,
        f"Certification peer_mentor_basic expired on {due.expires_at:%Y-%m-%d}",
    )


def test_run_page_says_clearly_when_a_run_is_in_progress(coordinator_client):
    _cert(days=-2)
    JobLock.objects.update_or_create(
        name="expiry_job",
        defaults={"holder": "job_01JAN2026_01", "acquired_at": _clock(), "lease_until": _clock() + 60 * DAY},
    )
    page = coordinator_client.get(RUN_PAGE)
    assert "job_01JAN2026_01" in page.content.decode() and "is running now" in page.content.decode()

    response = coordinator_client.post(RUN_PAGE, {"run": "1"}, follow=True)

    assert "Expiry job job_01JAN2026_01 is already running. Nothing was started" in " ".join(_messages(response))
    assert not ExpiryJobRun.objects.filter(dry_run=False).exists()
    assert not AutoPauseLog.objects.exists()


def test_run_page_and_button_need_the_run_permission(viewer_client):
    assert viewer_client.get(RUN_PAGE).status_code == 403
    assert viewer_client.post(RUN_PAGE, {"run": "1"}).status_code == 403
    assert not ExpiryJobRun.objects.exists()
    listing = viewer_client.get(RUNS)
    assert listing.status_code == 200 and "run-expiry-job" not in listing.content.decode()


def test_run_history_is_read_only_and_shows_failures(superuser_client):
    run = ExpiryJobRun.objects.create(
        job_run_id="job_01JAN2026_01",
        trigger=JobTrigger.SCHEDULE,
        state="succeeded",
        expired_found=2,
        failures=[{"mentor_id": "mntr_01HX4V2K8P", "certification_id": "cert_ABCDEFGH", "error": "boom"}],
    )
    listing = superuser_client.get(RUNS)
    assert "run-expiry-job" in listing.content.decode()
    assert superuser_client.get(RUNS, {"state__exact": "succeeded"}).context["cl"].result_count == 1
    page = superuser_client.get(f"{RUNS}{run.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert "cert_ABCDEFGH" in html and "boom" in html
    assert superuser_client.get(RUNS + "add/").status_code == 403
    assert superuser_client.post(f"{RUNS}{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ExpiryJobRun.objects.filter(pk=run.pk).exists()


# --- The auto-pause log --------------------------------------------------------------------------------


def test_log_is_read_only_even_for_superusers(superuser_client):
    cert = _auto_paused_cert()
    entry = AutoPauseLog.objects.get(certification=cert)
    listing = superuser_client.get(LOGS)
    assert listing.status_code == 200 and listing.context["action_form"] is None
    assert superuser_client.get(LOGS + "add/").status_code == 403
    page = superuser_client.get(f"{LOGS}{entry.pk}/change/")
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert superuser_client.post(f"{LOGS}{entry.pk}/change/", {"reason": "edited"}).status_code == 403
    assert superuser_client.post(f"{LOGS}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.reason.startswith("Certification peer_mentor_basic expired on")


def test_log_filters_by_event_job_run_and_date_and_searches(coordinator_client):
    paused = _auto_paused_cert()
    resumed = _auto_paused_cert()
    services.certification_renew(certification=resumed, now=_clock())
    run = ExpiryJobRun.objects.get(dry_run=False, auto_paused=1, logs__certification=resumed)

    def logged(**params):
        return {
            (row.certification_id, row.event) for row in coordinator_client.get(LOGS, params).context["cl"].result_list
        }

    assert logged(event__exact="auto_resume") == {(resumed.pk, "auto_resume")}
    assert logged(job_run__id__exact=run.pk) == {(resumed.pk, "auto_pause")}
    assert logged(job_run__isnull="True") == {(resumed.pk, "auto_resume")}
    # The "Today" link of the date filter: aware midnights, as the filter writes them.
    today = _clock().replace(hour=0, minute=0, second=0)
    assert len(logged(applied_at__gte=str(today), applied_at__lt=str(today + DAY))) == 3
    assert logged(applied_at__gte=str(today + DAY)) == set()
    assert logged(q=paused.mentor.mentor_id) == {(paused.pk, "auto_pause")}
    assert logged(q=resumed.certification_id) == {(resumed.pk, "auto_pause"), (resumed.pk, "auto_resume")}
