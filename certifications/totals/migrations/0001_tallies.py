"""The tallies of certifications, filled from the records already there."""

import datetime as dt

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.db.models.functions import TruncDate


def count_existing(apps, schema_editor):
    """One tally row per type, deletion and expiry day, counted from the records (set-based)."""
    Certification = apps.get_model("certifications", "Certification")
    CertificationTally = apps.get_model("totals", "CertificationTally")
    groups = (
        Certification.objects.using(schema_editor.connection.alias)
        .order_by()
        .annotate(
            day=TruncDate("expires_at", tzinfo=dt.UTC),
            gone=ExpressionWrapper(Q(deleted_at__isnull=False), output_field=BooleanField()),
        )
        .values("certification_type_id", "gone", "day")
        .annotate(
            n_valid=Count("pk", filter=Q(status="valid")),
            n_expired=Count("pk", filter=Q(status="expired")),
            n_revoked=Count("pk", filter=Q(status="revoked")),
        )
    )
    sql, params = groups.query.sql_with_params()
    table = CertificationTally._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (certification_type_id, deleted, expires_on, valid, expired, revoked) "
            f"SELECT g.certification_type_id, g.gone, g.day, g.n_valid, g.n_expired, g.n_revoked FROM ({sql}) g",
            params,
        )


class Migration(migrations.Migration):
    initial = True
    dependencies = [
        ("certifications", "0009_type_policy"),
    ]

    operations = [
        migrations.CreateModel(
            name="CertificationTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("deleted", models.BooleanField()),
                ("expires_on", models.DateField(help_text="The UTC day of expires_at.")),
                ("valid", models.BigIntegerField(default=0)),
                ("expired", models.BigIntegerField(default=0)),
                ("revoked", models.BigIntegerField(default=0)),
                (
                    "certification_type",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="certifications.certificationtype",
                    ),
                ),
            ],
            options={
                "verbose_name": "certification tally",
                "indexes": [models.Index(fields=["deleted", "expires_on"], name="tally_key_idx")],
            },
        ),
        migrations.RunPython(count_existing, migrations.RunPython.noop),
    ]
