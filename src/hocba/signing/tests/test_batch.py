"""Batch signing end to end: teacher, principal (or deputy), seal; each validates, in order."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from hocba.common.errors import DomainError, PermissionRefused
from hocba.conftest import PASSWORD
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.signing import services
from hocba.signing.batch import current_pdf, run_batch
from hocba.signing.models import (
    BatchStatus,
    ItemState,
    RecordSignature,
    SigningBatch,
    SigningStep,
)
from hocba.signing.registry import retire_certificate, trust_store
from hocba.signing.tests.conftest import PIN, Registered

pytestmark = pytest.mark.django_db


def _sign(
    registered: Registered, step: str, username: str, *, whole_school: bool = False, pin: str = PIN
) -> SigningBatch:
    world = registered.world
    actor = world.own.users[username]
    certificate = (
        registered.seal(world.own.school)
        if step == SigningStep.SEAL
        else registered.personal(actor.username)
    )
    if step == SigningStep.SEAL:
        pin = registered.pki.seals[world.own.school.code].pin
    scope: dict[str, Any] = (
        {"school": world.own.school} if whole_school else {"school_class": world.own.classes[0]}
    )
    batch = services.start_batch(
        actor, step=step, certificate=certificate, password=PASSWORD, pin=pin, **scope
    )
    run_batch(batch.pk)
    batch.refresh_from_db()
    return batch


def _validate(pdf: bytes) -> list[Any]:
    store = trust_store()
    context = ValidationContext(
        trust_roots=list(store.roots), crls=list(store.crls), allow_fetching=False
    )
    reader = PdfFileReader(io.BytesIO(pdf))
    return [
        (signature.field_name, validate_pdf_signature(signature, context))
        for signature in reader.embedded_signatures
    ]


def test_three_signatures_validate_trusted_in_order(
    registered: Registered, compiled: list[YearRecord]
) -> None:
    teacher = _sign(registered, SigningStep.TEACHER, "homeroom_teacher")
    assert (teacher.status, teacher.done_count, teacher.failed_count) == (BatchStatus.DONE, 3, 0)
    assert teacher.authorisation is None
    principal = _sign(registered, SigningStep.PRINCIPAL, "principal", whole_school=True)
    assert (principal.status, principal.done_count) == (BatchStatus.DONE, 3)
    seal = _sign(registered, SigningStep.SEAL, "principal", whole_school=True)
    assert (seal.status, seal.done_count) == (BatchStatus.DONE, 3)

    for record in YearRecord.objects.filter(pk__in=[r.pk for r in compiled]):
        assert record.status == YearRecordStatus.SEALED
        results = _validate(current_pdf(record))
        assert [field for field, _status in results] == ["gvcn", "hieu_truong", "con_dau"]
        for _field, status in results:
            assert status.intact and status.valid and status.trusted
            assert status.timestamp_validity is not None and status.timestamp_validity.valid
            assert status.docmdp_ok
        signatures = list(record.signatures.order_by("signed_at", "pk"))
        assert [s.step for s in signatures] == ["gvcn", "hieu_truong", "con_dau"]
        assert signatures[1].signer_title == "HIỆU TRƯỞNG"
        assert signatures[2].signer_name == "Trường Tiểu học A"


def test_deputy_signs_for_the_principal(registered: Registered, compiled: list[YearRecord]) -> None:
    _sign(registered, SigningStep.TEACHER, "homeroom_teacher")
    batch = _sign(registered, SigningStep.PRINCIPAL, "deputy_principal")
    assert batch.status == BatchStatus.DONE
    signature = RecordSignature.objects.filter(step=SigningStep.PRINCIPAL).first()
    assert signature is not None and signature.signer_title.startswith("KT. HIỆU TRƯỞNG")


def test_order_is_enforced(registered: Registered, compiled: list[YearRecord]) -> None:
    with pytest.raises(DomainError, match="Không có học bạ nào đang chờ"):
        _sign(registered, SigningStep.PRINCIPAL, "principal")
    with pytest.raises(DomainError, match="Không có học bạ nào đang chờ"):
        _sign(registered, SigningStep.SEAL, "principal")
    assert not SigningBatch.objects.exists()


@pytest.mark.parametrize(
    ("username", "step"),
    [
        ("subject_teacher", SigningStep.TEACHER),
        ("principal", SigningStep.TEACHER),
        ("homeroom_teacher", SigningStep.PRINCIPAL),
        ("school_admin", SigningStep.SEAL),
    ],
)
def test_who_may_sign(
    registered: Registered, compiled: list[YearRecord], username: str, step: str
) -> None:
    world = registered.world
    actor = world.own.users[username]
    certificate = registered.personal("a_gvcn")
    with pytest.raises(PermissionRefused):
        services.start_batch(
            actor,
            step=step,
            certificate=certificate,
            password=PASSWORD,
            pin=PIN,
            school_class=world.own.classes[0],
        )
    assert not SigningBatch.objects.exists()
    assert set(YearRecord.objects.values_list("status", flat=True)) == {"compiled"}


def test_foreign_principal_cannot_sign(registered: Registered, compiled: list[YearRecord]) -> None:
    world = registered.world
    foreign = world.foreign.users["principal"]
    with pytest.raises(PermissionRefused):
        services.start_batch(
            foreign,
            step=SigningStep.PRINCIPAL,
            certificate=registered.personal("b_ht"),
            password=PASSWORD,
            pin=PIN,
            school=world.own.school,
        )
    assert not SigningBatch.objects.exists()


def test_someone_elses_certificate_is_refused(
    registered: Registered, compiled: list[YearRecord]
) -> None:
    world = registered.world
    with pytest.raises(PermissionRefused, match="chứng thư số này"):
        services.start_batch(
            world.own.users["homeroom_teacher"],
            step=SigningStep.TEACHER,
            certificate=registered.personal("a_ht"),
            password=PASSWORD,
            pin=PIN,
            school_class=world.own.classes[0],
        )


def test_reauthentication_and_pin_are_checked_before_anything(
    registered: Registered, compiled: list[YearRecord]
) -> None:
    world = registered.world
    teacher = world.own.users["homeroom_teacher"]
    arguments: dict[str, Any] = {
        "step": SigningStep.TEACHER,
        "certificate": registered.personal("a_gvcn"),
        "school_class": world.own.classes[0],
    }
    with pytest.raises(PermissionRefused, match="Mật khẩu xác nhận không đúng"):
        services.start_batch(teacher, password="sai", pin=PIN, **arguments)
    with pytest.raises(DomainError, match="Mã PIN không đúng"):
        services.start_batch(teacher, password=PASSWORD, pin="000000", **arguments)
    assert not SigningBatch.objects.exists()


def test_retired_certificate_stops_a_queued_batch(
    registered: Registered, compiled: list[YearRecord]
) -> None:
    world = registered.world
    teacher = world.own.users["homeroom_teacher"]
    certificate = registered.personal("a_gvcn")
    batch = services.start_batch(
        teacher,
        step=SigningStep.TEACHER,
        certificate=certificate,
        password=PASSWORD,
        pin=PIN,
        school_class=world.own.classes[0],
    )
    retire_certificate(teacher, certificate)
    run_batch(batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.CANCELLED
    assert "ngừng sử dụng" in batch.message
    assert batch.authorisation is None
    assert not RecordSignature.objects.exists()
    assert set(YearRecord.objects.values_list("status", flat=True)) == {"compiled"}


def test_expired_authorisation_waits_and_resumes(
    registered: Registered, compiled: list[YearRecord], settings: Any
) -> None:
    world = registered.world
    teacher = world.own.users["homeroom_teacher"]
    batch = services.start_batch(
        teacher,
        step=SigningStep.TEACHER,
        certificate=registered.personal("a_gvcn"),
        password=PASSWORD,
        pin=PIN,
        school_class=world.own.classes[0],
    )
    SigningBatch.objects.filter(pk=batch.pk).update(authorisation=b"garbage")
    run_batch(batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.WAITING
    assert "nhập lại mã PIN" in batch.message
    assert not RecordSignature.objects.exists()

    resumed = services.resume_batch(teacher, batch, password=PASSWORD, pin=PIN)
    assert resumed.status == BatchStatus.QUEUED
    run_batch(batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.done_count) == (BatchStatus.DONE, 3)


def test_tsa_down_leaves_nothing_half_signed(
    registered: Registered, compiled: list[YearRecord], settings: Any
) -> None:
    world = registered.world
    settings.TSA_URL = "http://127.0.0.1:9/tsa"  # nothing listens on the discard port
    batch = services.start_batch(
        world.own.users["homeroom_teacher"],
        step=SigningStep.TEACHER,
        certificate=registered.personal("a_gvcn"),
        password=PASSWORD,
        pin=PIN,
        school_class=world.own.classes[0],
    )
    run_batch(batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.WAITING
    assert "dấu thời gian" in batch.message
    assert batch.authorisation is not None  # kept: resuming needs no new PIN before it expires
    assert not RecordSignature.objects.exists()
    assert set(batch.items.values_list("state", flat=True)) == {ItemState.PENDING}


def test_a_second_run_signs_nothing_twice(
    registered: Registered, compiled: list[YearRecord]
) -> None:
    batch = _sign(registered, SigningStep.TEACHER, "homeroom_teacher")
    SigningBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.QUEUED)
    run_batch(batch.pk)
    assert RecordSignature.objects.count() == 3
    batch.refresh_from_db()
    assert batch.done_count == 3


def test_one_broken_record_does_not_stop_the_batch(
    registered: Registered, compiled: list[YearRecord]
) -> None:
    world = registered.world
    batch = services.start_batch(
        world.own.users["homeroom_teacher"],
        step=SigningStep.TEACHER,
        certificate=registered.personal("a_gvcn"),
        password=PASSWORD,
        pin=PIN,
        school_class=world.own.classes[0],
    )
    # Another process moved one record on meanwhile (e.g. a recompilation superseded it).
    moved = compiled[1]
    YearRecord.objects.filter(pk=moved.pk).update(status=YearRecordStatus.MISSING_IDENTIFIER)
    run_batch(batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.done_count, batch.failed_count) == (BatchStatus.DONE, 2, 1)
    failed = batch.items.get(state=ItemState.FAILED)
    assert failed.record_id == moved.pk and "thay đổi trạng thái" in failed.error


def test_signed_pdf_and_signature_rows_are_kept(
    registered: Registered, compiled: list[YearRecord]
) -> None:
    _sign(registered, SigningStep.TEACHER, "homeroom_teacher")
    signature = RecordSignature.objects.first()
    assert signature is not None
    assert default_storage.exists(signature.pdf_file)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE signing_recordsignature SET pdf_sha256 = %s WHERE id = %s",
            ["0" * 64, signature.pk],
        )
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM signing_recordsignature WHERE id = %s", [signature.pk])
    assert RecordSignature.objects.filter(pk=signature.pk, pdf_sha256=signature.pdf_sha256).exists()


def test_tampered_stored_pdf_is_refused(registered: Registered, compiled: list[YearRecord]) -> None:
    _sign(registered, SigningStep.TEACHER, "homeroom_teacher")
    signature = RecordSignature.objects.first()
    assert signature is not None
    path = default_storage.path(signature.pdf_file)
    with open(path, "ab") as handle:
        handle.write(b"%tampered\n")
    batch = _sign(registered, SigningStep.PRINCIPAL, "principal")
    assert batch.failed_count == 1 and batch.done_count == 2
    assert "không khớp mã băm" in batch.items.get(state=ItemState.FAILED).error


def test_a_batch_whose_worker_died_is_requeued_and_finished(
    registered: Registered, compiled: list[YearRecord], django_capture_on_commit_callbacks: Any
) -> None:
    import datetime as dt

    from django.utils import timezone

    from hocba.signing.batch import Superseded, _beat

    world = registered.world
    batch = services.start_batch(
        world.own.users["homeroom_teacher"],
        step=SigningStep.TEACHER,
        certificate=registered.personal("a_gvcn"),
        password=PASSWORD,
        pin=PIN,
        school_class=world.own.classes[0],
    )
    # A worker claimed it (attempt 1) and was SIGKILLed: RUNNING, heartbeat stopped.
    long_ago = timezone.now() - dt.timedelta(hours=1)
    SigningBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.RUNNING, attempt=1, heartbeat_at=long_ago
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        requeued = services.requeue_stale_batches()
    assert requeued == [batch.pk] and len(callbacks) == 1
    run_batch(batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.done_count, batch.attempt) == (BatchStatus.DONE, 3, 2)
    assert RecordSignature.objects.count() == 3
    with pytest.raises(Superseded):  # the old run, had it survived, writes nothing more
        _beat(batch, 1)
