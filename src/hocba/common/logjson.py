"""Structured logs: one JSON object per line (``HOCBA_LOG_FORMAT=json``), for log collectors.

Fields: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, ``process``, and, when the
record has them, ``exception`` and Django's request ``status_code`` / ``path``; anything passed
with ``extra={...}`` that is JSON-serialisable is kept too.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

# The attributes every LogRecord has: the rest came from ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path"):
            entry["path"] = request.path
            entry["method"] = getattr(request, "method", "")
        for key, value in vars(record).items():
            if key in _STANDARD or key in entry or key == "request":
                continue
            try:
                json.dumps(value)
            except (TypeError, ValueError):
                continue
            entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
