"""``manage.py create_api_key USERNAME --name N --scopes S,... --days D``: make a key and print it once."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from access.keys import MAX_DAYS, api_key_create
from access.security_log import COMMAND_LINE
from certhub.api.scopes import SCOPES
from certhub.errors import DomainError


class Command(BaseCommand):
    help = "Create an API key for a user and print it (the only time it is shown; CertHub keeps its hash)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="What the key is for (an integration's name).")
        parser.add_argument("--scopes", required=True, help=f"Comma-separated, or 'all': {', '.join(SCOPES)}.")
        parser.add_argument("--days", type=int, default=90, help=f"Days until it expires (1 to {MAX_DAYS}).")

    def handle(self, *args, username: str, name: str, scopes: str, days: int, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        if not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be between 1 and {MAX_DAYS}.")
        now = timezone.now()
        chosen = SCOPES if scopes.strip() == "all" else scopes.split(",")
        try:
            key, secret = api_key_create(
                user=user,
                name=name,
                scopes=chosen,
                expires_at=now + dt.timedelta(days=days),
                now=now,
                by=None,
                origin=COMMAND_LINE,
            )
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stderr.write(
            f"{key.key_id} for {user.username}: {', '.join(key.scopes)}; expires {key.expires_at:%Y-%m-%d}"
        )
        self.stdout.write(secret)
