"""Exchange fixtures: issued records in the log (ledger fixtures), a pushing API key, fake
receivers on the loopback interface."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from hocba.api import keys
from hocba.api.models import ApiScope
from hocba.ledger.tests.conftest import *  # noqa: F403 — issued records (sealed, issued, ...)
from hocba.signing.tests.test_agent import flushable  # noqa: F401 — live-server flush on SQLite

ENDPOINT = "/api/v1/exchange/record-sets"


@pytest.fixture
def push_key(db: Any) -> str:
    _key, raw = keys.create_key(
        actor=None,
        name="Đồng bộ từ trường",
        institution="Sở GD&ĐT Hà Nội",
        scopes=[ApiScope.EXCHANGE_PUSH],
    )
    return raw


@pytest.fixture(autouse=True)
def fast_backoff(settings: Any) -> None:
    settings.HOCBA_EXCHANGE_BACKOFF_SECONDS = 0.01
    settings.HOCBA_EXCHANGE_TIMEOUT = 10


@dataclass
class FakeReceiver:
    """Answers POSTs from a script of (status, body) and records what it was sent."""

    script: list[tuple[int, dict[str, Any]]]
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    retry_after: str = ""

    def answer(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        payload = json.loads(body)
        self.requests.append({"headers": headers, "body": payload})
        status, answer = self.script.pop(0) if self.script else (200, {})
        if status == 200 and not answer:
            answer = {"receipts": receipts_for(payload)}
        return status, answer


def receipts_for(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "record_id": entry["record_id"],
            "version": entry["version"],
            "status": entry["status"],
            "receipt_id": f"fake-{entry['record_id']}-{entry['version']}",
            "outcome": "stored",
        }
        for record_set in payload["record_sets"]
        for entry in record_set["records"]
    ]


@pytest.fixture
def fake_receiver() -> Iterator[FakeReceiver]:
    receiver = FakeReceiver(script=[])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, answer = receiver.answer(dict(self.headers.items()), body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if receiver.retry_after and status != 200:
                self.send_header("Retry-After", receiver.retry_after)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}{ENDPOINT}"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
