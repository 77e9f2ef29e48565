"""The environment of a benchmark's child processes."""

from __future__ import annotations

import os

from django.conf import settings


def production_env(**extra: str) -> dict[str, str]:
    """The environment of a benchmark's child process (job, floor, import, worker, beat): DEBUG off, as in production.

    With DEBUG on, Django keeps the text of every statement with its values (most
    of the job's growth in memory at 1M and 10M) and decodes it on each execute; a
    deployed process does neither. The key is this process's, so
    a child opens what it sealed (webhook secrets).
    """
    env = {**os.environ, "LOG_LEVEL": "WARNING", "DEBUG": "false", "SECRET_KEY": settings.SECRET_KEY, **extra}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    return env
