"""Figures the hardening runs print at the end of the session (fuzz cases, load results)."""

from __future__ import annotations

from collections import Counter

_counts: Counter[str] = Counter()
_lines: list[str] = []


def count(name: str, amount: int = 1) -> None:
    """Add to a named counter (e.g. fuzz cases run)."""
    _counts[name] += amount


def report(line: str) -> None:
    """Keep a line of figures for the session summary."""
    _lines.append(line)


def summary() -> list[str]:
    lines = list(_lines)
    fuzz = {name: value for name, value in sorted(_counts.items()) if name.startswith("fuzz_")}
    if fuzz:
        total = sum(value for name, value in fuzz.items() if name.startswith("fuzz_cases_"))
        lines.insert(0, f"schemathesis: {total} cases run; " + ", ".join(f"{k}={v}" for k, v in fuzz.items()))
    return lines
