"""Seal again, with the current SECRET_KEY, the webhook secrets sealed with the published development key.

Before each installation made its own key (var/secret-key.txt), the embedded default
sealed webhook secrets with a key derived from the development SECRET_KEY published
in the repository: anyone holding the database file could open them. This migration
opens those tokens once and seals them with the current key; tokens the current key
(or SECRET_KEY_FALLBACKS) already opens are left alone. The plain secrets do not
change, so receivers keep verifying.
"""

from django.db import migrations

COLUMNS = ("secret", "previous_secret")


def reseal(apps, schema_editor):
    from events.sealing import reseal_published  # the code of today: the key rules live there

    table = apps.get_model("events", "WebhookEndpoint")._meta.db_table
    quote = schema_editor.quote_name
    # Raw values: the historical model's SealedField would try to open them on read.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {', '.join(map(quote, COLUMNS))} FROM {quote(table)}")
        rows = cursor.fetchall()
        for pk, *values in rows:
            for column, stored in zip(COLUMNS, values, strict=True):
                resealed = reseal_published(stored) if stored else None
                if resealed is not None:
                    cursor.execute(f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE id = %s", [resealed, pk])


class Migration(migrations.Migration):
    dependencies = [("events", "0004_field_labels")]

    operations = [migrations.RunPython(reseal, migrations.RunPython.noop)]
