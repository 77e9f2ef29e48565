"""Coordinators see, add, change and review (approve or reject) renewal requests."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Coordinators"
PERMISSIONS = [
    "view_renewalrequest",
    "add_renewalrequest",
    "change_renewalrequest",
    "review_renewalrequest",
]


def _permissions(apps):
    # Permissions are normally created after migrate; make sure they exist now.
    config = apps.get_app_config("certifications")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    return apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="certifications", codename__in=PERMISSIONS
    )


def grant(apps, schema_editor):
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=GROUP)
    group.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    for group in apps.get_model("auth", "Group").objects.filter(name=GROUP):
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("certifications", "0017_renewal_requests"),
        ("certifications", "0004_coordinators_group"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
