"""Long-term validation files, once added, are never changed or deleted."""

from django.db import migrations

from hocba.common import db_guards

TABLE = "signing_longtermvalidation"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    db_guards.run(schema_editor, db_guards.append_only_statements(vendor, TABLE))


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    db_guards.run(schema_editor, db_guards.drop_statements(vendor, TABLE))


class Migration(migrations.Migration):
    dependencies = [("signing", "0003_long_term_validation")]
    operations = [migrations.RunPython(forwards, backwards)]
