"""Create the daily expiry job schedule (01:00 UTC) in django-celery-beat's tables."""

from django.db import migrations

TASK_NAME = "expiry job daily at 01:00 UTC"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="1", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "certifications.tasks.run_expiry_job",
            "crontab": crontab,
            "enabled": True,
            "kwargs": "{}",
            "description": "Marks lapsed certifications expired and pauses their mentors.",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("certifications", "0002_seed_certification_types"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
