"""``manage.py apply_retention [--dry-run] [--json] [--batch-size N] [--pause-ms N] [--rest-factor F]``.

Lets kept data go once past its window (``certhub.retention``).
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from certhub.retention import retention_apply


class Command(BaseCommand):
    help = (
        "Delete or blank what has been kept longer than its RETENTION_* window (events, webhook deliveries, "
        "notifications, evidence files, failed sign-ins), in batches. The dry run only counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; change nothing.")
        parser.add_argument("--json", action="store_true", help="Print the report as one JSON object.")
        parser.add_argument("--batch-size", type=int, default=None, help="Ids per batch (RETENTION_BATCH_SIZE).")
        parser.add_argument(
            "--pause-ms",
            type=int,
            default=None,
            help="Rest after each batch that changed rows (RETENTION_BATCH_PAUSE_MS).",
        )
        parser.add_argument(
            "--rest-factor",
            type=float,
            default=None,
            help="Also rest this many times as long as the batch took (RETENTION_BATCH_REST_FACTOR).",
        )

    def handle(self, *args, **options) -> None:
        dry_run, batch_size, pause_ms = options["dry_run"], options["batch_size"], options["pause_ms"]
        rest_factor = options["rest_factor"]
        if (
            (batch_size is not None and batch_size < 1)
            or (pause_ms is not None and pause_ms < 0)
            or (rest_factor is not None and not 0 <= rest_factor <= 100)
        ):
            raise CommandError("--batch-size must be at least 1, --pause-ms 0 or more, --rest-factor from 0 to 100.")
        report = retention_apply(
            now=timezone.now(), dry_run=dry_run, batch_size=batch_size, pause_ms=pause_ms, rest_factor=rest_factor
        )
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
            return
        verb = "would be" if dry_run else "were"
        for kind in report.kinds:
            self.stdout.write(
                f"{kind.kind}: {kind.rows} {verb} {kind.action} (older than {kind.window_days} days, "
                f"{kind.batches} batches of at most {report.batch_size} ids)"
            )
