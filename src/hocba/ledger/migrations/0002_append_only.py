"""Log leaves, nodes, checkpoints, issuances and proof bundles are never changed or deleted."""

from django.db import migrations

from hocba.common import db_guards

TABLES = [
    "ledger_logleaf",
    "ledger_lognode",
    "ledger_checkpoint",
    "ledger_issuedrecord",
    "ledger_proofbundle",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        db_guards.run(schema_editor, db_guards.append_only_statements(vendor, table))


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        db_guards.run(schema_editor, db_guards.drop_statements(vendor, table))


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial"), ("audit", "0002_append_only_triggers")]
    operations = [migrations.RunPython(forwards, backwards)]
