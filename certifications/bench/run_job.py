"""Run the real expiry job once in a fresh process and print its timing and peak memory as one JSON line.

``python -m certifications.bench.run_job --now 2026-03-26T01:00:00Z``

A process of its own, so that the peak resident set size (``ru_maxrss``) is
the job's and not that of the benchmark which generated the data set. The
baseline is read after Django is set up and the database connection is open;
the time covers ``expiry_job_run`` only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time


def _maxrss_mb() -> float:
    # Linux reports ru_maxrss in kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--now", required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    from certhub.api.fields import parse_timestamp
    from certifications.models import JobTrigger
    from certifications.services import expiry_job_run

    now = parse_timestamp(args.now)
    connection.ensure_connection()
    baseline = _maxrss_mb()
    started = time.perf_counter()
    run = expiry_job_run(now=now, trigger=JobTrigger.CLI)
    elapsed = time.perf_counter() - started
    peak = _maxrss_mb()
    print(
        json.dumps(
            {
                "job_s": elapsed,
                "rss_baseline_mb": round(baseline, 1),
                "peak_rss_mb": round(peak, 1),
                "job_run_id": run.job_run_id,
                "state": run.state,
                "expired_found": run.expired_found,
                "auto_paused": run.auto_paused,
                "marked_expired": run.marked_expired,
                "mentors_scanned": run.mentors_scanned,
                "failures": len(run.failures),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
