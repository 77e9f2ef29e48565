"""``manage.py mail_settings``: one line saying where CertHub's mail goes (``bin/run`` prints it)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Say where outgoing mail goes: files under a directory (the embedded default) or an SMTP server."

    def handle(self, *args, **options) -> None:
        backend = settings.EMAIL_BACKEND
        if backend.endswith("filebased.EmailBackend"):
            where = f"written as files under {settings.EMAIL_FILE_PATH} (set EMAIL_HOST to send over SMTP)"
        elif backend.endswith("smtp.EmailBackend"):
            where = f"sent over SMTP via {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
        else:
            where = f"handled by {backend}"
        self.stdout.write(f"Mail:  {where}, from {settings.DEFAULT_FROM_EMAIL}")
