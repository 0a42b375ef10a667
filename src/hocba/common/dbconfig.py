"""The ``DATABASES["default"]`` entry, read from the environment (docs/deployment.md, PostgreSQL).

- ``DATABASE_URL``: the database (SQLite in the data directory when unset).
- ``DB_CONN_MAX_AGE``: seconds a connection is kept for the next request or task. Default 60 on
  PostgreSQL (a reconnect per task caps the queue at 36-50 tasks/s instead of 160+, ARCHITECTURE
  §10), 0 elsewhere. ``CONN_HEALTH_CHECKS`` is always on, so a connection the server dropped is
  replaced before use instead of failing the request.
- ``HOCBA_DB_POOL_MAX_SIZE`` (PostgreSQL only): use psycopg's connection pool, shared by the
  threads of a process, instead of persistent connections (Django allows only one of the two);
  ``HOCBA_DB_POOL_MIN_SIZE`` (default 2) and ``HOCBA_DB_POOL_TIMEOUT`` (seconds to wait for a
  free connection, default 10) tune it.
- ``HOCBA_DB_STATEMENT_TIMEOUT`` (PostgreSQL only): milliseconds after which the server cancels
  a statement; set it for web processes, not for ``hocba migrate`` or the workers.
- ``HOCBA_DB_CONNECT_TIMEOUT`` (PostgreSQL only): seconds to wait for a connection (default 10),
  so an unreachable server fails ``/readyz`` quickly instead of hanging it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

SQLITE = "django.db.backends.sqlite3"
POSTGRESQL = "django.db.backends.postgresql"
POSTGRESQL_CONN_MAX_AGE = 60
POOL_VARIABLES = ("HOCBA_DB_POOL_MAX_SIZE", "HOCBA_DB_POOL_MIN_SIZE", "HOCBA_DB_POOL_TIMEOUT")


def _number(environ: Mapping[str, str], name: str, default: float, *, minimum: float = 0) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ImproperlyConfigured(f"{name} phải là một số (got {text!r}).") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} phải lớn hơn hoặc bằng {minimum:g} (got {text!r}).")
    return value


def _integer(environ: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    value = _number(environ, name, default, minimum=minimum)
    if value != int(value):
        raise ImproperlyConfigured(f"{name} phải là một số nguyên (got {environ[name]!r}).")
    return int(value)


def _only_postgresql(environ: Mapping[str, str], engine: str) -> None:
    for name in (*POOL_VARIABLES, "HOCBA_DB_STATEMENT_TIMEOUT"):
        if environ.get(name, "").strip():
            raise ImproperlyConfigured(
                f"{name} chỉ dùng được với PostgreSQL (DATABASE_URL is {engine})."
            )


def _pool(environ: Mapping[str, str]) -> dict[str, Any] | None:
    max_size = _integer(environ, "HOCBA_DB_POOL_MAX_SIZE", 0)
    if not max_size:
        if any(environ.get(name, "").strip() for name in POOL_VARIABLES[1:]):
            raise ImproperlyConfigured(
                "HOCBA_DB_POOL_MIN_SIZE/HOCBA_DB_POOL_TIMEOUT cần HOCBA_DB_POOL_MAX_SIZE."
            )
        return None
    min_size = _integer(environ, "HOCBA_DB_POOL_MIN_SIZE", min(2, max_size))
    if min_size > max_size:
        raise ImproperlyConfigured(
            "HOCBA_DB_POOL_MIN_SIZE không được lớn hơn HOCBA_DB_POOL_MAX_SIZE "
            f"({min_size} > {max_size})."
        )
    timeout = _number(environ, "HOCBA_DB_POOL_TIMEOUT", 10.0, minimum=0.1)
    return {"min_size": min_size, "max_size": max_size, "timeout": timeout}


def database_settings(environ: Mapping[str, str], *, default_url: str) -> dict[str, Any]:
    """The settings of the default database for this environment."""
    config: dict[str, Any] = dict(dj_database_url.parse(environ.get("DATABASE_URL", default_url)))
    engine = config["ENGINE"]
    options: dict[str, Any] = config.setdefault("OPTIONS", {})
    config["CONN_HEALTH_CHECKS"] = True
    max_age_set = bool(environ.get("DB_CONN_MAX_AGE", "").strip())
    if engine != POSTGRESQL:
        _only_postgresql(environ, engine)
        config["CONN_MAX_AGE"] = _integer(environ, "DB_CONN_MAX_AGE", 0)
        if engine == SQLITE:
            options.update(
                {
                    "transaction_mode": "IMMEDIATE",
                    "timeout": 20,
                    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                }
            )
        return config
    pool = _pool(environ)
    if pool is not None:
        if max_age_set and _integer(environ, "DB_CONN_MAX_AGE", 0) != 0:
            raise ImproperlyConfigured(
                "DB_CONN_MAX_AGE và HOCBA_DB_POOL_MAX_SIZE không dùng cùng nhau: the pool keeps "
                "the connections, so unset DB_CONN_MAX_AGE (or set it to 0)."
            )
        config["CONN_MAX_AGE"] = 0
        options["pool"] = pool
    else:
        config["CONN_MAX_AGE"] = _integer(environ, "DB_CONN_MAX_AGE", POSTGRESQL_CONN_MAX_AGE)
    options.setdefault("connect_timeout", _integer(environ, "HOCBA_DB_CONNECT_TIMEOUT", 10))
    statement_timeout = _integer(environ, "HOCBA_DB_STATEMENT_TIMEOUT", 0)
    if statement_timeout:
        setting = f"-c statement_timeout={statement_timeout}"
        options["options"] = (
            f"{options['options']} {setting}" if options.get("options") else setting
        )
    return config
