"""The database itself keeps a compiled record's content: SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from hocba.conftest import World
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.records.tests.conftest import compile_4a, finish


@pytest.fixture
def record(filled: World) -> YearRecord:
    finish(filled)
    compile_4a(filled)
    return YearRecord.objects.order_by("pk").first()  # type: ignore[return-value]


def _row(pk: int) -> dict[str, Any] | None:
    return YearRecord.objects.filter(pk=pk).values().first()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("canonical_json", "{}"),
        ("content_hash", "0" * 64),
        ("short_code", "2222-2222-2222"),
        ("version", 7),
        ("record_id", "00000000000000000000000000000000"),
        ("enrolment_id", None),
    ],
)
def test_raw_update_of_content_is_refused(record: YearRecord, column: str, value: Any) -> None:
    before = _row(record.pk)
    if column == "enrolment_id":
        value = record.enrolment_id + 1
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        # ``column`` comes from the parametrize list above, never from input.
        sql = f"UPDATE records_yearrecord SET {column} = %s WHERE id = %s"  # noqa: S608
        cursor.execute(sql, [value, record.pk])
    assert _row(record.pk) == before


def test_raw_delete_is_refused(record: YearRecord) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM records_yearrecord WHERE id = %s", [record.pk])
    assert YearRecord.objects.filter(pk=record.pk).exists()


def test_orm_delete_is_refused(record: YearRecord) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        YearRecord.objects.filter(pk=record.pk).delete()
    assert YearRecord.objects.filter(pk=record.pk).exists()


def test_a_status_change_is_allowed(record: YearRecord) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE records_yearrecord SET status = %s WHERE id = %s",
            [YearRecordStatus.TEACHER_SIGNED, record.pk],
        )
    record.refresh_from_db()
    assert record.status == YearRecordStatus.TEACHER_SIGNED
    # A full save rewrites every column with its own value: allowed too.
    record.status = YearRecordStatus.PRINCIPAL_SIGNED
    with transaction.atomic():
        record.save()
    record.refresh_from_db()
    assert record.status == YearRecordStatus.PRINCIPAL_SIGNED


def test_the_database_stays_usable_after_a_refusal(record: YearRecord) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE records_yearrecord SET canonical_json = ''")
    with transaction.atomic():
        YearRecord.objects.filter(pk=record.pk).update(status=YearRecordStatus.REVOKED)
    assert YearRecord.objects.get(pk=record.pk).status == YearRecordStatus.REVOKED


@pytest.mark.parametrize(
    ("start", "target", "allowed"),
    [
        ("issued", "superseded", True),
        ("issued", "revoked", True),
        ("issued", "sealed", False),
        ("issued", "compiled", False),
        ("superseded", "issued", False),
        ("revoked", "issued", False),
        ("sealed", "issued", True),
    ],
)
def test_an_issued_status_only_moves_forward(
    record: YearRecord, start: str, target: str, allowed: bool
) -> None:
    YearRecord.objects.filter(pk=record.pk).update(status="sealed")
    if start != "sealed":
        YearRecord.objects.filter(pk=record.pk).update(status="issued")
        if start != "issued":
            YearRecord.objects.filter(pk=record.pk).update(status=start)
    if allowed:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE records_yearrecord SET status = %s WHERE id = %s", [target, record.pk]
            )
        assert _row(record.pk)["status"] == target  # type: ignore[index]
        return
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE records_yearrecord SET status = %s WHERE id = %s", [target, record.pk]
        )
    assert _row(record.pk)["status"] == start  # type: ignore[index]
