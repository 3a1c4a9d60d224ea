"""Trigram indexes make the customer search (ILIKE '%term%') fast on a large book.

PostgreSQL only: SQLite, the demo database, has no pg_trgm and searches a small book anyway.
"""

from django.db import migrations

INDEXES = {
    "customer_name_trgm": "name",
    "customer_email_trgm": "email",
    "customer_company_trgm": "company",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON customers_customer "
            f"USING gin (upper({column}) gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
