"""The security log's rows of personal-data exports and erasures, sent by the domain through certhub's signal."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from access.models import SecurityEvent
from certhub.personal_data import ERASED, EXPORTED, personal_data_handled

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("action", "kind"), [(EXPORTED, "personal_data_exported"), (ERASED, "personal_data_erased")])
def test_an_export_or_erasure_is_a_row_of_the_security_log_with_actor_address_and_time(action, kind):
    actor = User.objects.create_user("dpo")
    request = RequestFactory().post("/api/v1/mentors/mntr_01HX4V2K8P/erase", HTTP_USER_AGENT="hr-sync/1.0")
    now = timezone.now()
    personal_data_handled.send(
        sender=None, action=action, subject="mntr_01HX4V2K8P", actor=actor, request=request, now=now, detail="asked"
    )
    event = SecurityEvent.objects.get()
    assert (event.kind, event.actor, event.username, event.occurred_at) == (kind, actor, "dpo", now)
    assert (event.address, event.user_agent, event.detail) == ("127.0.0.1", "hr-sync/1.0", "mntr_01HX4V2K8P: asked")


def test_the_row_is_written_in_the_transaction_of_the_write_that_sends_it():
    with pytest.raises(RuntimeError), transaction.atomic():
        personal_data_handled.send(
            sender=None, action=ERASED, subject="mntr_01HX4V2K8P", actor=None, request=None, now=timezone.now()
        )
        raise RuntimeError("the erasure failed")
    assert not SecurityEvent.objects.exists()
