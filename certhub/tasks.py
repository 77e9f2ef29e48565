"""Celery entry points of the platform: the daily retention run."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from certhub.retention import retention_apply

logger = logging.getLogger("certhub.retention")

RETENTION_TASK_NAME = "certhub.tasks.apply_retention"


@shared_task(name=RETENTION_TASK_NAME)
def apply_retention() -> dict:
    """Apply every retention window now (beat sends it daily); return the report."""
    report = retention_apply(now=timezone.now())
    logger.info(
        "retention applied: %s",
        ", ".join(f"{kind.kind} {kind.rows} {kind.action}" for kind in report.kinds),
    )
    return report.as_dict()
