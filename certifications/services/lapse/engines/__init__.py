"""The expiry job's batch engines: one interface, two implementations, chosen here by database vendor.

``BatchEngine.apply(ids=..., now=..., run=...) -> BatchResult`` applies one
batch inside the caller's transaction. ``OrmEngine`` runs anywhere;
``PostgreSQLEngine`` issues the writes as one statement. ``batch_engine()``
is the one place that picks between them.
"""

from __future__ import annotations

from django.db import connection

from certifications.services.lapse.engines.base import BatchEngine, BatchResult, LockedBatch
from certifications.services.lapse.engines.orm import OrmEngine
from certifications.services.lapse.engines.postgresql import PostgreSQLEngine

__all__ = ["BatchEngine", "BatchResult", "LockedBatch", "OrmEngine", "PostgreSQLEngine", "batch_engine"]


def batch_engine() -> BatchEngine:
    """The engine for the default database: one statement per batch on PostgreSQL, the ORM elsewhere."""
    if connection.vendor == "postgresql":
        return PostgreSQLEngine()
    return OrmEngine()
