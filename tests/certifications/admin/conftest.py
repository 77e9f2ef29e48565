"""Fixtures of the admin tests: a coordinator, a viewer and a superuser, each logged in."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from tests.certifications.admin.helpers import VIEW_PERMS, staff_user


@pytest.fixture
def coordinator() -> User:
    return staff_user("coordinator", groups=("Coordinators",))


@pytest.fixture
def coordinator_client(client, coordinator):
    client.force_login(coordinator)
    return client


@pytest.fixture
def viewer_client(client):
    """Staff who may look at everything and change nothing."""
    client.force_login(staff_user("viewer", *VIEW_PERMS))
    return client


@pytest.fixture
def superuser_client(client):
    client.force_login(User.objects.create_superuser("boss", password="pw-boss"))
    return client
