"""The apps that react to a write plug into the domain's effects at start-up (decision 0029).

The domain imports neither events nor notifications (tests/test_architecture.py);
these prove that every process still runs their share of each write: the
registry is filled by their ``ready()``, in ``INSTALLED_APPS`` order, a missing
or ill-shaped receiver is loud, and a ``manage.py`` process has them all.
"""

from __future__ import annotations

import types

import pytest
from django.apps import apps
from django.core import checks
from django.core.exceptions import AppRegistryNotReady, ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from certifications.services import receivers
from events import effects as event_effects
from notifications import effects as notification_effects
from tests.hardening.servers import base_env, manage


def test_events_then_notifications_are_registered_in_installed_apps_order():
    assert receivers.receivers() == (event_effects, notification_effects)
    assert receivers.registered_labels() == receivers.reacting_apps() == ["events", "notifications"]


def test_the_check_is_registered_and_passes_when_every_reacting_app_registered():
    assert receivers.check_receivers in checks.registry.registry.get_checks()
    assert receivers.check_receivers() == []


def test_a_reacting_app_that_did_not_register_fails_the_check(monkeypatch):
    monkeypatch.delitem(receivers._registered, "notifications")
    errors = receivers.check_receivers()
    assert [error.id for error in errors] == ["certifications.E001"]
    assert "['events']" in errors[0].msg and "['events', 'notifications']" in errors[0].msg
    with pytest.raises(SystemCheckError, match=r"certifications\.E001"):
        call_command("check")


def test_receivers_out_of_installed_apps_order_fail_the_check(monkeypatch):
    monkeypatch.setattr(receivers, "_registered", {"notifications": notification_effects, "events": event_effects})
    assert [error.id for error in receivers.check_receivers()] == ["certifications.E001"]


def test_register_refuses_a_receiver_without_every_hook_or_with_other_arguments(monkeypatch):
    monkeypatch.setattr(receivers, "_registered", dict(receivers._registered))
    config = apps.get_app_config("notifications")
    hooks = {hook: getattr(notification_effects, hook) for hook in receivers.HOOKS}

    lacking = types.SimpleNamespace(**{**hooks, "job_run_finished": None})
    with pytest.raises(ImproperlyConfigured, match=r"no job_run_finished\(\) hook"):
        receivers.register(config, lacking)

    def mentor_written(*, change, after, now, log):  # no ``before``: the domain passes it
        pass

    narrower = types.SimpleNamespace(**{**hooks, "mentor_written": mentor_written})
    with pytest.raises(ImproperlyConfigured, match=r"mentor_written\(\) takes"):
        receivers.register(config, narrower)
    assert receivers.receivers() == (event_effects, notification_effects)


def test_registering_again_replaces_in_place(monkeypatch):
    monkeypatch.setattr(receivers, "_registered", dict(receivers._registered))
    apps.get_app_config("events").ready()
    assert receivers.receivers() == (event_effects, notification_effects)


def test_no_write_reaches_the_receivers_before_every_app_is_ready(monkeypatch):
    monkeypatch.setattr(apps, "ready", False)
    with pytest.raises(AppRegistryNotReady):
        receivers.receivers()


@pytest.mark.standalone
def test_a_manage_py_process_has_every_receiver(tmp_path):
    script = "from certifications.services.receivers import receivers; print([r.__name__ for r in receivers()])"
    done = manage("shell", "-c", script, env=base_env(CERTHUB_VAR_DIR=str(tmp_path)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "['events.effects', 'notifications.effects']"
