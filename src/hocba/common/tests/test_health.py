"""Liveness and readiness probes, and the JSON log format."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from hocba.common import health
from hocba.common.logjson import JsonFormatter


def test_liveness_needs_no_database() -> None:
    # No django_db mark: pytest-django refuses any database access here.
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_ready_when_everything_answers() -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "migrations", "cache", "storage"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_not_ready_when_the_storage_is_not_writable(settings: Any, tmp_path: Path) -> None:
    blocked = tmp_path / "media"
    blocked.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = blocked
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["storage"]["ok"] is False and body["checks"]["storage"]["error"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_not_ready_with_a_pending_migration(monkeypatch: pytest.MonkeyPatch) -> None:
    """A migration the database has not recorded as applied (as after deploying new code
    before running ``hocba migrate``)."""
    from django.db.migrations.recorder import MigrationRecorder

    monkeypatch.setattr(health, "_MIGRATED", set())
    MigrationRecorder.Migration.objects.filter(app="verification", name="0001_initial").delete()
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert "verification.0001_initial" in response.json()["checks"]["migrations"]["error"]
    MigrationRecorder.Migration.objects.create(app="verification", name="0001_initial")
    assert Client().get("/readyz").status_code == 200


def test_json_log_lines() -> None:
    formatter = JsonFormatter()
    record = logging.LogRecord("hocba.test", logging.WARNING, __file__, 1, "Lớp %s", ("4A",), None)
    record.batch_id = 42
    record.unserialisable = object()
    entry = json.loads(formatter.format(record))
    assert entry["level"] == "WARNING" and entry["message"] == "Lớp 4A"
    assert entry["logger"] == "hocba.test" and entry["batch_id"] == 42
    assert "unserialisable" not in entry and entry["time"].endswith("+00:00")
