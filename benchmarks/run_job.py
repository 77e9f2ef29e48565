"""Run one contender once in a fresh process and print its timing and peak memory as one JSON line.

``python -m benchmarks.run_job --now 2026-03-26T01:00:00Z [--contender job|floor]``

``job`` is the real expiry job (``services.expiry_job_run``); ``floor`` is the
set-based SQL of ``benchmarks.expiry.floor_run``. Each runs in a
process of its own with a new database connection, so that both start alike
and the peak resident set size (``VmHWM``) is the contender's and not that of
the benchmark which generated the data set. The baseline is read after Django
is set up and the database connection is open; the time covers the contender's
call only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

COUNTERS = ("expired_found", "auto_paused", "marked_expired", "mentors_scanned")


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB.

    ``VmHWM`` from /proc is the high-water mark of this program's own memory;
    ``ru_maxrss`` would also carry the parent's peak across fork and exec.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--now", required=True)
    parser.add_argument("--contender", choices=("job", "floor"), default="job")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    from benchmarks.expiry import floor_run
    from certhub.api.fields import parse_timestamp
    from certifications.models import JobTrigger
    from certifications.services import expiry_job_run

    now = parse_timestamp(args.now)
    connection.ensure_connection()
    baseline = peak_rss_mb()
    started = time.perf_counter()
    job = args.contender == "job"
    result = expiry_job_run(now=now, trigger=JobTrigger.CLI) if job else floor_run(now=now)
    elapsed = time.perf_counter() - started
    extra = {"failures": len(result.failures)} if job else {"failures": 0, "log_ids_redrawn": result.redrawn}
    counters = {name: getattr(result, name) for name in COUNTERS} | extra
    peak = peak_rss_mb()
    memory = {"rss_baseline_mb": round(baseline, 1), "peak_rss_mb": round(peak, 1)}
    print(json.dumps({"seconds": elapsed, **memory, **counters}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
