"""``manage.py send_reminders [--dry-run] [--json]``: the reminder scan now, from the command line."""

from __future__ import annotations

import dataclasses
import json

from django.core.management.base import BaseCommand
from django.utils import timezone

from notifications.services import reminders_scan


class Command(BaseCommand):
    help = "Create the reminders owed now (one per window of each expiry cycle) and send them; print the counts."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count the reminders owed and create nothing.")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the counts as JSON.")

    def handle(self, *args, dry_run: bool, as_json: bool, **options) -> None:
        result = reminders_scan(now=timezone.now(), dry_run=dry_run)
        body = {"trigger": "cli", **dataclasses.asdict(result)}
        if as_json:
            self.stdout.write(json.dumps(body, indent=2))
            return
        verb = "would create" if dry_run else "created"
        self.stdout.write(
            f"Reminders {verb}: {result.created} ({result.queued} to send, {result.skipped} skipped: no email address)."
        )
