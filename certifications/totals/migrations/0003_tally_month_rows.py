"""The tallies' month rows: every existing day row summed into its expiry month (``span = 'month'``)."""

from django.db import migrations, models


def sum_months(apps, schema_editor):
    """One month row per type, deletion and expiry month, summed from the day rows (set-based)."""
    table = apps.get_model("totals", "CertificationTally")._meta.db_table
    if schema_editor.connection.vendor == "postgresql":
        month = "CAST(date_trunc('month', CAST(expires_on AS timestamp)) AS date)"
    else:
        month = "date(expires_on, 'start of month')"
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (certification_type_id, deleted, span, expires_on, valid, expired, revoked) "
            f"SELECT certification_type_id, deleted, 'month', {month}, SUM(valid), SUM(expired), SUM(revoked) "
            f"FROM {table} WHERE span = 'day' GROUP BY certification_type_id, deleted, {month}"
        )


def drop_months(apps, schema_editor):
    apps.get_model("totals", "CertificationTally").objects.filter(span="month").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("totals", "0002_fold_schedule"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="certificationtally",
            name="tally_key_idx",
        ),
        migrations.AddField(
            model_name="certificationtally",
            name="span",
            field=models.CharField(choices=[("day", "day"), ("month", "month")], default="day", max_length=5),
        ),
        migrations.AlterField(
            model_name="certificationtally",
            name="expires_on",
            field=models.DateField(help_text="The UTC day of expires_at; for a month row, the first day of its month."),
        ),
        migrations.AddIndex(
            model_name="certificationtally",
            index=models.Index(fields=["span", "deleted", "expires_on"], name="tally_span_key_idx"),
        ),
        migrations.RunPython(sum_months, drop_months),
    ]
