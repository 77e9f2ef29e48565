"""The kind of a write comes from the change, whatever the door: API PUT and PATCH, admin form and actions, import.

Each kind (a renewal, a revocation, another update) is driven through every
door from the same rows, each door's write undone before the next, and the
rows each leaves (the record, events and their data, history rows with their
reason, auto-resume log rows, notifications, tallies) must be the same; the
kind itself is checked on the event and the history row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from django.db import transaction

from certhub.api.fields import format_utc
from certifications import services
from certifications.bulk.rows import read_csv
from certifications.changes import CertificationChange, certification_change
from certifications.history import Actor, Source
from certifications.history.models import HistoryEntry
from certifications.models import Certification, CertificationStatus, JobTrigger, MentorStatus
from events.models import Event
from tests.certifications.admin.helpers import CERTS, act, change_data, dt_fields, staff_user
from tests.certifications.services.test_imports import HEADER, world
from tests.factories import CertificationFactory, MentorFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 12, 0, tzinfo=UTC)
ISSUED = dt.datetime(2024, 6, 15, tzinfo=UTC)
RENEWED_TO = dt.datetime(2027, 5, 1, tzinfo=UTC)  # a day's midnight: the admin's renew-to-a-date gives one
MOVED_TO = dt.datetime(2026, 5, 1, tzinfo=UTC)  # earlier than the record's expiry, still in the future
REASON = "Audit"


class _Undo(Exception):
    """Leaves a door's transaction, so that the next door starts from the same rows."""


def _import_row(cert: Certification, *, expires_at: dt.datetime | None = None, revoke: bool = False) -> None:
    key = [cert.mentor.mentor_id, cert.certification_type.code, format_utc(cert.issued_at)]
    row = [*key, format_utc(expires_at) or "", "", "", "revoke" if revoke else "", REASON if revoke else ""]
    rows = read_csv(f"{HEADER}\n{','.join(row)}\n".encode(), max_rows=10)
    result = services.certification_import(rows=rows, now=NOW, by=Actor(source=Source.IMPORT))
    assert result.applied and [r.action for r in result.rows] == ["updated"]


def _doors(cert: Certification, api: Callable, admin, body: dict, form: dict) -> dict[str, Callable[[], object]]:
    """The API and admin-form doors of one change: ``body`` as JSON, ``form`` as the admin's edit fields."""
    url = f"/api/v1/certifications/{cert.certification_id}"
    return {
        "api PUT": lambda: _ok(api.put(url, body, format="json")),
        "api PATCH": lambda: _ok(api.patch(url, body, format="json")),
        "admin form": lambda: _redirected(admin.post(f"{CERTS}{cert.pk}/change/", change_data(cert, **form))),
    }


def _ok(response) -> None:
    assert response.status_code == 200, response.content


def _redirected(response) -> None:
    assert response.status_code == 302, response.content


def _left_by_each(doors: dict[str, Callable[[], object]]) -> dict[str, dict]:
    """What each door's write leaves (as ``world`` sees it, without who wrote it), each undone afterwards."""
    left = {}
    for name, door in doors.items():
        try:
            with transaction.atomic():
                events, entries = Event.objects.count(), HistoryEntry.objects.count()
                door()
                rows = world()
                # Who wrote it (the API's user, the admin's, the import) is the one thing the doors may differ in.
                rows["history"] = sorted(entry[:4] + entry[6:] for entry in rows["history"].elements())
                rows["new_events"] = list(Event.objects.order_by("pk").values_list("type", "data")[events:])
                rows["new_history"] = list(
                    HistoryEntry.objects.order_by("pk").values_list("subject", "change", "reason")[entries:]
                )
                left[name] = rows
                raise _Undo
        except _Undo:
            pass
    return left


def _same_everywhere(left: dict[str, dict]) -> dict:
    first, *others = left
    for name in others:
        assert left[name] == left[first], f"{name} left other rows than {first}"
    return left[first]


@pytest.fixture
def clients(client, api_client):
    """The admin's client (a coordinator) and the API's; the clock stands still at ``NOW`` for every door."""
    client.force_login(staff_user("coordinator", groups=("Coordinators",)))
    with time_machine.travel(NOW, tick=False):
        yield api_client, client


def test_a_renewal_is_certification_renewed_through_every_door(clients):
    api, admin = clients
    cert = CertificationFactory(
        mentor=MentorFactory(), issued_at=ISSUED, expires_at=NOW - dt.timedelta(days=5), status="expired"
    )
    services.expiry_job_run(now=NOW, trigger=JobTrigger.CLI)
    cert.refresh_from_db()
    assert cert.auto_pause_applied and cert.mentor.status == MentorStatus.PAUSED
    doors = {
        **_doors(cert, api, admin, {"expires_at": format_utc(RENEWED_TO)}, dt_fields("expires_at", RENEWED_TO)),
        "admin renew": lambda: act(
            admin, CERTS, "renew", [cert], apply="Renew", mode="date", expires_on=RENEWED_TO.date().isoformat()
        ),
        "import row": lambda: _import_row(cert, expires_at=RENEWED_TO),
        "service": lambda: services.certification_renew(
            certification=cert, now=NOW, expires_at=RENEWED_TO, by=Actor(source=Source.CLI)
        ),
    }

    rows = _same_everywhere(_left_by_each(doors))

    (cert_event, cert_data), (mentor_event, mentor_data) = rows["new_events"]
    assert cert_event == "certification.renewed"
    assert cert_data["previous_expires_at"] == format_utc(NOW - dt.timedelta(days=5))
    assert (cert_data["status"], cert_data["expires_at"]) == ("valid", format_utc(RENEWED_TO))
    assert (mentor_event, mentor_data["resumed_by"]) == ("mentor.resumed", "auto")
    assert ("certification", "changed", "renewed") in rows["new_history"]
    resume = "Certification peer_mentor_basic renewed until 2027-05-01"
    assert ("mentor", "changed", resume) in rows["new_history"]
    assert [reason for (_, _, event, reason) in rows["logs"] if event == "auto_resume"] == [resume]
    assert sorted(kind for (kind, _, _) in rows["notifications"]) == ["mentor_paused", "mentor_resumed"]


def test_a_revocation_is_certification_revoked_through_every_door(clients):
    api, admin = clients
    cert = CertificationFactory(mentor=MentorFactory(), issued_at=ISSUED, expires_at=NOW + dt.timedelta(days=100))
    body = {"status": CertificationStatus.REVOKED, "revocation_reason": REASON}
    doors = {
        **_doors(cert, api, admin, body, body),
        "admin revoke": lambda: act(admin, CERTS, "revoke", [cert], apply="Revoke", reason=REASON),
        "import row": lambda: _import_row(cert, revoke=True),
        "service": lambda: services.certification_revoke(
            certification=cert, now=NOW, reason=REASON, by=Actor(source=Source.CLI)
        ),
    }

    rows = _same_everywhere(_left_by_each(doors))

    [(type_, data)] = rows["new_events"]
    assert type_ == "certification.revoked"
    assert data["status"] == "revoked" and data["revoked_at"] == format_utc(NOW) and "previous_expires_at" not in data
    assert rows["new_history"] == [("certification", "changed", f"revoked: {REASON}")]


def test_another_change_is_certification_updated_through_every_door(clients):
    api, admin = clients
    cert = CertificationFactory(mentor=MentorFactory(), issued_at=ISSUED, expires_at=NOW + dt.timedelta(days=100))
    doors = {
        **_doors(cert, api, admin, {"expires_at": format_utc(MOVED_TO)}, dt_fields("expires_at", MOVED_TO)),
        # "Renew" to an earlier day moves the expiry back: not a renewal, whatever the action is called.
        "admin renew": lambda: act(
            admin, CERTS, "renew", [cert], apply="Renew", mode="date", expires_on=MOVED_TO.date().isoformat()
        ),
        "import row": lambda: _import_row(cert, expires_at=MOVED_TO),
    }

    rows = _same_everywhere(_left_by_each(doors))

    [(type_, data)] = rows["new_events"]
    assert type_ == "certification.updated"
    assert data["expires_at"] == format_utc(MOVED_TO) and "previous_expires_at" not in data
    assert rows["new_history"] == [("certification", "changed", "")]


def test_undoing_a_revocation_is_an_update_and_its_resume_says_so(clients):
    api, admin = clients
    cert = CertificationFactory(mentor=MentorFactory(), issued_at=ISSUED, expires_at=NOW + dt.timedelta(days=100))
    services.certification_revoke(certification=cert, now=NOW, reason=REASON, by=Actor(source=Source.CLI))
    services.expiry_job_run(now=NOW, trigger=JobTrigger.CLI)
    cert.refresh_from_db()
    assert cert.auto_pause_applied and cert.mentor.status == MentorStatus.PAUSED
    body = {"status": CertificationStatus.VALID}
    doors = _doors(cert, api, admin, body, {**body, "revocation_reason": ""})

    rows = _same_everywhere(_left_by_each(doors))

    assert [type_ for type_, _ in rows["new_events"]] == ["certification.updated", "mentor.resumed"]
    resume = "Certification peer_mentor_basic no longer lapsed"  # the expiry did not move: nothing was renewed
    assert [reason for (_, _, event, reason) in rows["logs"] if event == "auto_resume"] == [resume]
    assert rows["new_history"][0] == ("certification", "changed", "")
    assert ("mentor", "changed", resume) in rows["new_history"]


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        (None, {}, CertificationChange.CREATED),
        ({"status": "valid"}, {"deleted_at": NOW}, CertificationChange.DELETED),
        ({"deleted_at": NOW}, {}, CertificationChange.RESTORED),
        ({"status": "valid"}, {"status": "revoked"}, CertificationChange.REVOKED),
        ({"status": "valid"}, {"status": "revoked", "expires_at": RENEWED_TO}, CertificationChange.REVOKED),
        ({"status": "expired"}, {"expires_at": RENEWED_TO}, CertificationChange.RENEWED),
        ({"status": "revoked"}, {"expires_at": RENEWED_TO}, CertificationChange.RENEWED),
        ({}, {"expires_at": RENEWED_TO}, CertificationChange.RENEWED),
        ({}, {"expires_at": MOVED_TO}, CertificationChange.UPDATED),  # earlier: not a renewal
        ({"status": "revoked"}, {"status": "revoked", "expires_at": RENEWED_TO}, CertificationChange.UPDATED),
        ({"status": "revoked"}, {}, CertificationChange.UPDATED),  # un-revoked, same expiry
        ({}, {"issued_at": ISSUED - dt.timedelta(days=1)}, CertificationChange.UPDATED),
    ],
)
def test_the_kind_is_derived_from_the_record_before_and_after(before, after, kind):
    record = {"status": "valid", "issued_at": ISSUED, "expires_at": NOW + dt.timedelta(days=100), "deleted_at": None}
    old = None if before is None else {**record, **before}
    new = {**record, **after}
    assert certification_change(before=old, after=new) == kind
