"""Per-cell history is append-only: the database refuses UPDATE and DELETE (DOMAIN §4)."""

from django.db import migrations

from hocba.common import db_guards

TABLE = "assessment_cellchange"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    db_guards.run(schema_editor, db_guards.append_only_statements(vendor, TABLE))


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    db_guards.run(schema_editor, db_guards.drop_statements(vendor, TABLE))


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial"), ("audit", "0002_append_only_triggers")]
    operations = [migrations.RunPython(forwards, backwards)]
