"""Hardening suite: prints the figures of the fuzz and load runs after the session."""

from __future__ import annotations

import pytest

from tests.hardening import figures
from tests.hardening.servers import base_env, manage


@pytest.fixture
def sqlite_env(tmp_path):
    """An environment on a fresh, migrated embedded SQLite database in a temporary var dir."""
    env = base_env(CERTHUB_VAR_DIR=str(tmp_path / "var"))
    done = manage("migrate", "--noinput", env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return env


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = figures.summary()
    if lines:
        terminalreporter.section("hardening figures")
        for line in lines:
            terminalreporter.write_line(line)
