# ruff: noqa: F811, F401 — pytest fixtures imported from reportfixtures
"""File validation reports (issue 7 §2) on real files: issued, tampered, truncated, forged,
signed by an untrusted or an expired certificate, superseded and revoked records."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.files.storage import default_storage
from pyhanko.pdf_utils.reader import PdfFileReader

from hocba.ledger import issuing
from hocba.ledger.models import IssuedRecord
from hocba.ledger.tests.test_corrections import REASON, _fix_birthplace, _reissue
from hocba.records import corrections
from hocba.records.models import YearRecord
from hocba.records.tests.conftest import compile_4a
from hocba.signing.certcheck import TrustStore
from hocba.signing.models import RecordSignature, SigningStep
from hocba.signing.tests import testpki
from hocba.signing.tests.conftest import Registered
from hocba.verification import report_pdf
from hocba.verification.models import StoredReport
from hocba.verification.online import (
    DatabaseRecords,
    deployment_trust,
    full_validation,
    verify_pdf_online,
)
from hocba.verification.report import (
    INDETERMINATE,
    INVALID,
    PASSED,
    TOTAL_FAILED,
    TOTAL_PASSED,
    VALID,
    TrustBundle,
    ValidationReport,
    render_text,
    verify_pdf,
)
from hocba.verification.tests.reportfixtures import (
    fresh_pdf,
    issued_pdf,
    lta_issued,
    pki_signer,
    sign_field,
    world_signer,
)

pytestmark = pytest.mark.django_db

ROLES = ["teacher", "principal", "seal", "document_timestamp"]


def test_a_genuine_issued_file_is_fully_valid(lta_issued: list[YearRecord]) -> None:
    data = issued_pdf(lta_issued[0])
    report = full_validation(data)
    assert (report.indication, report.sub_indication) == (TOTAL_PASSED, None), report.to_json()
    assert (report.verdict, report.reasons, report.messages) == (VALID, [], [])
    assert [s.role for s in report.signatures] == ROLES
    assert [s.signer_name for s in report.signatures[:3]] == [
        "Nguyễn Văn A",
        "Nguyễn Văn A",
        "Trường Tiểu học A",
    ]
    for signature in report.signatures:
        assert signature.intact and signature.valid and signature.trusted
        assert signature.timestamp_time and "DEMO Issuing CA" in signature.issuer
    assert report.order == {
        "found": ["teacher", "principal", "seal"],
        "missing": [],
        "missing_labels": [],
        "in_order": True,
        "unexpected_fields": [],
        "document_timestamp_after_seal": True,
    }
    assert report.modifications["allowed"] and report.modifications["level"] == "FORM_FILLING"
    record = lta_issued[0]
    assert report.data["sha256"] == record.content_hash
    assert report.data["short_code"] == record.short_code
    issuance = IssuedRecord.objects.select_related("leaf").get(record=record)
    assert report.log["check"] == PASSED and report.log["index"] == issuance.leaf.index
    assert report.status["state"] == "valid"
    assert "hợp lệ" in report.headline
    # The JSON form round-trips; the text and the PDF report are Vietnamese.
    assert ValidationReport.from_json(report.to_json()) == report
    assert json.loads(report.to_json())["schema"] == "hocba.verification-report/1"
    assert "Giáo viên chủ nhiệm" in render_text(report)
    pdf = report_pdf.render_report(report)
    assert pdf.startswith(b"%PDF-") and len(PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Kids"])


def test_the_fast_path_answers_from_the_report_stored_at_issuing(
    lta_issued: list[YearRecord],
) -> None:
    data = issued_pdf(lta_issued[1])
    issuance = IssuedRecord.objects.get(record=lta_issued[1])
    stored = StoredReport.objects.get(issuance=issuance)  # made by the issuing step
    assert stored.pdf_sha256 == issuance.pdf_sha256
    report = verify_pdf_online(data)
    assert report.mode == "stored" and report.verdict == VALID
    assert report.signatures == ValidationReport.from_json(stored.report).signatures
    # A file one byte longer is not that record byte for byte: full validation.
    other = verify_pdf_online(data + b"\n")
    assert other.mode == "online"


def test_issuing_queues_the_stored_reports(
    sealed: list[YearRecord], tsa_url: str, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    from hocba.signing import longterm, registry
    from hocba.signing.tasks import issue_augmented
    from hocba.signing.tsa import configured_timestamper

    ids = [r.pk for r in sealed]
    longterm.augment_sealed(ids, trust=registry.trust_store(), timestamper=configured_timestamper())
    with django_capture_on_commit_callbacks(execute=True):
        assert issue_augmented(ids) == (3, [])
    queued = DBTaskResult.objects.get(task_path__endswith="verification.tasks.store_reports")
    assert queued.args_kwargs["args"] == [ids]
    assert not StoredReport.objects.exists()  # the worker makes them; then the fast path
    from hocba.verification.tasks import store_reports

    store_reports.call(ids)
    assert StoredReport.objects.count() == 3


def test_without_a_stored_report_the_first_check_stores_it(
    lta_issued: list[YearRecord],
) -> None:
    StoredReport.objects.all().delete()
    data = issued_pdf(lta_issued[2])
    first = verify_pdf_online(data)
    assert first.mode == "stored" and first.verdict == VALID
    assert StoredReport.objects.count() == 1


def _flip_in_first_revision(data: bytes) -> bytes:
    start = data.index(b"stream", 2000) + 40  # inside a content stream of the rendered form
    changed = bytearray(data)
    changed[start] ^= 0x01
    return bytes(changed)


def test_a_changed_byte_fails_every_signature(lta_issued: list[YearRecord]) -> None:
    data = _flip_in_first_revision(issued_pdf(lta_issued[0]))
    report = verify_pdf_online(data)
    assert report.mode == "online"
    assert (report.indication, report.sub_indication) == (TOTAL_FAILED, "HASH_FAILURE")
    assert report.verdict == INVALID and "SIGNATURES_FAILED" in report.reasons
    assert all(not s.intact for s in report.signatures), [s.intact for s in report.signatures]
    assert "thay đổi sau khi ký" in report.signatures[0].explanation
    assert report.log["check"] == "FAILED"  # the file is no longer the issued one


def test_a_removed_signature_is_not_a_complete_record(
    lta_issued: list[YearRecord],
) -> None:
    """The file as it stood after the principal's signature: the seal (and the rest) cut off."""
    stored = RecordSignature.objects.get(record=lta_issued[0], step=SigningStep.PRINCIPAL)
    with default_storage.open(stored.pdf_file, "rb") as handle:
        data = handle.read()
    report = verify_pdf_online(data)
    # What is there is genuine, but without the long-term data added after the seal nothing
    # proves when the CA's certificate was used: ETSI says INDETERMINATE, not failed.
    assert [(s.role, s.intact, s.trusted) for s in report.signatures] == [
        ("teacher", True, True),
        ("principal", True, True),
    ]
    assert report.indication == INDETERMINATE
    assert report.order["missing"] == ["seal"]
    assert report.verdict == INVALID and "INCOMPLETE_RECORD" in report.reasons
    message = next(m for m in report.messages if m.code == "INCOMPLETE_RECORD")
    assert message.text == "Học bạ chưa đủ chữ ký: thiếu Con dấu của nhà trường."
    # ... and it is not the file the log issued.
    assert "LOG_MISMATCH" in report.reasons
    assert "không phải tệp đã phát hành" in report.log["explanation"]


def _with_test_pki(trust: TrustBundle) -> TrustBundle:
    """The deployment's trust plus the checked-in TEST PKI's root, CA and CRL."""
    extra = testpki.trust_store()
    store = TrustStore(
        roots=trust.store.roots + extra.roots,
        intermediates=trust.store.intermediates + extra.intermediates,
        crls=trust.store.crls + extra.crls,
    )
    return TrustBundle(
        store=store, log_key=trust.log_key, checkpoint=trust.checkpoint, records=trust.records
    )


def test_a_signature_by_an_untrusted_ca(
    registered: Registered,
    lta_issued: list[YearRecord],
    tsa_url: str,
) -> None:
    pdf = sign_field(
        fresh_pdf(lta_issued[0]), "gvcn", pki_signer("untrusted"), tsa_url, certify=True
    )
    report = verify_pdf(pdf, trust=_with_test_pki(deployment_trust()))
    teacher = report.signatures[0]
    assert (teacher.indication, teacher.sub_indication) == (
        INDETERMINATE,
        "NO_CERTIFICATE_CHAIN_FOUND",
    )
    assert not teacher.trusted and teacher.intact
    assert "TEST Other Root" in teacher.issuer or teacher.issuer
    assert (report.indication, report.sub_indication) == (
        INDETERMINATE,
        "NO_CERTIFICATE_CHAIN_FOUND",
    )
    assert "không dẫn tới chứng thư gốc" in teacher.explanation
    assert report.order["missing"] == ["principal", "seal"]
    assert report.verdict == INVALID


def test_a_certificate_expired_at_signing_time(
    lta_issued: list[YearRecord],
    tsa_url: str,
) -> None:
    pdf = sign_field(fresh_pdf(lta_issued[0]), "gvcn", pki_signer("expired"), tsa_url, certify=True)
    report = verify_pdf(pdf, trust=_with_test_pki(deployment_trust()))
    teacher = report.signatures[0]
    assert teacher.intact and teacher.valid
    assert teacher.indication == INDETERMINATE
    assert teacher.sub_indication == "EXPIRED", teacher.detail
    assert teacher.timestamp_time and teacher.timestamp_time > "2021-01-01"  # signed after expiry
    assert "hết hạn" in teacher.explanation
    assert report.verdict == INVALID


def test_a_re_signed_forgery_with_other_data_does_not_match_the_log(
    registered: Registered,
    lta_issued: list[YearRecord],
    tsa_url: str,
) -> None:
    """Same record id and version, better marks, signed by trusted certificates in order."""
    record = lta_issued[0]
    document = json.loads(record.canonical_json)
    document["year_end"]["result_label"] = "Hoàn thành Xuất sắc"
    pdf = fresh_pdf(record, {"year_end": document["year_end"]})
    pdf = sign_field(
        pdf, "gvcn", world_signer(registered, "homeroom_teacher"), tsa_url, certify=True
    )
    pdf = sign_field(pdf, "hieu_truong", world_signer(registered, "principal"), tsa_url)
    pdf = sign_field(pdf, "con_dau", world_signer(registered, "seal"), tsa_url)
    report = verify_pdf_online(pdf)
    # Genuine, trusted signatures (INDETERMINATE only for want of the long-term data) ...
    assert all(s.intact and s.valid and s.trusted for s in report.signatures)
    assert report.order["missing"] == []
    assert report.log["check"] == "FAILED"
    assert "dữ liệu học bạ đính kèm khác" in report.log["explanation"]
    assert report.verdict == INVALID and "LOG_MISMATCH" in report.reasons
    assert report.data["record_id"] == str(record.record_id)


def test_a_re_signed_copy_of_the_genuine_data_is_not_the_issued_file(
    registered: Registered,
    lta_issued: list[YearRecord],
    tsa_url: str,
) -> None:
    """The genuine JSON re-signed by other (trusted) people: the data matches, the file not."""
    record = lta_issued[0]
    pdf = fresh_pdf(record)
    pdf = sign_field(pdf, "gvcn", world_signer(registered, "principal"), tsa_url, certify=True)
    pdf = sign_field(pdf, "hieu_truong", world_signer(registered, "principal"), tsa_url)
    pdf = sign_field(pdf, "con_dau", world_signer(registered, "seal"), tsa_url)
    report = verify_pdf_online(pdf)
    assert report.data["sha256"] == record.content_hash
    assert report.log["check"] == "FAILED" and "tệp PDF không phải" in report.log["explanation"]
    assert report.verdict == INVALID


def test_a_superseded_version_says_which_version_replaces_it(
    registered: Registered,
    lta_issued: list[YearRecord],
) -> None:
    old = lta_issued[0]
    data = issued_pdf(old)
    principal = registered.world.own.users["principal"]
    corrections.request_correction(actor=principal, record=old, reason=REASON)
    _fix_birthplace(old)
    compile_4a(registered.world, user="principal")
    _reissue(registered)
    new = YearRecord.objects.get(enrolment=old.enrolment, version=2)
    for report in (verify_pdf_online(data), full_validation(data)):
        assert report.indication == TOTAL_PASSED and report.log["check"] == PASSED
        assert report.status["state"] == "superseded"
        assert report.status["replacement_short_code"] == new.short_code
        assert new.short_code in report.status["explanation"]
        assert report.verdict == INVALID and report.reasons == ["RECORD_SUPERSEDED"]
        assert report.messages[0].text.startswith("Học bạ này đã được thay thế")


def test_a_revoked_record_says_so_with_the_reason(
    registered: Registered,
    lta_issued: list[YearRecord],
) -> None:
    record = lta_issued[1]
    data = issued_pdf(record)
    reason = "Phát hành nhầm cho học sinh khác cùng tên"
    issuing.revoke(actor=registered.world.own.users["principal"], record=record, reason=reason)
    for report in (verify_pdf_online(data), full_validation(data)):
        assert report.status["state"] == "revoked" and report.status["reason"] == reason
        assert report.reasons == ["RECORD_REVOKED"] and report.verdict == INVALID
        assert "đã bị thu hồi" in report.messages[0].text and reason in report.messages[0].text


def test_unknown_record_ids_are_not_issued(lta_issued: list[YearRecord]) -> None:
    records = DatabaseRecords()
    assert records.evidence("not-a-uuid", 1) is None
    assert records.state(str(lta_issued[0].record_id), 99) is None


def _unused(*_args: Any) -> None:  # keeps the imports honest for mypy-less test modules
    return None
