"""Log lines with their context: the request id, and in a worker the task's name and id.

``ContextFilter`` sits on the console handler (``config.observability.LOGGING``), so
every record, whatever its logger, gets ``request_id``, ``task_name`` and ``task_id``.
``JsonFormatter`` writes one JSON object a line (``LOG_FORMAT=json``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from certhub import requestids


class ContextFilter(logging.Filter):
    """Add the request id and the running task to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = requestids.request_id.get() or "-"
        running = requestids.running_task.get()
        record.task_name, record.task_id = running or ("", "")
        record.task_label = f" {record.task_name} {record.task_id}" if running else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, request_id, task name and id in a worker."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if getattr(record, "task_name", ""):
            line["task_name"] = record.task_name
            line["task_id"] = record.task_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)
