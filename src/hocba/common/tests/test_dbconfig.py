"""The database settings read from the environment: persistent connections, the pool, timeouts."""

from __future__ import annotations

import copy

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from hocba.common.dbconfig import database_settings

SQLITE_URL = "sqlite:////tmp/hocba-test.sqlite3"
PG_URL = "postgres://hocba@db.example:5432/hocba"


def parse(**environ: str) -> dict:
    return database_settings(environ, default_url=SQLITE_URL)


def test_sqlite_by_default_without_persistent_connections() -> None:
    config = parse()
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["CONN_MAX_AGE"] == 0
    assert config["CONN_HEALTH_CHECKS"] is True
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert "pool" not in config["OPTIONS"]
    assert parse(DB_CONN_MAX_AGE="30")["CONN_MAX_AGE"] == 30


def test_postgresql_keeps_connections_for_a_minute_by_default() -> None:
    config = parse(DATABASE_URL=PG_URL)
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["CONN_MAX_AGE"] == 60
    assert config["CONN_HEALTH_CHECKS"] is True
    assert config["OPTIONS"] == {"connect_timeout": 10}
    assert parse(DATABASE_URL=PG_URL, DB_CONN_MAX_AGE="0")["CONN_MAX_AGE"] == 0
    assert parse(DATABASE_URL=PG_URL, DB_CONN_MAX_AGE="600")["CONN_MAX_AGE"] == 600


def test_pool_environment_becomes_pool_options() -> None:
    config = parse(
        DATABASE_URL=PG_URL,
        HOCBA_DB_POOL_MAX_SIZE="8",
        HOCBA_DB_POOL_MIN_SIZE="4",
        HOCBA_DB_POOL_TIMEOUT="2.5",
    )
    assert config["OPTIONS"]["pool"] == {"min_size": 4, "max_size": 8, "timeout": 2.5}
    assert config["CONN_MAX_AGE"] == 0  # Django refuses a pool with persistent connections
    assert parse(DATABASE_URL=PG_URL, HOCBA_DB_POOL_MAX_SIZE="1")["OPTIONS"]["pool"] == {
        "min_size": 1,
        "max_size": 1,
        "timeout": 10.0,
    }
    # An explicit 0 is the same as unset.
    both = parse(DATABASE_URL=PG_URL, HOCBA_DB_POOL_MAX_SIZE="4", DB_CONN_MAX_AGE="0")
    assert both["CONN_MAX_AGE"] == 0 and both["OPTIONS"]["pool"]["max_size"] == 4
    assert "pool" not in parse(DATABASE_URL=PG_URL, HOCBA_DB_POOL_MAX_SIZE="0")["OPTIONS"]


@pytest.mark.parametrize(
    "environ",
    [
        {"DATABASE_URL": PG_URL, "HOCBA_DB_POOL_MAX_SIZE": "4", "DB_CONN_MAX_AGE": "60"},
        {"DATABASE_URL": PG_URL, "HOCBA_DB_POOL_MAX_SIZE": "4", "HOCBA_DB_POOL_MIN_SIZE": "5"},
        {"DATABASE_URL": PG_URL, "HOCBA_DB_POOL_MIN_SIZE": "2"},
        {"DATABASE_URL": PG_URL, "HOCBA_DB_POOL_MAX_SIZE": "many"},
        {"DATABASE_URL": PG_URL, "HOCBA_DB_POOL_MAX_SIZE": "-1"},
        {"DATABASE_URL": PG_URL, "HOCBA_DB_POOL_MAX_SIZE": "2.5"},
        {"DATABASE_URL": PG_URL, "HOCBA_DB_POOL_MAX_SIZE": "4", "HOCBA_DB_POOL_TIMEOUT": "0"},
        {"DATABASE_URL": PG_URL, "DB_CONN_MAX_AGE": "soon"},
        {"HOCBA_DB_POOL_MAX_SIZE": "4"},
        {"HOCBA_DB_STATEMENT_TIMEOUT": "5000"},
    ],
)
def test_conflicting_or_unreadable_settings_are_refused(environ: dict[str, str]) -> None:
    with pytest.raises(ImproperlyConfigured):
        parse(**environ)


def test_statement_timeout_is_a_connection_option() -> None:
    config = parse(DATABASE_URL=PG_URL, HOCBA_DB_STATEMENT_TIMEOUT="5000")
    assert config["OPTIONS"]["options"] == "-c statement_timeout=5000"
    # Options given in the URL are kept, and so is a connect timeout given there.
    url = PG_URL + "?options=-c%20search_path%3Dhocba&connect_timeout=3"
    config = parse(DATABASE_URL=url, HOCBA_DB_STATEMENT_TIMEOUT="5000")
    assert config["OPTIONS"]["options"] == "-c search_path=hocba -c statement_timeout=5000"
    assert config["OPTIONS"]["connect_timeout"] == 3
    assert parse(DATABASE_URL=PG_URL, HOCBA_DB_CONNECT_TIMEOUT="4")["OPTIONS"] == {
        "connect_timeout": 4
    }


def test_the_project_settings_use_it() -> None:
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_a_pooled_connection_with_a_statement_timeout_works() -> None:
    from django.db.backends.postgresql.base import DatabaseWrapper

    settings_dict = copy.deepcopy(connection.settings_dict)
    settings_dict["CONN_MAX_AGE"] = 0
    settings_dict["OPTIONS"] = {
        **settings_dict["OPTIONS"],
        "pool": {"min_size": 1, "max_size": 2, "timeout": 5.0},
        "options": "-c statement_timeout=1234",
    }
    pooled = DatabaseWrapper(settings_dict, alias="hocba_pool_test")
    try:
        for _ in range(3):  # each close returns the connection to the pool
            with pooled.cursor() as cursor:
                cursor.execute("SHOW statement_timeout")
                assert cursor.fetchone()[0] == "1234ms"
            pooled.close()
        assert pooled.pool is not None and pooled.pool.get_stats()["pool_size"] >= 1
    finally:
        pooled.close()
        pooled.close_pool()
