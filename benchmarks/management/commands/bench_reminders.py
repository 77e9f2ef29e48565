"""``manage.py bench_reminders``: the reminder scan against its SQL floor at a table size, PostgreSQL only.

Seeds ``--certs`` records (``seed_demo``'s generator; ``--flush`` replaces
existing data), sets both types' reminder days so that about ``--in-window``
records are inside a window (restored afterwards), then times the scan and
the floor in interleaved rounds, each in a transaction rolled back. Exits
non-zero when the two wrote different rows. With ``--json`` the last line is
one JSON object.
"""

from __future__ import annotations

import json
import statistics
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from benchmarks import reminders as bench
from certifications.demo.layout import SeedError, SeedSpec
from certifications.demo.loader import seed
from certifications.management.commands.seed_demo import parse_now
from certifications.models import CertificationType

DEFAULT_NOW = "2026-03-26T08:00:00Z"


class Command(BaseCommand):
    help = "Time the reminder scan against a hand-written SQL floor inserting the same rows; check they agree."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--certs", type=int, default=1_000_000)
        parser.add_argument("--in-window", type=int, default=10_000, help="Records to place inside a window.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--now", default=DEFAULT_NOW)
        parser.add_argument("--repeat", type=int, default=5, help="Interleaved rounds; figures are medians.")
        parser.add_argument("--no-seed", action="store_true", help="Use the data already in the database.")
        parser.add_argument("--flush", action="store_true", help="Replace existing mentors and certifications.")
        parser.add_argument("--json", action="store_true", help="End with one JSON line of the figures.")

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_reminders measures against PostgreSQL: set DATABASE_URL.")
        now = parse_now(options["now"])
        say = self.stdout.write
        seed_s = 0.0
        if not options["no_seed"]:
            started = time.perf_counter()
            try:
                seed(
                    SeedSpec(
                        certs=options["certs"], due=max(1, options["certs"] // 100), seed=options["seed"], now=now
                    ),
                    show_progress=options["verbosity"] >= 1,
                    replace=options["flush"],
                )
            except SeedError as exc:
                raise CommandError(str(exc)) from None
            seed_s = time.perf_counter() - started
            say(f"seeded {options['certs']:,} certifications in {seed_s:.1f}s")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        types = CertificationType.objects.all()
        seeded_policy = dict(types.values_list("pk", "reminder_days"))
        offsets = bench.offsets_for(now=now, target=options["in_window"])
        types.update(reminder_days=offsets)
        try:
            owed = bench.in_window(now=now)
            say(f"reminder days {offsets} on every type: {owed:,} reminders owed at {options['now']}")
            scans, floors = [], []
            for number in range(1, options["repeat"] + 1):
                scans.append(bench.scan_round(now=now))
                floors.append(bench.floor_round(now=now))
                say(f"  round {number}: scan {scans[-1].seconds:.3f}s, floor {floors[-1].seconds:.3f}s")
            peak_mb = bench.scan_peak_python_mb(now=now)
        finally:
            for pk, days in seeded_policy.items():
                CertificationType.objects.filter(pk=pk).update(reminder_days=days)
        scan_s = statistics.median(each.seconds for each in scans)
        floor_s = statistics.median(each.seconds for each in floors)
        identical = {each.fingerprint for each in scans + floors} == {scans[0].fingerprint}
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT count(*) FROM "{bench.CERT}"')
            (certs,) = cursor.fetchone()
        result = {
            "certs": certs,
            "owed": owed,
            "offsets": offsets,
            "now": options["now"],
            "seed_s": round(seed_s, 1),
            "repeat": options["repeat"],
            "scan_s": round(scan_s, 4),
            "floor_s": round(floor_s, 4),
            "ratio_vs_floor": round(scan_s / floor_s, 3) if floor_s else None,
            "rows": scans[0].rows,
            "identical": identical,
            "scan_peak_python_mb": round(peak_mb, 2),
            "rounds": [[round(s.seconds, 4), round(f.seconds, 4)] for s, f in zip(scans, floors, strict=True)],
        }
        say(
            f"\nreminder scan: {certs:,} certifications, {result['rows']:,} reminders written\n"
            f"  scan   {scan_s:8.3f}s (median of {options['repeat']}), Python peak {peak_mb:.2f} MB\n"
            f"  floor  {floor_s:8.3f}s   scan / floor = {result['ratio_vs_floor']}\n"
            f"  identical rows: {'yes' if identical else 'NO'}"
        )
        if options["json"]:
            self.stdout.write(json.dumps(result))
        if not identical:
            raise CommandError("The scan and the SQL floor wrote different rows.")
