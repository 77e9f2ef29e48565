"""Fixtures of the events tests: receivers on loopback allowed, sends driven by the tests, a receiver."""

from __future__ import annotations

import pytest

from tests.events.receiver import running_receiver


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True  # the receiver is on loopback
    settings.WEBHOOK_DISPATCH_ON_COMMIT = False  # the tests claim and send themselves (the worker test excepted)


@pytest.fixture
def receiver():
    """A real HTTP receiver on an ephemeral loopback port."""
    with running_receiver() as running:
        yield running
