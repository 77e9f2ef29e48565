"""Run one import contender once in a fresh process; print its time and peak memory as one JSON line.

``python -m benchmarks.run_import --file certs.csv --now 2026-03-26T01:00:00Z --contender import|floor``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from benchmarks.run_job import peak_rss_mb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--file", required=True)
    parser.add_argument("--now", required=True)
    parser.add_argument("--contender", choices=("import", "floor"), default="import")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    from benchmarks.imports import floor_run, import_run
    from certhub.api.fields import parse_timestamp

    now = parse_timestamp(args.now)
    connection.ensure_connection()
    baseline = peak_rss_mb()
    started = time.perf_counter()
    run = import_run if args.contender == "import" else floor_run
    totals = run(Path(args.file), now=now)
    elapsed = time.perf_counter() - started
    peak = peak_rss_mb()
    print(
        json.dumps(
            {"seconds": elapsed, "rss_baseline_mb": round(baseline, 1), "peak_rss_mb": round(peak, 1)}
            | {"totals": totals}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
