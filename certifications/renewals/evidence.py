"""Evidence files: what a file is, judged by its first bytes, and where it is kept.

A renewal request carries one PDF, PNG or JPEG of at most
``RENEWAL_EVIDENCE_MAX_BYTES``. The kind comes from the content's magic
number, never from the name or the declared content type, so a renamed
executable is refused. Files are kept through Django's storage API in a
storage of their own (``RENEWAL_EVIDENCE_STORAGE``: the file system under
``var/evidence`` by default), under a random name (the client's file name is
never used) and never served from a public URL: the API and the admin stream
them as attachments.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models import QuerySet
from django.utils.functional import LazyObject, empty

from certhub.errors import RuleViolation, TooLarge
from certhub.ids import random_token

ACCEPTED = "PDF, PNG or JPEG"


@dataclass(frozen=True)
class EvidenceKind:
    name: str
    content_type: str
    extension: str
    magic: bytes


KINDS = (
    EvidenceKind("PDF", "application/pdf", "pdf", b"%PDF-"),
    EvidenceKind("PNG", "image/png", "png", b"\x89PNG\r\n\x1a\n"),
    EvidenceKind("JPEG", "image/jpeg", "jpg", b"\xff\xd8\xff"),
)
HEAD = max(len(kind.magic) for kind in KINDS)


def evidence_too_large() -> TooLarge:
    limit = settings.RENEWAL_EVIDENCE_MAX_BYTES
    return TooLarge(
        f"The evidence file is larger than {limit} bytes (RENEWAL_EVIDENCE_MAX_BYTES).",
        fields={"evidence": [f"At most {limit} bytes."]},
        max_bytes=limit,
    )


# Room in a multipart body for the other fields and the framing, beyond the evidence file itself.
FORM_ALLOWANCE = 64 * 1024


def evidence_body_too_large(meta: dict) -> bool:
    """Whether a request's declared ``Content-Length`` cannot fit an evidence file (checked before reading it)."""
    try:
        declared = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False  # no usable length: the file's own size is checked once read
    return declared > settings.RENEWAL_EVIDENCE_MAX_BYTES + FORM_ALLOWANCE


def evidence_kind(file: File) -> EvidenceKind:
    """The kind of ``file`` from its first bytes and its size; a 400 (which kinds) or a 413 (the limit) otherwise."""
    if file.size is not None and file.size > settings.RENEWAL_EVIDENCE_MAX_BYTES:
        raise evidence_too_large()
    file.seek(0)
    head = file.read(HEAD)
    file.seek(0)
    for kind in KINDS:
        if head.startswith(kind.magic):
            return kind
    message = f"The evidence must be a {ACCEPTED} file (judged by its content, not its name)."
    raise RuleViolation(message, fields={"evidence": [message]})


def evidence_name(kind: EvidenceKind, *, now: dt.datetime) -> str:
    """A fresh storage name: the month, then random characters (nothing the client sent)."""
    return f"{now:%Y/%m}/{random_token(20)}.{kind.extension}"


class _EvidenceStorage(LazyObject):
    """The evidence storage, built from ``RENEWAL_EVIDENCE_STORAGE`` when first used (again after a settings change)."""

    def _setup(self) -> None:
        config = settings.RENEWAL_EVIDENCE_STORAGE
        options = dict(config.get("OPTIONS") or {})
        if config["BACKEND"] == "django.core.files.storage.FileSystemStorage":
            options.setdefault("location", config.get("DIR") or str(Path(settings.VAR_DIR) / "evidence"))
            options["base_url"] = None  # no URL: files are streamed by the API and the admin only
        self._wrapped = storages.create_storage({"BACKEND": config["BACKEND"], "OPTIONS": options})


_storage = _EvidenceStorage()


def evidence_storage() -> Storage:
    """The storage of evidence files (the model field's callable, so migrations name this function)."""
    return _storage


def _reset(*, setting: str, **kwargs) -> None:
    if setting in ("RENEWAL_EVIDENCE_STORAGE", "VAR_DIR"):
        _storage._wrapped = empty


setting_changed.connect(_reset)


def evidence_clear(selected: QuerySet) -> int:
    """Empty the ``selected`` requests' evidence and delete their files after commit; return how many held one.

    Retention (after the decision's window) and a mentor's erasure both call it:
    the request stays, naming no file, and a rolled-back write keeps the files.
    """
    found = dict(selected.exclude(evidence="").values_list("pk", "evidence"))
    selected.model.objects.filter(pk__in=list(found)).update(evidence="")
    transaction.on_commit(partial(_files_delete, names=sorted(found.values())))
    return len(found)


def _files_delete(*, names: list[str]) -> None:
    storage = evidence_storage()
    for name in names:
        try:
            storage.delete(name)
        except OSError:  # logged and left: the row no longer names it, an operator can remove it
            logging.getLogger(__name__).exception("evidence file %s could not be deleted", name)
