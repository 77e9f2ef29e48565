"""Helpers of the admin tests: the pages' URLs, staff users, records relative to the real clock, posting actions."""

from __future__ import annotations

import datetime as dt

from django.contrib.admin import helpers
from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone

from certifications import services
from certifications.models import AutoPauseLog, Certification, CertificationStatus, JobTrigger, Mentor, MentorStatus
from tests.factories import CertificationFactory

UTC = dt.UTC
DAY = dt.timedelta(days=1)
CERTS = "/admin/certifications/certification/"
MENTORS = "/admin/certifications/mentor/"
RUNS = "/admin/certifications/expiryjobrun/"
RUN_PAGE = "/admin/certifications/expiryjobrun/run/"
LOGS = "/admin/certifications/autopauselog/"
VIEW_PERMS = ("view_certification", "view_mentor", "view_expiryjobrun", "view_autopauselog", "view_certificationtype")


def staff_user(username: str, *codenames: str, groups: tuple[str, ...] = ()) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username, is_staff=True)
    if codenames:
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def clock() -> dt.datetime:
    """The admin reads the real clock; whole seconds, as the admin's date-time inputs carry."""
    return timezone.now().replace(microsecond=0)


def make_cert(*, days: float, mentor: Mentor | None = None, **fields) -> Certification:
    """A live certification expiring ``days`` from now (negative: already past)."""
    expires_at = clock() + dt.timedelta(days=days)
    fields.setdefault("status", CertificationStatus.VALID if days > 0 else CertificationStatus.EXPIRED)
    fields.setdefault("issued_at", expires_at - dt.timedelta(days=3 * 365))
    if mentor is not None:
        fields["mentor"] = mentor
    return CertificationFactory(expires_at=expires_at, **fields)


def auto_paused_cert(**fields) -> Certification:
    """A lapsed certification whose mentor the expiry job has paused."""
    cert = make_cert(days=-5, **fields)
    services.expiry_job_run(now=clock(), trigger=JobTrigger.CLI)
    cert.refresh_from_db()
    assert cert.auto_pause_applied and cert.mentor.status == MentorStatus.PAUSED
    return cert


def listed_ids(response) -> set[str]:
    return {obj.certification_id for obj in response.context["cl"].result_list}


def act(client, url: str, action: str, objs, **data):
    """Post an admin action for ``objs`` (``apply`` posts the intermediate page's form too)."""
    payload = {"action": action, helpers.ACTION_CHECKBOX_NAME: [obj.pk for obj in objs], **data}
    if "apply" not in data:
        payload["index"] = 0
    return client.post(url, payload, follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def snapshot(mentor: Mentor) -> dict:
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


def dt_fields(name: str, value: dt.datetime) -> dict:
    return {f"{name}_0": value.strftime("%Y-%m-%d"), f"{name}_1": value.strftime("%H:%M:%S")}


def change_data(cert: Certification, **overrides) -> dict:
    data = {
        "certification_type": cert.certification_type_id,
        **dt_fields("issued_at", cert.issued_at),
        **dt_fields("expires_at", cert.expires_at),
        "status": cert.status,
        "revocation_reason": cert.revocation_reason,
    }
    data.update(overrides)
    return data
