"""What the events add to a write's consequences: the outbox's entry points, one per hook.

``EventsConfig.ready()`` registers this module as a receiver
(``certifications.services.receivers``, decision 0029);
``certifications.services.effects`` calls each hook inside the write's
transaction. The events and deliveries themselves are written by ``outbox``.
"""

from events.batch_part import job_batch_part
from events.outbox import (
    certification_written,
    certifications_created,
    job_batch_applied,
    job_records_expired,
    job_run_finished,
    mentor_written,
    renewal_request_written,
)
from events.personal_data import mentor_exported


def job_batch_parts(*, now, run) -> tuple:
    """On PostgreSQL a batch's events and deliveries are written by its own statement (``job_batch_part``)."""
    return (job_batch_part(now=now, run=run),)


__all__ = [
    "certification_written",
    "certifications_created",
    "job_batch_applied",
    "job_batch_parts",
    "job_records_expired",
    "job_run_finished",
    "mentor_exported",
    "mentor_written",
    "renewal_request_written",
]
