"""Schedule the sweep of due webhook deliveries (every 10 seconds) in django-celery-beat's tables."""

from django.db import migrations

TASK_NAME = "send due webhook deliveries every 10 seconds"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=10, period="seconds")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "events.tasks.dispatch_deliveries",
            "interval": every,
            "enabled": True,
            "kwargs": "{}",
            "description": (
                "Enqueues the webhook deliveries that are due: retries whose time has come, and deliveries "
                "whose message was lost or whose worker died (their claim ran out)."
            ),
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
