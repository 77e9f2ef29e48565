"""The benchmark commands' tests, and what they share."""

from __future__ import annotations

import io
import json

from django.core.management import call_command


def command_figures(name: str, *arguments: str) -> dict:
    """Run the benchmark command ``name`` with ``arguments`` (and ``--json``); its last line, parsed."""
    out = io.StringIO()
    call_command(name, *arguments, "--json", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])
