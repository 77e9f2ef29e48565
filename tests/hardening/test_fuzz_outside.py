"""Schemathesis from outside: the ``st`` command against a real gunicorn, every check, no generator hints.

``test_fuzz_schema.py`` fuzzes in-process and teaches the generator the rules a
schema cannot state. This run does not: it reads ``/api/schema/`` over HTTP with
a superuser's API key holding every scope (``manage.py create_api_key``), as a
client's engineer would, and runs every check on the
examples, generated cases (valid and invalid) and stateful sequences. Its
failures must all be rules that no OpenAPI schema can state (``TOLERATED``);
anything else (a 5xx, an answer the schema does not describe, a valid request
refused for a reason the schema could have said, an invalid one accepted) fails
the test. ``FUZZ_OUTSIDE_MAX_EXAMPLES`` (default 5) bounds the cases per
operation, so the run stays a few hundred cases; ``FUZZ_OUTSIDE_PHASES`` adds
schemathesis' ``coverage`` phase (about 1,500 more cases, a minute and a half).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.hardening import figures
from tests.hardening.servers import gunicorn, manage

MAX_EXAMPLES = os.environ.get("FUZZ_OUTSIDE_MAX_EXAMPLES", "5")
PHASES = os.environ.get("FUZZ_OUTSIDE_PHASES", "examples,fuzzing,stateful")
ST = Path(os.environ.get("VIRTUAL_ENV", Path(__file__).resolve().parents[2] / ".venv")) / "bin" / "st"
REJECTED = "ST202"  # "Schema-valid request rejected"
DELETED_STILL_AVAILABLE = "ST301"  # "Deleted resource still available"

# A schema-valid request the API refuses for a rule no OpenAPI schema can state, by a
# marker of the refusal's body. Each rule is documented and has its own tests.
TOLERATED = {
    "expires_at later than issued_at (cross-field)": '"Must be later than issued_at."',
    "through not earlier than now": '"through must not be earlier than now."',
    "status expired only with expires_at at or before now": "needs expires_at at or before now",
    "a revocation reason only on a revoked record (cross-field)": "Only a revoked certification has a revocation",
    "an Idempotency-Key sent again with another body": '"idempotency_key_reused"',
    "after: an event the feed served": '"after":["Unknown event."]',
    "the CSV header's columns": "missing columns",
    "a webhook host that resolves to public addresses": '"url":["The host does not resolve."]',
    "a renewal's certificate issued not later than now": '"A certificate cannot be issued in the future."',
    "a renewal's certificate expiring after now": '"The renewed certificate must expire in the future."',
    "a renewal request names a mentor on record": '"mentor_id":["No mentor ',
    "a renewal request renews a type the mentor held": "a first one is recorded by staff",
    "evidence that is a PDF, PNG or JPEG by its content": "(judged by its content, not its name)",
}
CASE_RE = re.compile(r"^\d+\. Test Case ID: \S+$", re.MULTILINE)
CHECK_RE = re.compile(r"^- (ST\d+) (.+)$", re.MULTILINE)


def failures(output: str) -> list[tuple[str, str, str]]:
    """Each failure the ``st`` output reports: ``(check code, title, the block's text)``."""
    found = []
    for block in CASE_RE.split(output)[1:]:
        for code, title in CHECK_RE.findall(block):
            found.append((code, title, block))
    return found


# A deleted record's history stays readable by the users who may restore it (documented in docs/api.md,
# tested in tests/certifications/test_api_history.py): a sub-resource the stateful phase expects gone.
DELETED_HISTORY = re.compile(r"curl -X GET .*/api/v1/certifications/cert_\w+/history")


def tolerated(code: str, block: str) -> str | None:
    """The rule a failure is, when it is a valid request refused by a rule no schema states; else None."""
    if code == DELETED_STILL_AVAILABLE and DELETED_HISTORY.search(block):
        return "a deleted record's history is served to those who may restore it"
    if code != REJECTED:
        return None
    return next((rule for rule, marker in TOLERATED.items() if marker in block), None)


@pytest.mark.fuzz
@pytest.mark.slow
def test_an_outside_run_with_every_check_finds_only_rules_no_schema_can_state(tmp_path, sqlite_env):
    env = {
        **sqlite_env,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECRET_KEY": "s" * 60,
        "API_THROTTLE_ANON": "1000000/min",
        "API_THROTTLE_USER": "1000000/min",
    }
    assert manage("seed_demo", "--if-empty", "--no-progress", env=env).returncode == 0
    promoted = manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        "User.objects.update_or_create(username='outsider', defaults={'is_superuser': True})",
        env=env,
    )
    assert promoted.returncode == 0, promoted.stderr
    made = manage("create_api_key", "outsider", "--name", "outside fuzz", "--scopes", "all", "--days", "30", env=env)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    with gunicorn(env, workers=2, log_path=tmp_path / "gunicorn.log") as base:
        done = subprocess.run(
            [
                str(ST),
                "run",
                f"{base}/api/schema/",
                "--checks",
                "all",
                "--phases",
                PHASES,
                "-H",
                f"Authorization: Bearer {key}",
                "--max-examples",
                MAX_EXAMPLES,
                "--seed",
                "1",
                "--no-color",
                "--generation-database",
                "none",
                "--report",
                "json",
                "--report-json-path",
                str(tmp_path / "report.json"),
            ],
            cwd=tmp_path,  # schemathesis writes its own files where it runs
            capture_output=True,
            text=True,
            timeout=900,
        )
    output = done.stdout + done.stderr
    (tmp_path / "st.txt").write_text(output)
    assert done.returncode in (0, 1), output[-3000:]
    cases = json.loads((tmp_path / "report.json").read_text())["test_cases"]
    found = failures(output)
    assert len(found) >= cases["unique_failures"], f"{cases} but {len(found)} read: {output[-3000:]}"
    untolerated = [(code, title, block) for code, title, block in found if not tolerated(code, block)]
    figures.report(
        f"outside schemathesis run: {cases['generated']} cases, {len(found)} failures, "
        f"{len(untolerated)} outside the rules no schema can state"
    )
    assert not untolerated, "\n\n".join(f"{code} {title}\n{block[:1500]}" for code, title, block in untolerated)
