"""An issued record's status only moves on to superseded or revoked, and those are final.

The application never does otherwise; the database refuses it too, so an UPDATE behind the
application's back cannot quietly "un-issue" a record (the ledger still catches what a table owner
does with the triggers off).
"""

from django.db import migrations

TABLE = "records_yearrecord"
FINAL = "('superseded', 'revoked')"

SQLITE = [
    f"""
    CREATE TRIGGER {TABLE}_issued_status BEFORE UPDATE OF status ON {TABLE}
    FOR EACH ROW WHEN (OLD.status = 'issued' AND NEW.status NOT IN ('issued', 'superseded',
        'revoked')) OR (OLD.status IN {FINAL} AND NEW.status IS NOT OLD.status)
    BEGIN SELECT RAISE(ABORT, 'an issued record only becomes superseded or revoked'); END;
    """,
]
SQLITE_REVERSE = [f"DROP TRIGGER IF EXISTS {TABLE}_issued_status;"]

POSTGRESQL = [
    f"""
    CREATE OR REPLACE FUNCTION hocba_issued_status_guard() RETURNS trigger AS $$
    BEGIN
        IF (OLD.status = 'issued' AND NEW.status NOT IN ('issued', 'superseded', 'revoked'))
           OR (OLD.status IN {FINAL} AND NEW.status IS DISTINCT FROM OLD.status) THEN
            RAISE EXCEPTION 'an issued record only becomes superseded or revoked';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    f"""
    CREATE TRIGGER {TABLE}_issued_status BEFORE UPDATE OF status ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION hocba_issued_status_guard();
    """,
]
POSTGRESQL_REVERSE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_issued_status ON {TABLE};",
    "DROP FUNCTION IF EXISTS hocba_issued_status_guard();",
]


def _run(schema_editor, statements_by_vendor):
    for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


def forwards(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE, "postgresql": POSTGRESQL})


def backwards(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE})


class Migration(migrations.Migration):
    dependencies = [("records", "0004_alter_yearrecord_status")]
    operations = [migrations.RunPython(forwards, backwards)]
