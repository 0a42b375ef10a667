"""``hocba serve`` starts the production server: gunicorn workers, static files, probes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 — loopback
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_production_server_serves_pages_static_files_and_probes(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "HOCBA_TESTING"}}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(
        {
            "HOCBA_DATA_DIR": str(tmp_path),
            "DEBUG": "0",
            "SECRET_KEY": "test-only-" + "x" * 50,
            "ALLOWED_HOSTS": "127.0.0.1",
            "HOCBA_HTTPS": "0",
        }
    )
    hocba = [sys.executable, "-m", "hocba.cli"]
    subprocess.run([*hocba, "migrate", "--noinput"], env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        [*hocba, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = _get(f"{base}/healthz")
                break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "hocba serve did not start"
                time.sleep(0.3)
        assert (status, body) == (200, b'{"status": "ok"}')
        status, body = _get(f"{base}/readyz")
        assert status == 200, body
        status, body = _get(f"{base}/static/web/hocba.css")
        assert status == 200 and b".card" in body
        status, body = _get(f"{base}/dang-nhap/")
        assert status == 200 and "Đăng nhập".encode() in body
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert "gunicorn" in output.lower() or "Booting worker" in output
