"""Create the first admin account (once) and print how to log in and call the API (with an API key of every scope)."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone

from access.keys import api_key_create, api_key_find
from access.security_log import COMMAND_LINE
from certhub.api.scopes import SCOPES

USERNAME = "admin"
KEY_DAYS = 90


def admin_key(user, path: Path) -> str:
    """The admin's API key of every scope, kept in ``path`` (as the password is) while it is valid; else a new one."""
    now = timezone.now()
    if path.exists():
        key = api_key_find(path.read_text().strip())
        if key is not None and key.user_id == user.pk and key.revoked_at is None and key.expires_at > now:
            return path.read_text().strip()
    _, secret = api_key_create(
        user=user,
        name="bin/run (admin)",
        scopes=SCOPES,
        expires_at=now + dt.timedelta(days=KEY_DAYS),
        now=now,
        by=None,
        origin=COMMAND_LINE,
    )
    path.write_text(secret + "\n")
    path.chmod(0o600)
    return secret


class Command(BaseCommand):
    help = "Create the 'admin' superuser on first run (password kept in var/) and print the login details."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="Base URL to print.")

    def handle(self, *args, url: str, **options) -> None:
        User = get_user_model()
        secret_file = Path(settings.VAR_DIR) / "admin-password.txt"
        user = User.objects.filter(username=USERNAME).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            user = User.objects.create_superuser(USERNAME, email="", password=password)
            secret_file.parent.mkdir(parents=True, exist_ok=True)
            secret_file.write_text(password + "\n")
            secret_file.chmod(0o600)
        elif secret_file.exists():
            password = secret_file.read_text().strip()
        else:
            password = "(unchanged; reset it with: .venv/bin/python manage.py changepassword admin)"
        key = admin_key(user, Path(settings.VAR_DIR) / "admin-api-key.txt")
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "CertHub is starting.",
                    f"  Admin:    {url}/admin/   user: {USERNAME}   password: {password}",
                    f"  API:      {url}/api/v1/certifications   (key: {key})",
                    "            send it as: Authorization: Bearer <key>",
                    f"  API docs: {url}/api/docs/",
                    f"  Health:   {url}/healthz",
                    "  Stop with Ctrl-C.",
                    "",
                ]
            )
        )
