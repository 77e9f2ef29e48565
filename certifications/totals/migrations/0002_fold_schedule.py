"""Schedule the fold of the tallies' delta rows (every minute) in django-celery-beat's tables."""

from django.db import migrations

TASK_NAME = "fold certification tallies every minute"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "totals.tasks.fold_tallies",
            "interval": every,
            "enabled": True,
            "kwargs": "{}",
            "description": (
                "Sums the delta rows that writes append to the maintained certification totals into one "
                "row per key, so that reading a total stays a small sum."
            ),
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("totals", "0001_tallies"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
