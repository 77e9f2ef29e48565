"""Create the "Coordinators" group with exactly what a program coordinator needs."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Coordinators"
PERMISSIONS = {
    "certifications": [
        "view_certificationtype",
        "view_mentor",
        "change_mentor",
        "view_certification",
        "add_certification",
        "change_certification",
        "delete_certification",
        "view_expiryjobrun",
        "run_expiry_job",
        "view_autopauselog",
    ],
    "django_celery_beat": ["view_periodictask", "change_periodictask", "view_crontabschedule"],
}


def create_group(apps, schema_editor):
    # Permissions are normally created after migrate; make sure they exist now.
    for label in PERMISSIONS:
        config = apps.get_app_config(label)
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    wanted = [
        Permission.objects.get(content_type__app_label=label, codename=codename)
        for label, codenames in PERMISSIONS.items()
        for codename in codenames
    ]
    group.permissions.set(wanted)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("certifications", "0003_expiry_job_schedule"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_group, remove_group)]
