"""Settings of renewal requests: evidence files, the mentor's signed link and its rate limit.

Imported by name into ``config.settings``; every variable is in docs/configuration.md.
"""

from __future__ import annotations

import json
import os

# An evidence file (PDF, PNG or JPEG) is at most this many bytes; a larger upload is a 413.
RENEWAL_EVIDENCE_MAX_BYTES = int(os.environ.get("RENEWAL_EVIDENCE_MAX_BYTES", str(10 * 1024 * 1024)))
# Where evidence files are kept (Django's storage API, never a public media URL): the file system
# under RENEWAL_EVIDENCE_DIR (empty: <CERTHUB_VAR_DIR>/evidence) by default. An S3-compatible store
# through django-storages: the backend storages.backends.s3.S3Storage, its options as a JSON object.
RENEWAL_EVIDENCE_STORAGE = {
    "BACKEND": os.environ.get("RENEWAL_EVIDENCE_STORAGE_BACKEND") or "django.core.files.storage.FileSystemStorage",
    "OPTIONS": json.loads(os.environ.get("RENEWAL_EVIDENCE_STORAGE_OPTIONS") or "{}"),
    "DIR": os.environ.get("RENEWAL_EVIDENCE_DIR", ""),
}
# The mentor's link <PUBLIC_BASE_URL>/renew/<token>: valid DAYS days after it was sent; its page
# answers RATE_PER_MINUTE requests per client address and minute (shared across workers with Redis).
RENEWAL_LINK = {
    "DAYS": int(os.environ.get("RENEWAL_LINK_DAYS", "30")),
    "RATE_PER_MINUTE": int(os.environ.get("RENEWAL_LINK_RATE_PER_MINUTE", "20")),
}
# This installation's public address (e.g. https://certhub.example.org); empty: notices carry no link.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")
