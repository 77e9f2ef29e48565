"""Seed the two certification types of the program."""

from django.db import migrations

TYPES = [
    ("peer_mentor_basic", "Peer mentor (basic)", 36),
    ("peer_mentor_advanced", "Peer mentor (advanced)", 24),
]


def seed(apps, schema_editor):
    CertificationType = apps.get_model("certifications", "CertificationType")
    for code, name, months in TYPES:
        CertificationType.objects.update_or_create(code=code, defaults={"name": name, "validity_months": months})


def unseed(apps, schema_editor):
    apps.get_model("certifications", "CertificationType").objects.filter(code__in=[t[0] for t in TYPES]).delete()


class Migration(migrations.Migration):
    dependencies = [("certifications", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
