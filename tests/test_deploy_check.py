"""Guard (issue 10 §2): ``hocba check --deploy`` is clean with production settings as documented
(docs/deployment.md): DEBUG off, a secret key, host names, behind a TLS proxy."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path


def test_the_deploy_check_is_clean_in_production_settings(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HOCBA_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="hocba.example.vn",
        HOCBA_DATA_DIR=str(tmp_path),
        HOCBA_PROXY_SSL_HEADER="1",
    )
    done = subprocess.run(
        [sys.executable, "-m", "hocba.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout
