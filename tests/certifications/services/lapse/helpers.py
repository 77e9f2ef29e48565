"""Shared builders for the lapse tests: lapsed and current records at a fixed ``NOW``, snapshots, counters."""

from __future__ import annotations

import datetime as dt

from certhub import ids
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


TAKEN_LOG_ID = "log_TAKEN000"


def due_records_whose_first_drawn_log_ids_are_taken(monkeypatch) -> tuple[Certification, list[Certification]]:
    """A logged record holding ``TAKEN_LOG_ID`` and three due records; the next two ids drawn are that one.

    Returns the logged record and the due ones. Both id draws are patched:
    ``certhub.ids`` (``fresh_ids``, the ORM engine) and the PostgreSQL engine's.
    """
    kept = lapsed_cert()
    AutoPauseLog.objects.create(
        log_id=TAKEN_LOG_ID, mentor=kept.mentor, certification=kept, event="auto_pause", reason="x", applied_at=NOW
    )
    Certification.objects.filter(pk=kept.pk).update(auto_pause_applied=True, auto_pause_applied_at=NOW)
    due = [lapsed_cert() for _ in range(3)]
    drawn = iter([TAKEN_LOG_ID, TAKEN_LOG_ID, "log_FRESH001", "log_FRESH002", "log_FRESH003", "log_FRESH004"])
    real = ids.new_id

    def draw(prefix: str, length: int = 8) -> str:
        # Only log ids are forced; the other ids a batch draws (its notices') stay random.
        return next(drawn) if prefix == "log_" else real(prefix, length)

    monkeypatch.setattr("certhub.ids.new_id", draw)
    monkeypatch.setattr("certifications.services.lapse.engines.postgresql.new_id", draw)
    return kept, due
