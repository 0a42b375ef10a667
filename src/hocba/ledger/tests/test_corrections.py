"""Corrections, revocations and copies of issued records (issue 6 §5-6), end to end."""

from __future__ import annotations

import json

import pytest
from django.db import DatabaseError, connection, transaction

from hocba.audit.models import AuditEvent
from hocba.common.errors import DomainError, PermissionRefused
from hocba.ledger import copies, issuing, keys, services
from hocba.ledger.audit import run_audit
from hocba.ledger.models import (
    CopyChannel,
    CopyIssued,
    CopyPurpose,
    EventType,
    IssuedRecord,
    LogLeaf,
    Revocation,
    Supersession,
)
from hocba.records import corrections, selectors
from hocba.records.models import Correction, CorrectionStatus, YearRecord, YearRecordStatus
from hocba.records.tests.conftest import compile_4a
from hocba.signing.batch import current_pdf
from hocba.signing.models import SigningStep
from hocba.signing.tests.conftest import Registered
from hocba.signing.tests.test_batch import _sign, _validate

pytestmark = pytest.mark.django_db

REASON = "Sai nơi sinh của học sinh so với giấy khai sinh"


def _principal(registered: Registered):  # type: ignore[no-untyped-def]
    return registered.world.own.users["principal"]


def _fix_birthplace(record: YearRecord) -> None:
    """The data error the correction is for: the pupil's birthplace was misspelt."""
    pupil = record.pupil
    pupil.birthplace = "Bệnh viện Phụ sản Hà Nội"
    pupil.save(update_fields=["birthplace"])


def _reissue(registered: Registered) -> None:
    _sign(registered, SigningStep.TEACHER, "homeroom_teacher")
    _sign(registered, SigningStep.PRINCIPAL, "principal", whole_school=True)
    _sign(registered, SigningStep.SEAL, "principal", whole_school=True)
    sealed = YearRecord.objects.filter(status=YearRecordStatus.SEALED)
    assert issuing.issue_sealed([r.pk for r in sealed])[1] == []


def _events() -> list[tuple[str, dict]]:
    return [(leaf.event_type, json.loads(leaf.event)) for leaf in LogLeaf.objects.order_by("index")]


def test_correction_end_to_end(registered: Registered, issued: list[YearRecord]) -> None:
    old = issued[0]
    correction = corrections.request_correction(
        actor=_principal(registered), record=old, reason=REASON
    )
    assert correction.status == CorrectionStatus.OPEN
    _fix_birthplace(old)
    report = compile_4a(registered.world, user="principal")
    # Only the pupil under correction gets a new version; the others' issued data is unchanged.
    assert report.counts == {"compiled": 0, "recompiled": 1, "unchanged": 2, "skipped": 0}
    new = YearRecord.objects.get(enrolment=old.enrolment, version=2)
    old.refresh_from_db()
    # Until the new version is issued, the old one stays valid; the class shows the new one.
    assert (old.status, new.status) == (YearRecordStatus.ISSUED, YearRecordStatus.COMPILED)
    assert new.record_id == old.record_id and new.supersedes_id == old.pk
    assert selectors.current_record(old.enrolment) == new
    assert "Bệnh viện Phụ sản Hà Nội" in new.canonical_json
    # The new version says what it corrects: the form prints it under the QR code.
    assert json.loads(new.canonical_json)["record"]["corrects"] == {
        "version": 1,
        "short_code": old.short_code,
        "reason": REASON,
    }

    _reissue(registered)

    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == (YearRecordStatus.SUPERSEDED, YearRecordStatus.ISSUED)
    correction.refresh_from_db()
    assert (correction.status, correction.replacement) == (CorrectionStatus.DONE, new)
    supersession = Supersession.objects.get(old=old)
    assert (supersession.new, supersession.reason) == (new, REASON)
    # The log has both events: the new version issued, then the old one superseded by it.
    kinds = [kind for kind, _ in _events()]
    assert kinds == ["issued"] * 3 + ["issued", "superseded"]
    _, superseded = _events()[-1]
    assert superseded["record_id"] == str(old.record_id) and superseded["version"] == 1
    assert superseded["superseded_by"]["version"] == 2
    assert superseded["superseded_by"]["content_hash"] == new.content_hash
    # Both versions stay verifiable: their PDFs validate and their proofs check offline.
    for record in (old, new):
        for name, status in _validate(current_pdf(record)):
            assert status.bottom_line, name
        bundle = issuing.latest_bundle(record)
        assert bundle is not None
        leaf = IssuedRecord.objects.get(record=record).leaf
        assert services.verify_bundle(bundle.text, keys.verifier_key(), leaf.leaf_hash)
    assert supersession.leaf.proof_bundles.exists()
    assert run_audit().ok, run_audit().problems


def test_only_the_principal_requests_a_correction(
    registered: Registered, issued: list[YearRecord]
) -> None:
    teacher = registered.world.own.users["homeroom_teacher"]
    events = AuditEvent.objects.count()
    with pytest.raises(PermissionRefused):
        corrections.request_correction(actor=teacher, record=issued[0], reason=REASON)
    foreign = registered.world.foreign.users["principal"]
    with pytest.raises(PermissionRefused):
        corrections.request_correction(actor=foreign, record=issued[0], reason=REASON)
    assert not Correction.objects.exists()
    assert AuditEvent.objects.count() == events


def test_correction_needs_a_reason_an_issued_record_and_no_open_one(
    registered: Registered, issued: list[YearRecord]
) -> None:
    principal = _principal(registered)
    with pytest.raises(DomainError, match="lý do đính chính"):
        corrections.request_correction(actor=principal, record=issued[0], reason=" sai  ")
    corrections.request_correction(actor=principal, record=issued[0], reason=REASON)
    with pytest.raises(DomainError, match="chưa hoàn tất"):
        corrections.request_correction(actor=principal, record=issued[0], reason=REASON)
    assert Correction.objects.count() == 1


def test_without_a_correction_an_issued_record_is_not_recompiled(
    registered: Registered, issued: list[YearRecord]
) -> None:
    _fix_birthplace(issued[0])
    report = compile_4a(registered.world, user="principal")
    assert report.counts["skipped"] == 1
    assert YearRecord.objects.filter(enrolment=issued[0].enrolment).count() == 1


def test_cancelled_correction_sets_the_draft_aside(
    registered: Registered, issued: list[YearRecord]
) -> None:
    principal = _principal(registered)
    correction = corrections.request_correction(actor=principal, record=issued[0], reason=REASON)
    _fix_birthplace(issued[0])
    compile_4a(registered.world, user="principal")
    draft = YearRecord.objects.get(enrolment=issued[0].enrolment, version=2)
    corrections.cancel_correction(
        actor=principal, correction=correction, reason="Giấy khai sinh đúng, không cần sửa"
    )
    draft.refresh_from_db()
    assert draft.status == YearRecordStatus.SUPERSEDED
    assert selectors.current_record(issued[0].enrolment) == issued[0]
    assert Correction.objects.get().status == CorrectionStatus.CANCELLED
    assert not LogLeaf.objects.filter(event_type=EventType.SUPERSEDED).exists()


def test_a_correction_being_signed_is_not_cancelled(
    registered: Registered, issued: list[YearRecord]
) -> None:
    principal = _principal(registered)
    correction = corrections.request_correction(actor=principal, record=issued[0], reason=REASON)
    _fix_birthplace(issued[0])
    compile_4a(registered.world, user="principal")
    _sign(registered, SigningStep.TEACHER, "homeroom_teacher")
    with pytest.raises(DomainError, match="đã được ký"):
        corrections.cancel_correction(
            actor=principal, correction=correction, reason="Không cần sửa nữa, huỷ bỏ"
        )
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.OPEN
    draft = YearRecord.objects.get(enrolment=issued[0].enrolment, version=2)
    assert draft.status == YearRecordStatus.TEACHER_SIGNED


def test_revocation(registered: Registered, issued: list[YearRecord]) -> None:
    record = issued[1]
    reason = "Phát hành nhầm cho học sinh khác cùng tên"
    revocation = issuing.revoke(actor=_principal(registered), record=record, reason=reason)
    record.refresh_from_db()
    assert record.status == YearRecordStatus.REVOKED
    assert revocation.reason == reason
    kind, event = _events()[-1]
    assert kind == "revoked" and event["record_id"] == str(record.record_id)
    assert "reason" not in event  # the public log holds the reason's hash, not its text
    assert revocation.leaf.proof_bundles.exists()
    assert run_audit().ok
    with pytest.raises(DomainError, match="đang có hiệu lực"):
        issuing.revoke(actor=_principal(registered), record=record, reason=reason)
    # Revoked is final for the database too.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE records_yearrecord SET status = 'issued' WHERE id = %s", [record.pk])


def test_revocation_refused_for_a_teacher_and_changes_nothing(
    registered: Registered, issued: list[YearRecord]
) -> None:
    size = services.log_size()
    with pytest.raises(PermissionRefused):
        issuing.revoke(
            actor=registered.world.own.users["homeroom_teacher"],
            record=issued[0],
            reason="Phát hành nhầm cho học sinh khác",
        )
    issued[0].refresh_from_db()
    assert issued[0].status == YearRecordStatus.ISSUED
    assert (services.log_size(), Revocation.objects.count()) == (size, 0)


def test_revocation_waits_for_an_open_correction(
    registered: Registered, issued: list[YearRecord]
) -> None:
    principal = _principal(registered)
    corrections.request_correction(actor=principal, record=issued[0], reason=REASON)
    with pytest.raises(DomainError, match="yêu cầu đính chính"):
        issuing.revoke(actor=principal, record=issued[0], reason="Phát hành nhầm học sinh")


def test_copies_are_logged(registered: Registered, issued: list[YearRecord]) -> None:
    teacher = registered.world.own.users["homeroom_teacher"]
    made = copies.record_copies(
        actor=teacher, records=issued, channel=CopyChannel.CLASS_ZIP, purpose=CopyPurpose.ARCHIVE
    )
    assert len(made) == 3
    for copy in made:
        event = json.loads(copy.leaf.event)
        assert event["type"] == "copy_issued"
        assert event["copy_id"] == str(copy.copy_id)
        assert event["pdf_sha256"] == IssuedRecord.objects.get(record=copy.record).pdf_sha256
        assert (event["channel"], event["purpose"]) == ("class_zip", "archive")
        assert copy.issued_by == teacher
    assert run_audit().ok


def test_drafts_are_not_copies(registered: Registered, compiled: list[YearRecord]) -> None:
    made = copies.record_copies(actor=None, records=compiled, channel=CopyChannel.DOWNLOAD)
    assert made == [] and not CopyIssued.objects.exists() and services.log_size() == 0


def test_a_draft_recompiled_during_a_correction(
    registered: Registered, issued: list[YearRecord]
) -> None:
    """Fixed twice before signing: the second draft replaces the first, and it is the issued
    original that the signed correction supersedes."""
    old = issued[0]
    corrections.request_correction(actor=_principal(registered), record=old, reason=REASON)
    _fix_birthplace(old)
    compile_4a(registered.world, user="principal")
    pupil = old.pupil
    pupil.birthplace = "Bệnh viện Bạch Mai, Hà Nội"
    pupil.save(update_fields=["birthplace"])
    compile_4a(registered.world, user="principal")
    versions = dict(
        YearRecord.objects.filter(enrolment=old.enrolment).values_list("version", "status")
    )
    assert versions == {
        1: YearRecordStatus.ISSUED,
        2: YearRecordStatus.SUPERSEDED,
        3: YearRecordStatus.COMPILED,
    }
    _reissue(registered)
    third = YearRecord.objects.get(enrolment=old.enrolment, version=3)
    assert third.status == YearRecordStatus.ISSUED
    assert Supersession.objects.get(old=old).new == third
    assert json.loads(third.canonical_json)["record"]["corrects"]["short_code"] == old.short_code
    assert run_audit().ok


def test_a_new_correction_after_a_cancelled_one(
    registered: Registered, issued: list[YearRecord]
) -> None:
    """The cancelled draft keeps version 2; the next correction's draft is version 3 and the
    issued original is superseded by it."""
    principal = _principal(registered)
    old = issued[0]
    first = corrections.request_correction(actor=principal, record=old, reason=REASON)
    _fix_birthplace(old)
    compile_4a(registered.world, user="principal")
    corrections.cancel_correction(
        actor=principal, correction=first, reason="Nhầm học sinh, không cần sửa"
    )
    corrections.request_correction(actor=principal, record=old, reason=REASON)
    report = compile_4a(registered.world, user="principal")
    assert report.counts["recompiled"] == 1 and report.counts["skipped"] == 0
    versions = dict(
        YearRecord.objects.filter(enrolment=old.enrolment).values_list("version", "status")
    )
    assert versions == {
        1: YearRecordStatus.ISSUED,
        2: YearRecordStatus.SUPERSEDED,
        3: YearRecordStatus.COMPILED,
    }
    _reissue(registered)
    third = YearRecord.objects.get(enrolment=old.enrolment, version=3)
    assert third.status == YearRecordStatus.ISSUED
    assert Supersession.objects.get(old=old).new == third
    assert run_audit().ok
