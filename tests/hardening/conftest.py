"""Hardening suite: prints the figures of the fuzz and load runs after the session."""

from __future__ import annotations

from tests.hardening import figures


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = figures.summary()
    if lines:
        terminalreporter.section("hardening figures")
        for line in lines:
            terminalreporter.write_line(line)
