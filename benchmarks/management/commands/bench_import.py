"""``manage.py bench_import``: applying an import of ``--rows`` new certifications, against a COPY + SQL floor.

Writes the CSV under ``var/``, then runs (a) the product's import and (b) the
floor, each in its own process on emptied domain tables (PostgreSQL only:
this replaces the database's mentors and certifications; ``--flush`` is
required once some exist). Prints rows per second, peak memory and the ratio
import / floor (the goal is at most 2), and checks both left identical rows,
table by table (records, mentors, history, events, tallies). With ``--json``
the last line is one JSON object of the figures.
"""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from benchmarks import imports as bench
from certifications.demo.loader import is_empty

NOW = dt.datetime(2026, 3, 26, 1, 0, tzinfo=dt.UTC)
GOAL = 2.0


class Command(BaseCommand):
    help = "The import of --rows new certifications against a COPY + set-based SQL floor (PostgreSQL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=50_000)
        parser.add_argument("--flush", action="store_true", help="Replace the mentors and certifications in place.")
        parser.add_argument("--json", action="store_true", help="End with one JSON line of the figures.")

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_import needs PostgreSQL (set DATABASE_URL).")
        if not is_empty() and not options["flush"]:
            raise CommandError("The database holds mentors or certifications: pass --flush to replace them.")
        rows = options["rows"]
        path = settings.BASE_DIR / "var" / f"bench_import_{rows}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        bench.write_file(path, rows=rows)
        self.stdout.write(f"(a) the import of {rows:,} rows (own process) ...")
        product = bench.run_in_subprocess(path, now=NOW, contender="import")
        self.stdout.write("(b) the COPY + SQL floor (own process) ...")
        floor = bench.run_in_subprocess(path, now=NOW, contender="floor")
        if product["left"] != floor["left"]:
            raise CommandError(f"The import and the floor left different counts: {product['left']} / {floor['left']}")
        differ = sorted(table for table in floor["contents"] if product["contents"][table] != floor["contents"][table])
        if differ:
            raise CommandError(f"The import and the floor left different rows in: {', '.join(differ)}")
        ratio = product["seconds"] / floor["seconds"]
        figures = {
            "rows": rows,
            "import_s": round(product["seconds"], 3),
            "floor_s": round(floor["seconds"], 3),
            "import_rows_per_s": round(rows / product["seconds"], 1),
            "floor_rows_per_s": round(rows / floor["seconds"], 1),
            "ratio_vs_floor": round(ratio, 2),
            "within_goal": ratio <= GOAL,
            "import_peak_rss_mb": product["peak_rss_mb"],
            "floor_peak_rss_mb": floor["peak_rss_mb"],
            "left": product["left"],
            "identical_rows": sorted(floor["contents"]),
        }
        self.stdout.write(
            f"  import {figures['import_s']:.2f} s ({figures['import_rows_per_s']:,.0f} rows/s, peak "
            f"{figures['import_peak_rss_mb']} MB)\n  floor  {figures['floor_s']:.2f} s "
            f"({figures['floor_rows_per_s']:,.0f} rows/s, peak {figures['floor_peak_rss_mb']} MB)\n"
            f"  import / floor = {figures['ratio_vs_floor']} (goal <= {GOAL}); both left {figures['left']}"
        )
        path.unlink(missing_ok=True)
        if options["json"]:
            self.stdout.write(json.dumps(figures))
