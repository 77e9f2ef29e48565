"""A real ``celery -A config worker`` on Redis, started by a test and pointed at this test run's database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """This test run's database as a URL, for a process of its own."""
    settings = connection.settings_dict
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or "5432"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    return f"postgres://{settings['USER']}{password}@{host}:{port}/{settings['NAME']}"


@contextmanager
def celery_worker(log_path: Path, **extra_env: str) -> Iterator[Path]:
    """Run a worker (its output in ``log_path``) until the block ends; ``extra_env`` adds to its environment."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CERTHUB_VAR_DIR": str(log_path.parent),
        "SECRET_KEY": settings.SECRET_KEY,  # the key of this run's processes (webhook secrets are sealed with it)
        "PYTHONUNBUFFERED": "1",
        **extra_env,
    }
    env.pop("CELERY_BROKER_URL", None)
    celery_app.control.purge()  # messages left by an earlier, interrupted test run
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "1"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while b"ready." not in log_path.read_bytes():
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the worker did not start:\n" + log_path.read_text()
            time.sleep(0.2)
        yield log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(condition, *, timeout: float = 60, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}; worker log:\n{log.read_text()}"
        time.sleep(0.2)
