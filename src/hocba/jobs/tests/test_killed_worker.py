"""Issue 8's CI check: a small district's year through two worker processes sharing the database,
one of them SIGKILLed in the middle of a signing batch and again in the middle of the long-term
validation job; the supervisor replaces it. Every record must be issued exactly once (one log
entry, three signatures, one long-term validation file) and the log audit must pass.

The run happens in a process of its own (:mod:`run_pipeline`) on its own database: a fresh
PostgreSQL database on the server the suite runs against, else an SQLite file. About a minute
and a half.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings


def _postgres_server() -> dict[str, str] | None:
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        return None
    return {k: str(database.get(k) or "") for k in ("HOST", "PORT", "USER", "PASSWORD")}


def _admin(server: dict[str, str], sql: str) -> None:
    with psycopg.connect(
        host=server["HOST"] or "127.0.0.1",
        port=server["PORT"] or "5432",
        user=server["USER"] or "postgres",
        password=server["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture
def database_url(tmp_path: Path):
    server = _postgres_server()
    if server is None:
        yield None  # SQLite in the run's data folder
        return
    name = f"hocba_kill_{uuid.uuid4().hex[:10]}"
    _admin(server, f"CREATE DATABASE {name}")
    user = server["USER"] or "postgres"
    password = f":{server['PASSWORD']}" if server["PASSWORD"] else ""
    host, port = server["HOST"] or "127.0.0.1", server["PORT"] or "5432"
    try:
        yield f"postgres://{user}{password}@{host}:{port}/{name}"
    finally:
        _admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_a_worker_killed_mid_batch_loses_nothing_and_issues_nothing_twice(
    tmp_path: Path, database_url: str | None
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        HOCBA_DATA_DIR=str(tmp_path),
        HOCBA_TESTING="1",
        HOCBA_WORKER_HEARTBEAT_SECONDS="1",
        HOCBA_WORKER_LEASE_SECONDS="5",
        DB_CONN_MAX_AGE="60",
    )
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, "-m", "hocba.jobs.tests.run_pipeline", "--kill", "teacher,seal"],
        env=env,
        capture_output=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    outcome = json.loads(done.stdout.decode().strip().splitlines()[-1])
    stages = {stage["name"]: stage for stage in outcome["stages"]}

    # Both kills happened while a task was running, and a replacement worker took over.
    assert stages["teacher"]["kills"] == 1 and stages["teacher"]["restarts"] >= 1
    assert stages["seal"]["kills"] == 1 and stages["seal"]["restarts"] >= 1
    # The outcome is the one without kills: every record issued once, nothing half done.
    assert outcome["records"] > 60
    assert outcome["issued"] == outcome["records"] - outcome["pending"]
    assert outcome["issued_leaves"] == outcome["issued"] and outcome["duplicate_leaves"] == 0
    assert outcome["not_issued"] == {}
    assert outcome["signatures"] == 3 * outcome["issued"]
    assert outcome["long_term"] == outcome["issued"]
    assert outcome["audit_ok"], outcome["audit_problems"]
    assert outcome["ok"]
    # The queue is drained and the dead workers' leases are gone.
    assert outcome["task_statuses"] == ["SUCCESSFUL"]
    assert outcome["leases_left"] == 0
