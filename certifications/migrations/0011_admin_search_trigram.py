"""Indexes that serve the admin's searches on PostgreSQL; nothing elsewhere (SQLite searches by scanning).

- a mentor's name or e-mail contains the term: trigram GIN indexes on the
  expressions Django's ``icontains`` compares (``UPPER(col::text) LIKE UPPER(%term%)``);
- an id begins with the term: ``varchar_pattern_ops`` indexes, which serve
  ``LIKE 'CERT_04%'`` whatever the database's collation.
"""

from django.db import migrations

INDEXES = [
    ("mentor_name_trgm_idx", "certifications_mentor USING gin ((UPPER(name::text)) gin_trgm_ops)"),
    ("mentor_email_trgm_idx", "certifications_mentor USING gin ((UPPER(email::text)) gin_trgm_ops)"),
    ("mentor_id_prefix_idx", "certifications_mentor (mentor_id varchar_pattern_ops)"),
    ("cert_id_prefix_idx", "certifications_certification (certification_id varchar_pattern_ops)"),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("certifications", "0010_history")]
    operations = [migrations.RunPython(create_indexes, drop_indexes)]
