"""History rows: one per change of a certification, a mentor or a type, whoever made it, the job's set-based."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User

from certifications.history import Actor, Source
from certifications.history.models import HistoryEntry
from certifications.models import Certification, CertificationType, Mentor
from certifications.services import (
    certification_create,
    certification_renew,
    certification_revoke,
    certification_type_update,
    certification_update,
    expiry_job_run,
    mentor_pause,
    mentor_resume,
    mentor_update,
)
from tests.certifications.services.lapse.helpers import NOW, UTC, current_cert, lapsed_cert
from tests.factories import TEST_ACTOR, MentorFactory, cert_type

pytestmark = pytest.mark.django_db


def rows(obj) -> list[HistoryEntry]:
    subject = {Certification: "certification", Mentor: "mentor", CertificationType: "certification_type"}[type(obj)]
    return list(HistoryEntry.objects.filter(subject=subject, object_pk=obj.pk).order_by("at", "id"))


def test_a_write_without_an_actor_is_refused():
    with pytest.raises(TypeError, match="by"):
        certification_create(
            mentor_id="mntr_01HX4V2K8P", certification_type="peer_mentor_basic", issued_at=NOW, now=NOW
        )


def test_an_actor_has_a_known_source_and_names_its_user_or_the_system():
    user = User.objects.create_user("coordinator")
    assert Actor(source=Source.API, user=user).name == "coordinator"
    assert Actor.job("job_26MAR2026_01").name == "system:job"
    with pytest.raises(ValueError, match="Unknown source"):
        Actor(source="shell")


def test_a_create_records_the_record_and_its_new_mentor_with_the_user():
    user = User.objects.create_user("coordinator")
    by = Actor(source=Source.API, user=user)
    cert = certification_create(
        mentor_id="mntr_01HX4V2K8P",
        certification_type="peer_mentor_basic",
        issued_at=dt.datetime(2026, 1, 1, tzinfo=UTC),
        now=NOW,
        by=by,
    ).certification
    [created] = rows(cert)
    assert (created.change, created.actor, created.user, created.source, created.at) == (
        "created",
        "coordinator",
        user,
        "api",
        NOW,
    )
    assert created.changes["certification_type"] == [None, "peer_mentor_basic"]
    assert created.changes["expires_at"] == [None, "2029-01-01T00:00:00Z"]
    assert created.changes["status"] == [None, "valid"]
    [mentor_created] = rows(cert.mentor)
    assert (mentor_created.change, mentor_created.actor) == ("created", "coordinator")


def test_an_update_records_only_the_fields_that_changed_rendered_as_the_api_does():
    cert = current_cert()
    certification_update(
        certification=cert, changes={"expires_at": dt.datetime(2030, 1, 1, 12, tzinfo=UTC)}, now=NOW, by=TEST_ACTOR
    )
    [changed] = rows(cert)
    assert changed.change == "changed"
    assert changed.changes == {"expires_at": ["2029-02-01T00:00:00Z", "2030-01-01T12:00:00Z"]}
    assert (changed.actor, changed.source, changed.reason) == ("system:cli", "cli", "test")


def test_an_update_that_changes_nothing_writes_no_row():
    cert = current_cert()
    certification_update(certification=cert, changes={"expires_at": cert.expires_at}, now=NOW, by=TEST_ACTOR)
    assert rows(cert) == []


def test_a_revocation_gives_its_reason_and_renders_empty_text_as_null():
    cert = current_cert()
    certification_revoke(certification=cert, now=NOW, reason="Withdrawn", by=Actor(source=Source.ADMIN))
    [revoked] = rows(cert)
    assert revoked.changes["status"] == ["valid", "revoked"]
    assert revoked.changes["revocation_reason"] == [None, "Withdrawn"]
    assert revoked.reason == "revoked: Withdrawn"


def test_the_job_records_status_flags_and_pauses_with_its_run_as_the_reason():
    certs = [lapsed_cert() for _ in range(3)]
    run = expiry_job_run(now=NOW, batch_size=2)
    for cert in certs:
        status, flagged = rows(cert)
        assert (status.changes, flagged.changes) == (
            {"status": ["valid", "expired"]},
            {"auto_pause_applied": [False, True]},
        )
        assert {status.source, flagged.source} == {"job"}
        assert {status.reason, flagged.reason} == {run.job_run_id}
        assert {status.actor, flagged.actor} == {"system:job"}
        [paused] = rows(cert.mentor)
        assert paused.changes == {
            "status": ["active", "paused"],
            "paused_by": [None, "auto"],
            "paused_at": [None, "2026-03-26T01:00:00Z"],
            "pause_reason": [None, "Certification peer_mentor_basic expired on 2026-03-01"],
        }
        assert (paused.source, paused.reason, paused.at) == ("job", run.job_run_id, NOW)


def test_every_object_the_job_changes_has_a_history_row():
    for _ in range(5):
        lapsed_cert()
    current_cert()
    expiry_job_run(now=NOW, batch_size=2)
    changed_certs = Certification.objects.filter(updated_at=NOW).count()
    changed_mentors = Mentor.objects.filter(updated_at=NOW).count()
    assert changed_certs == 5 and changed_mentors == 5
    # Each lapsed record: its status (step 1) and its flag (a batch); each mentor: its pause.
    assert HistoryEntry.objects.filter(subject="certification").count() == 2 * changed_certs
    assert HistoryEntry.objects.filter(subject="mentor").count() == changed_mentors


def test_a_renewal_that_resumes_records_the_resume_with_the_log_reason_and_the_cleared_flag():
    cert = lapsed_cert()
    expiry_job_run(now=NOW)
    later = NOW + dt.timedelta(hours=1)
    certification_renew(certification=cert, now=later, expires_at=dt.datetime(2029, 3, 26, tzinfo=UTC), by=TEST_ACTOR)
    *_, renewed, unflagged = rows(cert)
    assert renewed.changes["status"] == ["expired", "valid"] and renewed.reason == "test"
    assert unflagged.changes == {"auto_pause_applied": [True, False]}
    _, resumed = rows(cert.mentor)
    assert resumed.changes["status"] == ["paused", "active"]
    assert resumed.reason == "Certification peer_mentor_basic renewed until 2029-03-26"
    assert (resumed.source, resumed.at) == ("cli", later)
    # Every changed object of the write has its row.
    assert Certification.objects.get(pk=cert.pk).updated_at == later
    assert Mentor.objects.get(pk=cert.mentor.pk).updated_at == later


def test_staff_pause_and_resume_are_recorded():
    mentor = MentorFactory()
    by = Actor(source=Source.ADMIN)
    mentor_pause(mentor=mentor, now=NOW, reason="On leave", by=by)
    mentor_pause(mentor=mentor, now=NOW, reason="Again", by=by)  # repeat: nothing changes, no row
    mentor_resume(mentor=mentor, now=NOW + dt.timedelta(days=1), by=by)
    paused, resumed = rows(mentor)
    assert paused.changes["paused_by"] == [None, "staff"] and paused.reason == "On leave"
    assert resumed.changes["status"] == ["paused", "active"]


def test_a_mentor_edit_is_recorded():
    mentor = MentorFactory(name="Old", email="")
    mentor_update(mentor=mentor, changes={"name": "New", "email": "n@example.org"}, now=NOW, by=TEST_ACTOR)
    mentor_update(mentor=mentor, changes={"name": "New"}, now=NOW, by=TEST_ACTOR)  # no change, no row
    [edited] = rows(mentor)
    assert edited.changes == {"name": ["Old", "New"], "email": ["", "n@example.org"]}


def test_a_type_policy_change_is_recorded():
    basic = cert_type("peer_mentor_basic")
    certification_type_update(certification_type=basic, changes={"grace_days": 14}, now=NOW, by=TEST_ACTOR)
    [edited] = rows(basic)
    assert edited.changes == {"grace_days": [0, 14]}
    assert CertificationType.objects.get(pk=basic.pk).grace_days == 14
