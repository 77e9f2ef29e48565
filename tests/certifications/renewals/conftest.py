"""Renewal request fixtures: evidence kept in a temporary directory, files of each kind, a mentor due to renew."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from certifications.models import Certification
from tests.factories import CertificationFactory, MentorFactory

UTC = dt.UTC
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 32  # a Windows executable, whatever its name says


@pytest.fixture(autouse=True)
def evidence_dir(settings, tmp_path) -> Path:
    """Evidence files go to a directory of the test's own."""
    directory = tmp_path / "evidence"
    settings.RENEWAL_EVIDENCE_STORAGE = {**settings.RENEWAL_EVIDENCE_STORAGE, "DIR": str(directory), "OPTIONS": {}}
    return directory


def stored_files(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()] if directory.exists() else []


def upload(content: bytes = PDF, name: str = "certificate.pdf") -> ContentFile:
    return ContentFile(content, name=name)


@pytest.fixture
def lapsed(now) -> Certification:
    """A basic record that expired a month before ``now``, its mentor paused automatically for it."""
    mentor = MentorFactory(status="paused", paused_by="auto", paused_at=now, pause_reason="Certification lapsed")
    return CertificationFactory(
        mentor=mentor,
        issued_at=dt.datetime(2023, 2, 26, tzinfo=UTC),
        expires_at=dt.datetime(2026, 2, 26, tzinfo=UTC),
        status="expired",
        auto_pause_applied=True,
        auto_pause_applied_at=now,
    )
