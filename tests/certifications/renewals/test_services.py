"""Renewal request services: submit (a refusal leaves nothing behind), approve as a real renewal, reject, withdraw."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from certhub.errors import AlreadyDecided, PendingRequestExists, RuleViolation, TooLarge
from certifications.history import Actor, Source
from certifications.models import AutoPauseLog, Certification, HistoryEntry, RenewalRequest
from certifications.services import (
    renewal_request_approve,
    renewal_request_reject,
    renewal_request_submit,
    renewal_request_withdraw,
)
from events.models import Event
from notifications.models import Notification
from tests.certifications.renewals.conftest import EXE, JPEG, PNG, stored_files, upload
from tests.factories import MentorFactory

UTC = dt.UTC
ISSUED = dt.datetime(2026, 3, 1, tzinfo=UTC)
RNW_RE = re.compile(r"^rnw_[0-9ABCDEFGHJKMNPQRSTVWXYZ]{10}$")


@pytest.fixture
def reviewer() -> User:
    return User.objects.create_user("reviewer")


def submit(cert, now, **overrides):
    values = {
        "mentor_id": cert.mentor.mentor_id,
        "certification_type": cert.certification_type.code,
        "issued_at": ISSUED,
        "evidence": upload(),
        "now": now,
        "by": Actor(source=Source.API),
    }
    return renewal_request_submit(**{**values, **overrides})


def nothing_stored(evidence_dir) -> None:
    assert not RenewalRequest.objects.exists()
    assert not Event.objects.filter(type__startswith="renewal_request.").exists()
    assert stored_files(evidence_dir) == []


@pytest.mark.django_db
def test_submit_stores_the_file_and_a_pending_request_with_its_event(lapsed, now, evidence_dir):
    request = submit(lapsed, now, note="New card attached")
    assert RNW_RE.match(request.renewal_request_id)
    assert (request.state, request.submitted_via, request.note) == ("pending", "api", "New card attached")
    assert request.expires_at is None  # the type's validity, computed at approval
    assert (request.evidence_content_type, request.evidence_size) == ("application/pdf", len(upload().read()))
    [path] = stored_files(evidence_dir)
    assert path.read_bytes().startswith(b"%PDF-") and "certificate" not in path.name  # never the client's name
    event = Event.objects.get(type="renewal_request.submitted")
    assert event.data["renewal_request_id"] == request.renewal_request_id
    assert "note" not in event.data  # thin: nothing the mentor wrote


@pytest.mark.django_db
@pytest.mark.parametrize(("content", "content_type"), [(PNG, "image/png"), (JPEG, "image/jpeg")])
def test_images_are_judged_by_their_bytes_not_their_name(lapsed, now, content, content_type):
    request = submit(lapsed, now, evidence=upload(content, name="scan.pdf"))
    assert request.evidence_content_type == content_type


@pytest.mark.django_db
def test_a_renamed_executable_is_refused_naming_the_accepted_types_and_leaves_nothing(lapsed, now, evidence_dir):
    with pytest.raises(RuleViolation) as refused:
        submit(lapsed, now, evidence=upload(EXE, name="certificate.pdf"))
    assert "PDF, PNG or JPEG" in refused.value.fields["evidence"][0]
    nothing_stored(evidence_dir)


@pytest.mark.django_db
def test_a_file_over_the_limit_is_too_large_and_leaves_nothing(lapsed, now, evidence_dir, settings):
    settings.RENEWAL_EVIDENCE_MAX_BYTES = 100
    with pytest.raises(TooLarge):
        submit(lapsed, now, evidence=upload(b"%PDF-" + b"x" * 200))
    nothing_stored(evidence_dir)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"mentor_id": "mntr_0000000000"}, "mentor_id"),  # unknown mentor
        ({"certification_type": "peer_mentor_advanced"}, "certification_type"),  # never held
        ({"certification_type": "no_such_type"}, "certification_type"),
        ({"issued_at": dt.datetime(2026, 4, 1, tzinfo=UTC)}, "issued_at"),  # in the future
        ({"expires_at": dt.datetime(2026, 2, 1, tzinfo=UTC)}, "expires_at"),  # before the issue date
        ({"issued_at": dt.datetime(2020, 1, 1, tzinfo=UTC)}, "expires_at"),  # already expired
    ],
)
def test_each_refused_submission_names_its_field_and_leaves_nothing(lapsed, now, evidence_dir, overrides, field):
    with pytest.raises(RuleViolation) as refused:
        submit(lapsed, now, **overrides)
    assert set(refused.value.fields) == {field}
    nothing_stored(evidence_dir)


@pytest.mark.django_db
def test_a_second_pending_request_of_the_type_is_a_conflict_and_leaves_no_file(lapsed, now, evidence_dir):
    first = submit(lapsed, now)
    with pytest.raises(PendingRequestExists) as refused:
        submit(lapsed, now)
    assert refused.value.extra["renewal_request_id"] == first.renewal_request_id
    assert len(stored_files(evidence_dir)) == 1


@pytest.mark.django_db
def test_the_database_holds_one_pending_request_per_mentor_and_type(lapsed, now):
    first = submit(lapsed, now)
    with pytest.raises(IntegrityError), transaction.atomic():
        RenewalRequest.objects.create(
            renewal_request_id="rnw_0000000000",
            mentor=first.mentor,
            certification_type=first.certification_type,
            issued_at=ISSUED,
            evidence=first.evidence.name,
            evidence_content_type="application/pdf",
            evidence_size=1,
            submitted_via="api",
            created_at=now,
        )


@pytest.mark.django_db
def test_approval_is_a_renewal_with_every_consequence(lapsed, now, reviewer):
    request = submit(lapsed, now)
    approved = renewal_request_approve(
        renewal_request=request, now=now + dt.timedelta(hours=1), by=Actor(source=Source.API, user=reviewer)
    )
    cert = approved.certification
    assert (approved.state, approved.decided_by, approved.decided_at) == (
        "approved",
        reviewer,
        now + dt.timedelta(hours=1),
    )
    assert (cert.issued_at, cert.expires_at, cert.status) == (ISSUED, dt.datetime(2029, 3, 1, tzinfo=UTC), "valid")
    lapsed.refresh_from_db()
    assert lapsed.auto_pause_applied is False  # superseded: no longer lapsed
    cert.mentor.refresh_from_db()
    assert cert.mentor.status == "active"
    assert AutoPauseLog.objects.filter(event="auto_resume", certification=cert).exists()
    history = HistoryEntry.objects.get(subject="certification", object_pk=cert.pk)
    assert (history.actor, history.change, history.reason) == (
        "reviewer",
        "created",
        f"Renewal request {request.renewal_request_id}",
    )
    types = list(Event.objects.order_by("id").values_list("type", flat=True))
    assert types == [
        "renewal_request.submitted",
        "certification.created",
        "mentor.resumed",
        "renewal_request.approved",
    ]
    assert Event.objects.get(type="renewal_request.approved").data["certification_id"] == cert.certification_id
    kinds = set(Notification.objects.filter(mentor=cert.mentor).values_list("kind", flat=True))
    assert kinds == {"mentor_resumed", "renewal_approved"}


@pytest.mark.django_db
def test_the_reviewer_may_correct_the_dates(lapsed, now, reviewer):
    request = submit(lapsed, now)
    issued, expires = dt.datetime(2026, 2, 27, tzinfo=UTC), dt.datetime(2028, 2, 27, tzinfo=UTC)
    approved = renewal_request_approve(
        renewal_request=request,
        issued_at=issued,
        expires_at=expires,
        now=now,
        by=Actor(source=Source.API, user=reviewer),
    )
    assert (approved.certification.issued_at, approved.certification.expires_at) == (issued, expires)


@pytest.mark.django_db
def test_an_approval_with_bad_dates_changes_nothing(lapsed, now, reviewer):
    request = submit(lapsed, now)
    with pytest.raises(RuleViolation):
        renewal_request_approve(
            renewal_request=request, expires_at=ISSUED - dt.timedelta(days=1), now=now, by=Actor(source=Source.API)
        )
    request.refresh_from_db()
    assert request.state == "pending" and Certification.objects.count() == 1


@pytest.mark.django_db
def test_reject_needs_a_reason_and_tells_the_mentor(lapsed, now, reviewer):
    request = submit(lapsed, now)
    with pytest.raises(RuleViolation):
        renewal_request_reject(renewal_request=request, reason="  ", now=now, by=Actor(source=Source.API))
    rejected = renewal_request_reject(
        renewal_request=request, reason="The scan is unreadable", now=now, by=Actor(source=Source.API, user=reviewer)
    )
    assert (rejected.state, rejected.decision_reason, rejected.certification) == (
        "rejected",
        "The scan is unreadable",
        None,
    )
    notice = Notification.objects.get(kind="renewal_rejected")
    assert notice.renewal_request == rejected and notice.recipient == lapsed.mentor.email
    assert Event.objects.filter(type="renewal_request.rejected").count() == 1
    assert Certification.objects.count() == 1


@pytest.mark.django_db
def test_a_decided_request_answers_already_decided_to_every_decision(lapsed, now):
    request = submit(lapsed, now)
    renewal_request_withdraw(renewal_request=request, now=now, by=Actor(source=Source.API))
    for decide in (
        lambda: renewal_request_approve(renewal_request=request, now=now, by=Actor(source=Source.API)),
        lambda: renewal_request_reject(renewal_request=request, reason="x", now=now, by=Actor(source=Source.API)),
        lambda: renewal_request_withdraw(renewal_request=request, now=now, by=Actor(source=Source.API)),
    ):
        with pytest.raises(AlreadyDecided):
            decide()
    assert not Notification.objects.filter(kind__startswith="renewal_").exists()
    # A withdrawn request no longer blocks a new one.
    assert submit(request_cert(request), now).state == "pending"


def request_cert(request: RenewalRequest) -> Certification:
    return Certification.objects.get(mentor=request.mentor)


@pytest.mark.django_db
def test_submitted_via_follows_from_who_sent_it(lapsed, now):
    other = MentorFactory()
    assert submit(lapsed, now, by=Actor.mentor()).submitted_via == "mentor_link"
    assert other.renewal_requests.count() == 0
