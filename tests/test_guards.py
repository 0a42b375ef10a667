"""Guard tests (STYLE §10): the project is in a state CI can trust."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_missing_migrations() -> None:
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_:
        pytest.fail(f"Missing migrations:\n{out.getvalue()} ({exit_})")


def _start_settings(env_overrides: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "HOCBA_TESTING"}
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-m", "hocba.cli", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_secret_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = _start_settings({"HOCBA_DATA_DIR": str(tmp_path), "ALLOWED_HOSTS": "hocba.example"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = _start_settings({"HOCBA_DATA_DIR": str(tmp_path), "SECRET_KEY": "x" * 50})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_production_starts_with_its_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = _start_settings(
        {
            "HOCBA_DATA_DIR": str(tmp_path),
            "SECRET_KEY": "x" * 50,
            "ALLOWED_HOSTS": "hocba.example",
        }
    )
    assert result.returncode == 0, result.stderr


def test_embedded_default_needs_no_configuration(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = _start_settings({"HOCBA_DATA_DIR": str(tmp_path), "DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "secret_key").exists()
