"""``hocba ledger audit``: a clean log passes; each tampering is detected and names the record."""

from __future__ import annotations

import hashlib
import importlib
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection

from hocba.common import db_guards
from hocba.ledger import issuing
from hocba.ledger.audit import record_label, run_audit
from hocba.records.models import YearRecord

pytestmark = pytest.mark.django_db

RECORDS_GUARD = importlib.import_module(
    "hocba.records.migrations.0002_year_record_content_immutable"
)


@contextmanager
def triggers_off(table: str, sqlite_recreate: list[str]) -> Iterator[None]:
    """What an attacker with database access does first."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Fire the test transaction's deferred foreign key checks first: PostgreSQL will
            # not alter a table with pending trigger events.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table]
            )
            names = [row[0] for row in cursor.fetchall()]
            for name in names:
                cursor.execute(f"DROP TRIGGER {name}")
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER ALL")
        else:
            for statement in sqlite_recreate:
                cursor.execute(statement)


@pytest.fixture
def issued(sealed: list[YearRecord]) -> list[YearRecord]:
    assert issuing.issue_sealed([r.pk for r in sealed]) == (3, [])
    return [YearRecord.objects.select_related("pupil").get(pk=r.pk) for r in sealed]


def _audit_output() -> tuple[str, bool]:
    out = io.StringIO()
    try:
        call_command("ledger", "audit", stdout=out, stderr=io.StringIO())
    except CommandError:
        return out.getvalue(), False
    return out.getvalue(), True


def test_clean_log_passes(issued: list[YearRecord]) -> None:
    report = run_audit()
    assert report.ok, report.problems
    assert (report.leaves, report.checkpoints, report.records) == (3, 1, 3)
    output, ok = _audit_output()
    assert ok
    assert "Sổ cái toàn vẹn." in output


def test_checkpoint_command(issued: list[YearRecord]) -> None:
    out = io.StringIO()
    call_command("ledger", "checkpoint", stdout=out)
    assert out.getvalue().startswith("test.hocba.local/log\n3\n")
    assert "Khoá xác minh: test.hocba.local/log+" in out.getvalue()


def test_changed_pdf_byte_is_named(issued: list[YearRecord]) -> None:
    record = issued[1]
    signature = record.signatures.order_by("-signed_at", "-pk").first()
    assert signature is not None
    with default_storage.open(signature.pdf_file, "rb") as handle:
        data = bytearray(handle.read())
    data[len(data) // 2] ^= 0x01
    with default_storage.open(signature.pdf_file, "wb") as handle:
        handle.write(bytes(data))
    output, ok = _audit_output()
    assert not ok
    assert f"{record_label(record)}: Tệp PDF học bạ không khớp sổ cái." in output
    assert [p.record for p in run_audit().problems] == [record_label(record)]


def test_changed_score_behind_the_app_is_named(issued: list[YearRecord]) -> None:
    record = issued[0]
    content = json.loads(record.canonical_json)
    content["tampered"] = "điểm 10"
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    new_hash = hashlib.sha256(canonical.encode()).hexdigest()
    with triggers_off("records_yearrecord", RECORDS_GUARD.SQLITE), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE records_yearrecord SET canonical_json = %s, content_hash = %s WHERE id = %s",
            [canonical, new_hash, record.pk],
        )
    output, ok = _audit_output()
    assert not ok
    assert f"{record_label(record)}: Dữ liệu học bạ không khớp sổ cái." in output


def test_deleted_leaf_is_named(issued: list[YearRecord]) -> None:
    record = issued[0]
    guards = db_guards.append_only_statements(connection.vendor, "ledger_logleaf")
    with connection.cursor() as cursor:
        cursor.execute('SELECT * FROM ledger_logleaf WHERE "index" = 0')
        columns = [column[0] for column in cursor.description]
        row = cursor.fetchone()
    with triggers_off("ledger_logleaf", guards), connection.cursor() as cursor:
        cursor.execute('DELETE FROM ledger_logleaf WHERE "index" = 0')
    output, ok = _audit_output()
    assert not ok
    assert "Thiếu lá số 0 của sổ cái." in output
    assert f"{record_label(record)}: Học bạ đã phát hành nhưng không có trong sổ cái." in output
    # Put the row back so the foreign keys hold when the test database checks them.
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        insert = f"INSERT INTO ledger_logleaf ({quoted}) VALUES ({placeholders})"  # noqa: S608
        cursor.execute(insert, row)


def test_changed_leaf_event_is_detected(issued: list[YearRecord]) -> None:
    guards = db_guards.append_only_statements(connection.vendor, "ledger_logleaf")
    with triggers_off("ledger_logleaf", guards), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_logleaf SET event = replace(event, 'issued', 'revoked') "
            'WHERE "index" = 0'
        )
    problems = {p.kind for p in run_audit().problems}
    assert {"leaf_hash", "node", "checkpoint_root"} <= problems
