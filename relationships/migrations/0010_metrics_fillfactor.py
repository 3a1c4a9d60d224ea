from django.db import migrations

FILLFACTOR = 45


def leave_room_for_updates(apps, schema_editor):
    """Every night rewrites every CustomerMetrics row. With pages filled to 45%, the new
    version of a row fits on the page of the old one, so PostgreSQL updates it in place
    (a HOT update): no new entry in the table's unique indexes for each of a million rows,
    and no new pages. The previous night's versions are pruned page by page as the next
    night's update reaches them. Measured on the bench book: the full night's UPDATE took
    8 s instead of 15 (docs/benchmarks.md). The table is about twice its packed size.
    Existing pages keep their fill until the next full night moves every row once."""
    if schema_editor.connection.vendor == "postgresql":
        table = schema_editor.quote_name(apps.get_model("relationships", "CustomerMetrics")._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {FILLFACTOR})")


def pack_pages(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        table = schema_editor.quote_name(apps.get_model("relationships", "CustomerMetrics")._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")


class Migration(migrations.Migration):

    dependencies = [
        ("relationships", "0009_nightly_state"),
    ]

    operations = [
        migrations.RunPython(leave_room_for_updates, pack_pages),
    ]
