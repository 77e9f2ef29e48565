"""Schedule the reminder scan (08:00 UTC) and the coordinators' digest (08:30 UTC); let coordinators see notices.

The entries sit beside the expiry job's in django-celery-beat's tables, where
staff can edit or disable them. Coordinators may view notifications and resend
a failed one (``change_notification``).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SCHEDULES = {
    "reminders daily at 08:00 UTC": (
        "notifications.tasks.scan_reminders",
        "0",
        "8",
        "Creates the reminders owed before expiry (one per window of each expiry cycle) and sends them.",
    ),
    "coordinators' digest daily at 08:30 UTC": (
        "notifications.tasks.send_digests",
        "30",
        "8",
        "Sends each coordinator the news since their previous digest, when there is any.",
    ),
}
PERMISSIONS = ["view_notification", "change_notification"]


def create_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, (task, minute, hour, description) in SCHEDULES.items():
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
        )
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={"task": task, "crontab": crontab, "enabled": True, "kwargs": "{}", "description": description},
        )


def remove_schedules(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=list(SCHEDULES)).delete()


def grant_coordinators(apps, schema_editor):
    config = apps.get_app_config("notifications")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Coordinators")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="notifications", codename__in=PERMISSIONS))


def revoke_coordinators(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name="Coordinators"):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="notifications", codename__in=PERMISSIONS)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("certifications", "0008_reap_stale_runs_schedule"),
        ("certifications", "0004_coordinators_group"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [
        migrations.RunPython(create_schedules, remove_schedules),
        migrations.RunPython(grant_coordinators, revoke_coordinators),
    ]
