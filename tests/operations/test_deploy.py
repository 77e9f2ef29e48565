"""deploy/: the alert rules and the dashboard name only metrics the service exposes; promtool accepts the rules."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.test import Client

from certifications.tasks import reap_expiry_runs
from tests.operations.helpers import samples

pytestmark = pytest.mark.django_db
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "certhub.json"
METRIC = re.compile(r"\bcerthub_[a-z0-9_]+")


def exposed() -> set[str]:
    """The sample names a scrape shows once a request and a task have been counted."""
    client = Client()
    client.get("/healthz")
    reap_expiry_runs.apply()
    return {sample.name for sample in samples(client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode())}


def rule_expressions() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


@pytest.mark.parametrize("expressions", [rule_expressions, dashboard_expressions], ids=["alert rules", "dashboard"])
def test_every_metric_named_is_exposed(expressions):
    named = {name for expr in expressions() for name in METRIC.findall(str(expr))}
    assert named, "no metric named"
    unknown = named - exposed()
    assert not unknown, f"named but not exposed: {sorted(unknown)}"


def test_the_rules_cover_what_an_operator_must_hear_about():
    text = " ".join(str(expr) for expr in rule_expressions())
    for metric in (
        "certhub_outbox_oldest_pending_age_seconds",
        "certhub_expiry_job_last_success_timestamp_seconds",
        'certhub_webhook_deliveries{state="failed"}',
        "certhub_webhook_endpoints_disabled",
        'certhub_notifications{state="failed"}',
    ):
        assert metric in text


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool is not installed (Debian: apt-get install prometheus)"
)
def test_promtool_accepts_the_rules():
    done = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
