"""Supersessions, revocations and copies are, like the log itself, never changed or deleted."""

from django.db import migrations

from hocba.common import db_guards

TABLES = ["ledger_supersession", "ledger_revocation", "ledger_copyissued"]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        db_guards.run(schema_editor, db_guards.append_only_statements(vendor, table))


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        db_guards.run(schema_editor, db_guards.drop_statements(vendor, table))


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_record_events")]
    operations = [migrations.RunPython(forwards, backwards)]
