"""A mentor with something of every kind CertHub keeps about a person, and a second mentor beside them.

``subject`` is built through the services, as the doors build it: certifications
(one lapsed and paused by the job, one renewal that resumes them), an edit of
the name and email, notices (one sent, one queued), renewal requests (one
rejected with a reason, one pending) with their evidence, a remembered
idempotent answer and an admin log row. ``other`` has the same kinds of rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile

from certhub.models import IdempotencyKey
from certifications.models import CertificationType, Mentor
from certifications.services import (
    certification_create,
    expiry_job_run,
    mentor_update,
    renewal_request_reject,
    renewal_request_submit,
)
from notifications.models import Notification, NotificationState
from notifications.services import notification_send
from tests.factories import TEST_ACTOR, CertificationFactory, MentorFactory, cert_type

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 1, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@dataclass(frozen=True)
class Person:
    mentor: Mentor
    name: str
    email: str
    old_name: str
    old_email: str

    @property
    def traces(self) -> tuple[str, ...]:
        """Every string that would betray the person if found anywhere in the database."""
        return (self.name, self.email, self.old_name, self.old_email, self.name.split()[-1])


@pytest.fixture(autouse=True)
def evidence_dir(settings, tmp_path) -> Path:
    directory = tmp_path / "evidence"
    settings.RENEWAL_EVIDENCE_STORAGE = {**settings.RENEWAL_EVIDENCE_STORAGE, "DIR": str(directory), "OPTIONS": {}}
    return directory


def evidence_files(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()] if directory.exists() else []


def _person(tag: str, *, reviewer: User) -> Person:
    old_name, old_email = f"Pat {tag}formerly", f"pat.{tag.lower()}.old@example.org"
    name, email = f"Quentin Zzyzx{tag}", f"quentin.zzyzx{tag.lower()}@example.org"
    mentor = MentorFactory(name=old_name, email=old_email, created_at=NOW - dt.timedelta(days=900))
    mentor = mentor_update(mentor=mentor, changes={"name": name, "email": email}, now=NOW, by=TEST_ACTOR)
    # A basic record lapsed a month ago: the job pauses the mentor and queues the pause notice.
    CertificationFactory(
        mentor=mentor,
        issued_at=dt.datetime(2023, 2, 20, tzinfo=UTC),
        expires_at=dt.datetime(2026, 2, 20, tzinfo=UTC),
    )
    CertificationFactory(
        mentor=mentor,
        certification_type=cert_type("peer_mentor_advanced"),
        issued_at=dt.datetime(2025, 1, 1, tzinfo=UTC),
        expires_at=dt.datetime(2028, 1, 1, tzinfo=UTC),
    )
    return Person(mentor=mentor, name=name, email=email, old_name=old_name, old_email=old_email)


def _requests(person: Person, *, reviewer: User) -> None:
    mentor_id = person.mentor.mentor_id
    basic, advanced = "peer_mentor_basic", "peer_mentor_advanced"
    first = renewal_request_submit(
        mentor_id=mentor_id,
        certification_type=advanced,
        issued_at=NOW - dt.timedelta(days=3),
        note=f"Hello, this is {person.name} ({person.email}).",
        evidence=ContentFile(PDF, name="scan.pdf"),
        now=NOW,
        by=TEST_ACTOR,
    )
    renewal_request_reject(
        renewal_request=first, reason=f"{person.name}, the scan is unreadable.", now=NOW, by=TEST_ACTOR
    )
    renewal_request_submit(
        mentor_id=mentor_id,
        certification_type=basic,
        issued_at=NOW - dt.timedelta(days=2),
        note=f"Signed {person.name}",
        evidence=ContentFile(PDF + b"again", name="scan2.pdf"),
        now=NOW,
        by=TEST_ACTOR,
    )
    LogEntry.objects.create(
        user=reviewer,
        content_type=ContentType.objects.get_for_model(Mentor),
        object_id=str(person.mentor.pk),
        object_repr=str(Mentor.objects.get(pk=person.mentor.pk)),
        action_flag=CHANGE,
        change_message="[]",
    )
    IdempotencyKey.objects.create(
        user=reviewer,
        key=f"pause-{mentor_id}",
        fingerprint="0" * 64,
        status_code=200,
        response_body={"mentor_id": mentor_id, "name": person.name, "email": person.email},
        created_at=NOW,
        expires_at=NOW + dt.timedelta(hours=24),
    )


@pytest.fixture
def reviewer(db) -> User:
    return User.objects.create_user("reviewer")


@pytest.fixture
def people(db, reviewer, evidence_dir) -> tuple[Person, Person]:
    """``(subject, other)``: two mentors with every kind of personal data, after the job paused both."""
    subject, other = _person("A", reviewer=reviewer), _person("B", reviewer=reviewer)
    expiry_job_run(now=NOW)
    # The renewal of the basic record resumes the mentor (an auto_resume log row and a queued notice).
    for person in (subject, other):
        certification_create(
            mentor_id=person.mentor.mentor_id,
            certification_type=CertificationType.objects.get(code="peer_mentor_basic"),
            issued_at=NOW - dt.timedelta(days=10),
            now=NOW,
            by=TEST_ACTOR,
        )
        _requests(person, reviewer=reviewer)
    # The pause notices go out (rendered, with their bodies); the resume notices stay queued.
    for notice in Notification.objects.filter(kind="mentor_paused", state=NotificationState.QUEUED):
        notification_send(notification_id=notice.notification_id, now=NOW, last_attempt=False)
    return subject, other


@pytest.fixture
def subject(people) -> Person:
    return people[0]


@pytest.fixture
def other(people) -> Person:
    return people[1]
