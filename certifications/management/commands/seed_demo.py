"""``manage.py seed_demo``: load a realistic, deterministic data set (a small demo set with no arguments).

Examples::

    manage.py seed_demo                                  # 300 records, 6 due: a demo to click through
    manage.py seed_demo --if-empty                       # the same, only into an empty database (bin/run)
    manage.py seed_demo --certs 1000000 --due 10000 --seed 7 --flush
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from certhub.api.fields import parse_timestamp
from certifications.demo.layout import SeedError, SeedSpec
from certifications.demo.loader import is_empty, seed

DEMO_CERTS = 300
DEMO_DUE = 6


def parse_now(raw: str | None):
    """``--now`` as an aware UTC datetime; the current minute when absent."""
    if raw is None:
        return timezone.now().replace(second=0, microsecond=0)
    try:
        return parse_timestamp(raw)
    except ValueError as exc:
        raise CommandError(f"--now: {exc}") from None


class Command(BaseCommand):
    help = (
        "Load a realistic data set: mentors, both certification types, renewal chains, past auto-pauses "
        "already applied and exactly --due due records. Deterministic for a given --seed and --now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--certs", type=int, default=DEMO_CERTS, help="Certification records (default 300).")
        parser.add_argument("--mentors", type=int, default=None, help="Mentors (default: certs * 2 / 5).")
        parser.add_argument("--due", type=int, default=DEMO_DUE, help="Records due at --now (default 6).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument("--now", default=None, help="The data set's 'now', ISO 8601 (default: this minute).")
        parser.add_argument(
            "--window-days", type=int, default=7, help="Days since the job last ran; due records lapsed since then."
        )
        parser.add_argument("--flush", action="store_true", help="Replace the existing mentors and certifications.")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when the database already has data.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar on stderr.")

    def handle(self, *args, **options) -> None:
        if options["if_empty"] and not is_empty():
            if options["verbosity"] >= 1:
                self.stdout.write("seed_demo: the database already has data; nothing seeded.")
            return
        if options["window_days"] < 1:
            raise CommandError("--window-days must be at least 1.")
        spec = SeedSpec(
            certs=options["certs"],
            mentors=options["mentors"],
            due=options["due"],
            seed=options["seed"],
            now=parse_now(options["now"]),
            window_days=options["window_days"],
        )
        started = time.monotonic()
        try:
            data = seed(
                spec,
                show_progress=options["verbosity"] >= 1 and not options["no_progress"],
                replace=options["flush"],
            )
        except SeedError as exc:
            raise CommandError(str(exc)) from None
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"seed_demo: {data.certification_count:,} certifications, {data.mentor_count:,} mentors, "
                f"{data.log_count:,} log rows, {data.run_count:,} past runs in {time.monotonic() - started:.1f}s; "
                f"{data.expected_due:,} due at {spec.now:%Y-%m-%dT%H:%M:%SZ} (seed {spec.seed})."
            )
