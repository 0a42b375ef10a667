"""The audit log is append-only in the database itself, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from hocba.audit.models import AuditEvent
from hocba.audit.services import record_event


@pytest.fixture
def event(db: Any) -> AuditEvent:
    with transaction.atomic():
        return record_event(actor=None, action="test.event.written", changes={"a": [1, 2]})


def _row(pk: int) -> dict[str, Any] | None:
    return AuditEvent.objects.filter(pk=pk).values().first()


def test_raw_update_is_refused(event: AuditEvent) -> None:
    before = _row(event.pk)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET action = %s WHERE id = %s", ["test.tampered", event.pk]
        )
    assert _row(event.pk) == before


def test_raw_delete_is_refused(event: AuditEvent) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_orm_update_and_delete_are_refused(event: AuditEvent) -> None:
    before = _row(event.pk)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(actor_label="someone else")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert _row(event.pk) == before


def test_the_database_stays_usable_after_a_refusal(event: AuditEvent) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")
    with transaction.atomic():
        record_event(actor=None, action="test.event.after")
    assert AuditEvent.objects.count() == 2


def test_record_event_writes_inside_a_transaction(db: Any) -> None:
    with transaction.atomic():
        written = record_event(actor=None, action="test.event.inside", object_label="x")
    assert written.actor is None
    assert written.actor_label == "hệ thống"
    assert AuditEvent.objects.get().action == "test.event.inside"


@pytest.mark.django_db(transaction=True)
def test_record_event_refuses_to_run_outside_a_transaction() -> None:
    # No surrounding atomic block here: transactional tests run in autocommit mode.
    assert not connection.in_atomic_block
    with pytest.raises(RuntimeError, match="inside the change's transaction"):
        record_event(actor=None, action="test.event.outside")
    assert not AuditEvent.objects.exists()
