"""Schedule the retention run (daily at 03:30 UTC) in django-celery-beat's tables."""

from django.db import migrations

TASK_NAME = "retention daily at 03:30 UTC"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="3", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "certhub.tasks.apply_retention",
            "crontab": crontab,
            "enabled": True,
            "kwargs": "{}",
            "description": (
                "Deletes or blanks what is kept past its RETENTION_* window (events, delivered webhook deliveries, "
                "notifications, evidence files, failed sign-ins), in batches (docs/personal-data.md)."
            ),
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("certhub", "0003_plural_names"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
