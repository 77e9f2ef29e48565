"""Operations settings: metrics (``/metrics``), request ids and the log format.

Imported by name into ``config.settings``. ``METRICS_DIR`` is where every process
of this installation on this machine (gunicorn's workers, Celery's pool) keeps its
counters for prometheus_client's multiprocess mode (decision 0034); it is handed to
prometheus_client as ``PROMETHEUS_MULTIPROC_DIR`` here, before the client is imported.
"""

from __future__ import annotations

import os
from pathlib import Path

from config.env import env_bool, is_production, var_dir

METRICS_DIR = Path(os.environ.get("METRICS_DIR") or var_dir() / "metrics")
METRICS_DIR.mkdir(parents=True, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(METRICS_DIR)
# A scraper sends "Authorization: Bearer <METRICS_TOKEN>"; unset, /metrics is a 404 for it.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# Outside production a scrape from loopback needs no token (the embedded default's Prometheus).
METRICS_OPEN_ON_LOOPBACK = env_bool("METRICS_OPEN_ON_LOOPBACK", not is_production())

# "json": one JSON object a line (time, level, logger, message, request_id, task name and id).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text").strip().lower()
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "certhub.logs.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s%(task_label)s] %(message)s"},
        "json": {"()": "certhub.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # A worker always says when it is ready (and scripts that start one wait for that line), whatever LOG_LEVEL.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "celery.apps.worker": {"level": "INFO"}},
}
