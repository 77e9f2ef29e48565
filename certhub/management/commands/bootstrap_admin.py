"""Create the first admin account (once) and print how to log in and call the API."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token

USERNAME = "admin"


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
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "CertHub is starting.",
                    f"  Admin:    {url}/admin/   user: {USERNAME}   password: {password}",
                    f"  API:      {url}/api/v1/certifications   (token: {token.key})",
                    f"  API docs: {url}/api/docs/",
                    f"  Health:   {url}/healthz",
                    "  Stop with Ctrl-C.",
                    "",
                ]
            )
        )
