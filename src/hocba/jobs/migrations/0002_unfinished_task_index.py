"""A partial index on the queue's unfinished tasks (the reaper's and the pipeline's look-up).

django-tasks-db indexes READY tasks in claim order only; the reaper reads RUNNING tasks, which
otherwise scans every finished task kept in the table (70 ms per 200,000 on PostgreSQL, against
0.04 ms with this index). Both PostgreSQL and SQLite support partial indexes.
"""

from django.db import migrations

TABLE = "django_tasks_database_dbtaskresult"


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0001_worker_lease"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS jobs_unfinished_task ON {TABLE} (status, started_at) "
            "WHERE status IN ('READY', 'RUNNING')",
            "DROP INDEX IF EXISTS jobs_unfinished_task",
        )
    ]
