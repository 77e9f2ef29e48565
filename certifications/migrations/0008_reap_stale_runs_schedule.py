"""Schedule the reaper of stale expiry runs (every 5 minutes) in django-celery-beat's tables."""

from django.db import migrations

TASK_NAME = "reap stale expiry job runs every 5 minutes"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "certifications.tasks.reap_expiry_runs",
            "interval": every,
            "enabled": True,
            "kwargs": "{}",
            "description": (
                "Records as failed the runs that can no longer finish: a worker that died mid-run "
                "(its lease ran out) or a queued run whose message expired."
            ),
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("certifications", "0007_lean_write_indexes"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
