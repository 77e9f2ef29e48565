"""Shared builders for the lapse tests: lapsed and current records at a fixed ``NOW``, snapshots, counters."""

from __future__ import annotations

import datetime as dt

from certifications.models import AutoPauseLog, Certification, ExpiryJobRun, Mentor
from tests.factories import CertificationFactory, cert_type

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 26, 1, 0, tzinfo=UTC)
LAPSED_ON = dt.datetime(2026, 3, 1, tzinfo=UTC)


def lapsed_cert(mentor=None, code="peer_mentor_basic", **fields) -> Certification:
    """A record that expired on 2026-03-01 and is still ``valid`` (the job marks it)."""
    fields.setdefault("issued_at", dt.datetime(2023, 3, 1, tzinfo=UTC))
    fields.setdefault("expires_at", LAPSED_ON)
    if mentor is not None:
        fields["mentor"] = mentor
    return CertificationFactory(certification_type=cert_type(code), **fields)


def current_cert(mentor=None, code="peer_mentor_basic", **fields) -> Certification:
    fields.setdefault("issued_at", dt.datetime(2026, 2, 1, tzinfo=UTC))
    fields.setdefault("expires_at", dt.datetime(2029, 2, 1, tzinfo=UTC))
    if mentor is not None:
        fields["mentor"] = mentor
    return CertificationFactory(certification_type=cert_type(code), **fields)


def snapshot() -> dict[str, list[dict]]:
    """Every domain row but the run records."""
    return {
        "certifications": list(Certification.objects.order_by("pk").values()),
        "mentors": list(Mentor.objects.order_by("pk").values()),
        "logs": list(AutoPauseLog.objects.order_by("pk").values()),
    }


def counters(run: ExpiryJobRun) -> dict:
    return {
        "mentors_scanned": run.mentors_scanned,
        "expired_found": run.expired_found,
        "auto_paused": run.auto_paused,
        "marked_expired": run.marked_expired,
        "failures": run.failures,
    }


def refreshed(obj):
    obj.refresh_from_db()
    return obj
