"""``manage.py run_expiry_job [--dry-run] [--json]``: run the expiry job now, from the command line."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from certhub.errors import JobAlreadyRunning
from certifications import services
from certifications.api.serializers import ExpiryJobRunResultSerializer
from certifications.models import JobTrigger


class Command(BaseCommand):
    help = "Run the expiry job now and print its summary (the same fields as the API's run endpoint)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Compute the counters and change nothing.")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the API's JSON body.")

    def handle(self, *args, dry_run: bool, as_json: bool, **options) -> None:
        try:
            run = services.expiry_job_run(now=timezone.now(), dry_run=dry_run, trigger=JobTrigger.CLI)
        except JobAlreadyRunning as exc:
            raise CommandError(exc.message, returncode=3) from exc
        body = ExpiryJobRunResultSerializer(run).data
        if as_json:
            self.stdout.write(json.dumps(body, indent=2))
            return
        width = max(len(name) for name in body)
        for name, value in body.items():
            if name == "failures":
                continue
            self.stdout.write(f"{name.ljust(width)}  {_plain(value)}")
        self.stdout.write(f"{'failures'.ljust(width)}  {len(body['failures'])}")
        for failure in body["failures"]:
            self.stdout.write(f"  {failure['mentor_id']} {failure['certification_id']}: {failure['error']}")


def _plain(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
