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


RECORDS_STATUS_GUARD = importlib.import_module("hocba.records.migrations.0005_issued_status_guard")


def _swap(table: str, column_sets: list[str], first: int, second: int) -> None:
    """Exchange columns between two rows, as an attacker at the database would."""
    with connection.cursor() as cursor:
        columns = ", ".join(column_sets)
        cursor.execute(f"SELECT {columns} FROM {table} WHERE id = %s", [first])  # noqa: S608
        a = cursor.fetchone()
        cursor.execute(f"SELECT {columns} FROM {table} WHERE id = %s", [second])  # noqa: S608
        b = cursor.fetchone()
        assignments = ", ".join(f"{column} = %s" for column in column_sets)
        update = f"UPDATE {table} SET {assignments} WHERE id = %s"  # noqa: S608
        cursor.execute(update, [*b, first])
        cursor.execute(update, [*a, second])


def _record_guards() -> list[str]:
    if connection.vendor == "postgresql":
        return []
    return [*RECORDS_GUARD.SQLITE, *RECORDS_STATUS_GUARD.SQLITE]


def test_swapped_record_data_is_named(issued: list[YearRecord]) -> None:
    first, second = issued[0], issued[2]
    with triggers_off("records_yearrecord", _record_guards()):
        _swap("records_yearrecord", ["canonical_json", "content_hash"], first.pk, second.pk)
    named = {p.record for p in run_audit().problems if p.kind == "record_data"}
    assert named == {record_label(first), record_label(second)}


def test_swapped_pupils_are_named(issued: list[YearRecord]) -> None:
    """Each record keeps its own signed data, but is shown under the other child."""
    first, second = issued[0], issued[1]
    with triggers_off("records_yearrecord", _record_guards()):
        _swap("records_yearrecord", ["pupil_id"], first.pk, second.pk)
    problems = [p for p in run_audit().problems if p.kind == "record_identity"]
    first.refresh_from_db()
    second.refresh_from_db()
    assert {p.record for p in problems} == {record_label(first), record_label(second)}
    output, ok = _audit_output()
    assert not ok
    assert "Học bạ được gắn với học sinh, trường hoặc mã khác với dữ liệu đã ký." in output


def test_swapped_signed_pdfs_are_named(issued: list[YearRecord]) -> None:
    """The stored files and their hashes exchanged: each PDF is valid, but not its record's."""
    first, second = issued[0], issued[1]
    ids = []
    for record in (first, second):
        signature = record.signatures.order_by("-signed_at", "-pk").first()
        assert signature is not None
        ids.append(signature.pk)
    guards = db_guards.append_only_statements(connection.vendor, "signing_recordsignature")
    with triggers_off("signing_recordsignature", guards):
        _swap("signing_recordsignature", ["pdf_file", "pdf_sha256"], ids[0], ids[1])
    named = {p.record for p in run_audit().problems if p.kind == "record_pdf"}
    assert named == {record_label(first), record_label(second)}


def test_status_changed_behind_the_app_is_named(issued: list[YearRecord]) -> None:
    record = issued[2]
    with triggers_off("records_yearrecord", _record_guards()), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE records_yearrecord SET status = 'revoked' WHERE id = %s", [record.pk]
        )
    problems = [p for p in run_audit().problems if p.kind == "record_status"]
    assert [p.record for p in problems] == [record_label(record)]
    assert "khác trạng thái ghi trong sổ cái (Đã phát hành)" in problems[0].message


def test_issued_status_without_a_log_entry_is_named(compiled: list[YearRecord]) -> None:
    """A compiled record set to issued by SQL: no issuance, no leaf."""
    record = YearRecord.objects.select_related("pupil").get(pk=compiled[0].pk)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE records_yearrecord SET status = 'issued' WHERE id = %s", [record.pk])
    problems = run_audit().problems
    assert [(p.kind, p.record) for p in problems] == [("record_unlogged", record_label(record))]
