"""Point the Celery app at another broker for a test, and read back what was sent.

kombu's in-memory transport is a real transport: the producer code path is the
one production uses, and the messages can be drained and inspected.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kombu import Connection

from config.celery import app as celery_app


@contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """Point the Celery app's producers at ``url`` for the block."""
    saved = celery_app.conf.broker_url, celery_app.conf.broker_transport_options
    celery_app.conf.broker_url, celery_app.conf.broker_transport_options = url, {}
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    try:
        yield
    finally:
        celery_app.conf.broker_url, celery_app.conf.broker_transport_options = saved
        celery_app._pool = None
        celery_app.amqp._producer_pool = None


def queued_messages(queue_name: str = "celery") -> list[tuple[dict, tuple]]:
    """Drain a queue of the in-memory broker: ``(headers, (args, kwargs, embed))`` per message."""
    bodies = []
    with Connection("memory://") as conn:
        queue = conn.SimpleQueue(queue_name)
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                break
            bodies.append((message.headers, message.decode()))
            message.ack()
        queue.close()
    return bodies
