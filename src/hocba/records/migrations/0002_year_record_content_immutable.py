"""A year record's content and identity never change, and no version is ever deleted.

The database refuses an UPDATE that changes any column but ``status`` (the lifecycle moves; the
compiled content does not), and refuses every DELETE. Rewriting a column with its own value is
allowed, so a plain ``save()`` of a status change still works. TRUNCATE is left to the table
owner, as for the audit log: tamper evidence against the administrator is the ledger's job.
"""

from django.db import migrations

TABLE = "records_yearrecord"
FROZEN = [
    "record_id",
    "version",
    "enrolment_id",
    "pupil_id",
    "school_id",
    "school_year_id",
    "short_code",
    "schema_version",
    "canonical_json",
    "content_hash",
    "compiled_at",
    "compiled_by_id",
    "supersedes_id",
]

SQLITE_CHANGED = " OR ".join(f"NEW.{column} IS NOT OLD.{column}" for column in FROZEN)
SQLITE = [
    f"""
    CREATE TRIGGER {TABLE}_content_immutable BEFORE UPDATE OF {", ".join(FROZEN)} ON {TABLE}
    FOR EACH ROW WHEN {SQLITE_CHANGED}
    BEGIN SELECT RAISE(ABORT, 'year record content is immutable'); END;
    """,
    f"""
    CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'year records are never deleted'); END;
    """,
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_content_immutable;",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_delete;",
]

POSTGRESQL_CHANGED = " OR ".join(
    f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in FROZEN
)
POSTGRESQL = [
    f"""
    CREATE OR REPLACE FUNCTION hocba_year_record_guard() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION '% rows are never deleted', TG_TABLE_NAME;
        END IF;
        IF {POSTGRESQL_CHANGED} THEN
            RAISE EXCEPTION '% content is immutable (only status may change)', TG_TABLE_NAME;
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    f"""
    CREATE TRIGGER {TABLE}_guard BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION hocba_year_record_guard();
    """,
]
POSTGRESQL_REVERSE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_guard ON {TABLE};",
    "DROP FUNCTION IF EXISTS hocba_year_record_guard();",
]


# params=None: the PL/pgSQL body has a literal '%' that psycopg would take for a placeholder.
def _run(schema_editor, statements_by_vendor):
    for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


def forwards(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE, "postgresql": POSTGRESQL})


def backwards(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE})


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
