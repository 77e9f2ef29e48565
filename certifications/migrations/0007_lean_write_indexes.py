"""Fewer indexes for every write to pay for.

- The auto-pause log"s mentor and certification foreign-key indexes: log_mentor_idx
  and log_cert_idx lead with the same columns.
- On PostgreSQL, the ``varchar_pattern_ops`` (``_like``) indexes Django adds to
  unique text columns, on the certification, mentor and log ids: no query matches
  these ids with a ``LIKE`` prefix (look-ups are equality, served by the unique
  index; admin search is ``icontains``, which no B-tree serves).
"""

import django.db.models.deletion
from django.db import migrations, models

LIKE_INDEXED = (("certification", "certification_id"), ("mentor", "mentor_id"), ("autopauselog", "log_id"))


def drop_like_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, field_name in LIKE_INDEXED:
        model = apps.get_model("certifications", model_name)
        column = model._meta.get_field(field_name).column
        name = schema_editor._create_index_name(model._meta.db_table, [column], suffix="_like")
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def create_like_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, field_name in LIKE_INDEXED:
        model = apps.get_model("certifications", model_name)
        schema_editor.execute(schema_editor._create_like_index_sql(model, model._meta.get_field(field_name)))


class Migration(migrations.Migration):
    dependencies = [
        ("certifications", "0006_status_index_without_include"),
    ]

    operations = [
        migrations.AlterField(
            model_name="autopauselog",
            name="certification",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="certifications.certification",
            ),
        ),
        migrations.AlterField(
            model_name="autopauselog",
            name="mentor",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="certifications.mentor",
            ),
        ),
        migrations.RunPython(drop_like_indexes, create_like_indexes),
    ]
