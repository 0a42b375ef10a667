"""A signature on a year record, and the PDF hash it left, are never changed or deleted."""

from django.db import migrations

from hocba.common import db_guards

TABLE = "signing_recordsignature"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    db_guards.run(schema_editor, db_guards.append_only_statements(vendor, TABLE))


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    db_guards.run(schema_editor, db_guards.drop_statements(vendor, TABLE))


class Migration(migrations.Migration):
    dependencies = [("signing", "0001_initial"), ("audit", "0002_append_only_triggers")]
    operations = [migrations.RunPython(forwards, backwards)]
