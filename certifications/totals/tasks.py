"""Celery entry point: fold the tallies' delta rows (scheduled by beat every minute)."""

from __future__ import annotations

from celery import shared_task

from certifications.totals.tallies import tallies_fold

FOLD_TASK_NAME = "totals.tasks.fold_tallies"
# How often beat folds (the schedule's migration sets it). Between folds a reader sums the new deltas too.
FOLD_EVERY_SECONDS = 60


@shared_task(name=FOLD_TASK_NAME, expires=FOLD_EVERY_SECONDS)
def fold_tallies() -> int:
    """Fold the tallies; return the rows removed."""
    return tallies_fold()
