"""django-celery-beat's DatabaseScheduler and the daily expiry entry (created by migration 0003).

The real scheduler runs its real ``tick()``; the clock is moved with time-machine
(beat is an entry point that reads the clock) and the messages it sends go to
kombu's in-memory broker, where the test counts them.

Two traps of this django-celery-beat version (2.9.0) are pinned here:

- ``DatabaseScheduler`` loads a crontab entry only while the current hour is
  within two hours of the entry's hour (``_get_crontab_exclude_query``), so the
  01:00 entry is invisible to a beat started at 10:00 until the window comes round;
- a crontab with ``minute="*"`` would fire every minute of 01:00-01:59: the
  entry must say ``minute="0"``.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from config.celery import app as celery_app
from tests.certifications.broker_helpers import celery_broker, queued_messages

# The scheduler commits and closes connections between ticks, as in production,
# so it runs outside the test's transaction.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

UTC = dt.UTC
TASK_NAME = "expiry job daily at 01:00 UTC"
DAY = dt.datetime(2031, 3, 26, tzinfo=UTC)  # after any real date the test database was migrated on


def at(hours: int, minutes: int = 0, seconds: float = 0, *, day: dt.datetime = DAY) -> dt.datetime:
    return day + dt.timedelta(hours=hours, minutes=minutes, seconds=seconds)


@pytest.fixture(autouse=True)
def only_the_daily_entry():
    """These tests follow the daily entry alone: beat sends one due entry per tick, so the
    every-five-minutes reaper (migration 0008) would take the tick they look at."""
    PeriodicTask.objects.exclude(name=TASK_NAME).update(enabled=False)


@pytest.fixture(autouse=True)
def memory_broker():
    with celery_broker("memory://"):
        queued_messages()  # start empty
        yield
        queued_messages()


@pytest.fixture
def ran_yesterday() -> PeriodicTask:
    """The entry as beat leaves it after yesterday's run."""
    PeriodicTask.objects.filter(name=TASK_NAME).update(last_run_at=at(1, 0, 0.4, day=DAY - dt.timedelta(days=1)))
    return PeriodicTask.objects.get(name=TASK_NAME)


def sent_expiry_runs() -> list[tuple[dict, tuple]]:
    return [
        (headers, body)
        for headers, body in queued_messages()
        if headers["task"] == "certifications.tasks.run_expiry_job"
    ]


def tick_at(traveller, when: dt.datetime, scheduler: DatabaseScheduler | None = None) -> DatabaseScheduler:
    traveller.move_to(when)
    scheduler = scheduler or DatabaseScheduler(app=celery_app)
    scheduler.tick()
    scheduler.sync()
    return scheduler


def test_the_seeded_entry_is_a_daily_utc_crontab_at_minute_zero():
    task = PeriodicTask.objects.select_related("crontab").get(name=TASK_NAME)
    assert task.enabled and task.task == "certifications.tasks.run_expiry_job"
    assert (task.args, task.kwargs) == ("[]", "{}")
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week, crontab.day_of_month, crontab.month_of_year) == (
        "0",
        "1",
        "*",
        "*",
        "*",
    )
    assert str(crontab.timezone) == "UTC"
    assert task.interval is None and task.clocked is None and task.solar is None


def test_beat_sends_the_run_once_at_0100_utc_and_not_again(ran_yesterday):
    with time_machine.travel(at(0, 59, 58), tick=False) as traveller:
        scheduler = tick_at(traveller, at(0, 59, 58))
        assert TASK_NAME in scheduler.schedule
        assert sent_expiry_runs() == []

        tick_at(traveller, at(1, 0, 0.3), scheduler)
        [(headers, body)] = sent_expiry_runs()
        assert headers["periodic_task_name"] == TASK_NAME
        assert list(body[:2]) == [[], {}]  # the periodic task's args and kwargs: a scheduled run

        # Later in the same hour -- every minute a "*" crontab would fire -- nothing more.
        for minute in (0, 1, 2, 30, 59):
            tick_at(traveller, at(1, minute, 5), scheduler)
        assert sent_expiry_runs() == []

        task = PeriodicTask.objects.get(name=TASK_NAME)
        assert task.total_run_count == ran_yesterday.total_run_count + 1
        assert at(1) <= task.last_run_at < at(1, 1)

        # A beat restarted after the run reads last_run_at back and does not fire again.
        tick_at(traveller, at(1, 10))
        tick_at(traveller, at(2, 30))
        assert sent_expiry_runs() == []

        # The next day it does.
        tick_at(traveller, at(1, 0, 1, day=DAY + dt.timedelta(days=1)))
        assert len(sent_expiry_runs()) == 1


def test_a_new_entry_first_fires_at_the_next_0100():
    # Never run: beat counts from when the entry was last changed.
    PeriodicTask.objects.filter(name=TASK_NAME).update(last_run_at=None, date_changed=at(-14))
    with time_machine.travel(at(0, 59), tick=False) as traveller:
        scheduler = tick_at(traveller, at(0, 59))
        assert sent_expiry_runs() == []
        tick_at(traveller, at(1, 0, 1), scheduler)
        assert len(sent_expiry_runs()) == 1
        tick_at(traveller, at(1, 0, 30), scheduler)
        assert sent_expiry_runs() == []


def test_this_version_loads_the_0100_entry_only_near_its_hour(ran_yesterday):
    with time_machine.travel(at(10), tick=False) as traveller:
        assert TASK_NAME not in DatabaseScheduler(app=celery_app).schedule
        traveller.move_to(at(23, 30, day=DAY - dt.timedelta(days=1)))
        assert TASK_NAME in DatabaseScheduler(app=celery_app).schedule


def test_a_missed_run_is_caught_up_within_the_deadline(ran_yesterday, settings):
    # Beat was down at 01:00 and comes back at 02:30: the day's run is sent once.
    assert celery_app.conf.beat_cron_starting_deadline == 3 * 60 * 60
    with time_machine.travel(at(2, 30), tick=False) as traveller:
        scheduler = tick_at(traveller, at(2, 30))
        assert len(sent_expiry_runs()) == 1
        tick_at(traveller, at(2, 31), scheduler)
        assert sent_expiry_runs() == []


def test_a_run_missed_by_more_than_the_deadline_is_not_caught_up(ran_yesterday):
    # Beat was down all day; at 23:30 the entry is back in the loading window, but the
    # day's 01:00 run is too stale to send: the next one is at 01:00 tomorrow.
    with time_machine.travel(at(23, 30), tick=False) as traveller:
        scheduler = tick_at(traveller, at(23, 30))
        assert TASK_NAME in scheduler.schedule
        assert sent_expiry_runs() == []
        tick_at(traveller, at(1, 0, 1, day=DAY + dt.timedelta(days=1)), scheduler)
        assert len(sent_expiry_runs()) == 1
