"""The multiprocess directory: every process writes its counters in files named by its pid.

prometheus_client's multiprocess mode sums the files of every process, the dead
ones' included, so a counter never drops when gunicorn replaces a worker. At a
start (gunicorn's master, a Celery worker) the files of processes that no longer
run are removed: counters then restart from zero, which Prometheus reads as a
reset, while the processes still running (a worker beside a restarted web server)
keep theirs. No import of prometheus_client here: gunicorn's master calls it
before the client may be imported.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

PID = re.compile(r"_(\d+)\.db$")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean(directory: Path) -> int:
    """Remove the files of processes that are not running; return how many were removed."""
    directory.mkdir(parents=True, exist_ok=True)
    removed = 0
    for path in directory.glob("*.db"):
        match = PID.search(path.name)
        if match and not _running(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed += 1
    return removed
