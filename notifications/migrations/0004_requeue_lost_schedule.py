"""Schedule the reaper of notifications whose task was lost (every 5 minutes) in django-celery-beat's tables."""

from django.db import migrations

TASK_NAME = "send again notifications whose task was lost, every 5 minutes"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "notifications.tasks.requeue_lost",
            "interval": every,
            "enabled": True,
            "kwargs": "{}",
            "description": (
                "Queues again the notices still queued with no attempt 5 minutes after they were written "
                "(the broker refused their task, or a killed worker holds it), and any still queued after 3 hours."
            ),
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_plural_names"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
