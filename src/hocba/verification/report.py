"""Validation report of a year-record PDF (issue 7 §2-3): signatures, changes, data, log, status.

:func:`verify_pdf` is the whole check of one file against a :class:`TrustBundle` (trusted roots
and CRLs, the log's verifier key, its latest checkpoint and status list). It reads no database
and fetches nothing over the network: the online path (:mod:`hocba.verification.online`) only
plugs a :class:`RecordSource` into it that answers from the database.

Per signature, the verdict is pyHanko's ETSI EN 319 102-1 validation (``ades_lta_validation``):
revocation is judged at the signature's proof of existence, with the CRLs of the trust bundle,
the file's DSS and what the CMS carries. PDF difference analysis runs once, from the first
signature to the end of the file (any later signature's changes are a subset of those).

The report keeps the ETSI indication (signatures only) apart from our own verdict, which also
needs the record to be complete (teacher, principal, seal, in that order), unchanged after
signing, its embedded data to match the log, and its current status to be valid.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from django.utils.translation import gettext as _
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESIndeterminate, AdESStatus
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffResult, ModificationLevel
from pyhanko.sign.validation import async_validate_pdf_timestamp
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.policy_decl import (
    LocalKnowledge,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)
from pyhanko_certvalidator.registry import SimpleTrustManager
from pyhanko_certvalidator.revinfo.archival import CRLContainer

from hocba.common.errors import DomainError
from hocba.ledger import merkle
from hocba.ledger.note import Checkpoint, NoteError, TlogProof, Verifier, open_checkpoint
from hocba.ledger.statuslist import StatusList, StatusListError
from hocba.signing import asn1names  # noqa: F401  (faster X.509 name comparison)
from hocba.signing.certcheck import TrustStore

logger = logging.getLogger(__name__)

SCHEMA = "hocba.verification-report/1"
ATTACHMENT_NAME = "hocba-year-record.json"
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_OBJECTS = 100_000

# Signature fields (documents.render.SIGNATURE_FIELDS) and the roles they carry, in order.
ROLE_OF_FIELD = {"gvcn": "teacher", "hieu_truong": "principal", "con_dau": "seal"}
ROLE_ORDER = ("teacher", "principal", "seal")
DOCUMENT_TIMESTAMP = "document_timestamp"

# ETSI EN 319 102-1 main indications.
TOTAL_PASSED, TOTAL_FAILED, INDETERMINATE = "TOTAL_PASSED", "TOTAL_FAILED", "INDETERMINATE"
# Our verdict on the file as a year record.
VALID, INVALID = "VALID", "INVALID"
# Log and status checks.
PASSED, FAILED = "PASSED", "FAILED"

_EOF = re.compile(rb"%%EOF(\r\n|\r|\n)?")


class VerificationError(DomainError):
    """A file refused before or while reading it (too large, not a PDF, encrypted, broken);
    ``message`` is Vietnamese."""


# --- trust ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogEvidence:
    """One ``issued`` log event and the proof of its inclusion, as a verifier receives them."""

    event: bytes  # the leaf's canonical JSON
    proof: str  # c2sp.org/tlog-proof@v1 text (the checkpoint it ends in is signed)


@dataclass(frozen=True)
class RecordState:
    """The current status of a record version as the deployment's database knows it."""

    state: str  # valid / superseded / revoked / not_issued
    replacement_short_code: str = ""
    replacement_version: int | None = None
    reason: str = ""
    at: str = ""


class RecordSource(Protocol):
    """Online answers about a record version (the deployment's database)."""

    def evidence(self, record_id: str, version: int) -> LogEvidence | None: ...

    def state(self, record_id: str, version: int) -> RecordState | None: ...


@dataclass(frozen=True)
class TrustBundle:
    """What a verifier trusts. Offline, exported by ``hocba verification-bundle``."""

    store: TrustStore
    log_key: Verifier | None = None
    checkpoint: Checkpoint | None = None
    status_list: StatusList | None = None
    records: RecordSource | None = None
    created_at: str = ""


# --- the report -----------------------------------------------------------------------------


@dataclass
class Message:
    code: str
    severity: str  # "error", "warning" or "info"
    text: str  # Vietnamese


@dataclass
class SignatureReport:
    field: str
    role: str  # teacher / principal / seal / document_timestamp / unknown
    role_label: str
    revision: int
    signer_name: str = ""
    subject: str = ""
    issuer: str = ""
    serial: str = ""
    fingerprint_sha256: str = ""
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    indication: str = INDETERMINATE
    sub_indication: str | None = None
    signing_time: str | None = None  # claimed by the signer (not proof)
    timestamp_time: str | None = None  # the RFC 3161 token's time (the signature's POE)
    best_signature_time: str | None = None
    coverage: str = ""
    explanation: str = ""
    detail: str = ""  # the validator's own (English) message, for experts


@dataclass
class ValidationReport:
    schema: str
    checked_at: str
    file_sha256: str
    file_size: int
    indication: str
    sub_indication: str | None
    verdict: str
    reasons: list[str]
    headline: str
    signatures: list[SignatureReport] = field(default_factory=list)
    order: dict[str, Any] = field(default_factory=dict)
    modifications: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    log: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    mode: str = "offline"  # offline / online / stored (the fast path)

    @property
    def fully_valid(self) -> bool:
        return self.verdict == VALID

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        values = dict(data)
        values["signatures"] = [SignatureReport(**s) for s in data.get("signatures", [])]
        values["messages"] = [Message(**m) for m in data.get("messages", [])]
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> ValidationReport:
        return cls.from_dict(json.loads(text))


# --- Vietnamese texts -----------------------------------------------------------------------


def role_label(role: str) -> str:
    return {
        "teacher": _("Giáo viên chủ nhiệm"),
        "principal": _("Hiệu trưởng"),
        "seal": _("Con dấu của nhà trường"),
        DOCUMENT_TIMESTAMP: _("Dấu thời gian của tài liệu"),
    }.get(role, _("Chữ ký không rõ vai trò"))


def explain(indication: str, sub: str | None) -> str:
    """The Vietnamese explanation of an ETSI (sub-)indication."""
    texts = {
        "OK": _(
            "Chữ ký hợp lệ: nguyên vẹn, chứng thư số dẫn tới chứng thư gốc tin cậy và còn hiệu "
            "lực khi ký."
        ),
        "FORMAT_FAILURE": _("Chữ ký không đúng định dạng, không đọc được để kiểm tra."),
        "HASH_FAILURE": _("Nội dung được ký đã bị thay đổi sau khi ký: mã băm không khớp."),
        "SIG_CRYPTO_FAILURE": _("Giá trị chữ ký không đúng với khoá công khai của chứng thư số."),
        "REVOKED": _("Chứng thư số của người ký đã bị thu hồi trước thời điểm ký."),
        "NOT_YET_VALID": _("Chứng thư số chưa có hiệu lực vào thời điểm ký."),
        "SIG_CONSTRAINTS_FAILURE": _("Chữ ký không đáp ứng các ràng buộc của chính sách kiểm tra."),
        "CHAIN_CONSTRAINTS_FAILURE": _(
            "Chuỗi chứng thư số không đáp ứng các ràng buộc (mục đích sử dụng khoá, chính sách)."
        ),
        "CERTIFICATE_CHAIN_GENERAL_FAILURE": _("Không kiểm tra được chuỗi chứng thư số."),
        "CRYPTO_CONSTRAINTS_FAILURE": _(
            "Thuật toán mật mã dùng trong chữ ký không còn được chấp nhận."
        ),
        "EXPIRED": _("Chứng thư số đã hết hạn trước thời điểm ký."),
        "POLICY_PROCESSING_ERROR": _("Không xử lý được chính sách chữ ký."),
        "SIGNATURE_POLICY_NOT_AVAILABLE": _("Không có chính sách chữ ký được yêu cầu."),
        "TIMESTAMP_ORDER_FAILURE": _("Thứ tự các dấu thời gian không hợp lệ."),
        "NO_SIGNING_CERTIFICATE_FOUND": _("Không tìm thấy chứng thư số của người ký trong chữ ký."),
        "NO_CERTIFICATE_CHAIN_FOUND": _(
            "Chứng thư số không dẫn tới chứng thư gốc nào được tin cậy (tổ chức cấp chứng thư "
            "không được công nhận)."
        ),
        "REVOKED_NO_POE": _(
            "Chứng thư số đã bị thu hồi và không có bằng chứng chữ ký được tạo trước khi thu hồi."
        ),
        "REVOKED_CA_NO_POE": _(
            "Chứng thư của tổ chức cấp đã bị thu hồi và không có bằng chứng chữ ký được tạo trước "
            "đó."
        ),
        "OUT_OF_BOUNDS_NO_POE": _(
            "Chứng thư số đã hết hạn hoặc chưa có hiệu lực, và không có bằng chứng chữ ký được "
            "tạo trong thời hạn của chứng thư."
        ),
        "REVOCATION_OUT_OF_BOUNDS_NO_POE": _(
            "Thông tin thu hồi chứng thư nằm ngoài thời hạn dùng được và không có bằng chứng thời "
            "điểm."
        ),
        "OUT_OF_BOUNDS_NOT_REVOKED": _(
            "Chứng thư số đã hết hạn nhưng không bị thu hồi; không chứng minh được chữ ký có "
            "trước khi hết hạn."
        ),
        "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": _(
            "Thuật toán mật mã đã hết an toàn và không có bằng chứng chữ ký được tạo trước đó."
        ),
        "NO_POE": _("Không có bằng chứng về thời điểm tồn tại của chữ ký (dấu thời gian)."),
        "TRY_LATER": _(
            "Chưa có thông tin thu hồi chứng thư cho thời điểm kiểm tra: hãy kiểm tra lại sau khi "
            "có danh sách thu hồi mới."
        ),
        "SIGNED_DATA_NOT_FOUND": _("Không tìm thấy dữ liệu được ký."),
        "GENERIC": _("Không xác định được tính hợp lệ của chữ ký."),
    }
    if sub in texts:
        return texts[sub]
    if indication == TOTAL_PASSED:
        return texts["OK"]
    return texts["GENERIC"]


def reason_text(code: str) -> str:
    return {
        "SIGNATURES_FAILED": _("Ít nhất một chữ ký không hợp lệ."),
        "SIGNATURES_INDETERMINATE": _("Chưa xác định được tính hợp lệ của ít nhất một chữ ký."),
        "INCOMPLETE_RECORD": _("Học bạ chưa đủ chữ ký: thiếu %(missing)s."),
        "WRONG_ORDER": _(
            "Các chữ ký không theo đúng thứ tự giáo viên chủ nhiệm, hiệu trưởng, con dấu."
        ),
        "UNEXPECTED_SIGNATURE": _("Tệp có chữ ký ở ô không thuộc mẫu học bạ."),
        "MODIFIED_AFTER_SIGNING": _("Tệp đã bị sửa đổi sau khi ký theo cách không được phép."),
        "NO_EMBEDDED_DATA": _(
            "Tệp không chứa dữ liệu học bạ (JSON) đính kèm hoặc dữ liệu đó không đọc được."
        ),
        "LOG_MISMATCH": _("Dữ liệu hoặc tệp không khớp với học bạ đã ghi trong sổ cái."),
        "LOG_UNCHECKED": _("Chưa đối chiếu được với sổ cái."),
        "RECORD_SUPERSEDED": _("Học bạ này đã được thay thế bằng một phiên bản đính chính."),
        "RECORD_REVOKED": _("Học bạ này đã bị thu hồi."),
        "RECORD_NOT_ISSUED": _("Học bạ này chưa được phát hành."),
        "STATUS_UNKNOWN": _("Chưa xác định được trạng thái hiện tại của học bạ."),
    }.get(code, code)


# --- entry points ---------------------------------------------------------------------------


def verify_pdf(
    data: bytes,
    *,
    trust: TrustBundle,
    proof: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_objects: int = DEFAULT_MAX_OBJECTS,
    now: dt.datetime | None = None,
) -> ValidationReport:
    """The full validation report of ``data``; :class:`VerificationError` if refused.

    ``proof`` is a ``.tlog-proof`` (with the ``issued`` event as its ``extra``) for offline
    log checks; online, ``trust.records`` supplies the evidence and the status instead.
    """
    refuse_early(data, max_bytes=max_bytes, max_objects=max_objects)
    reader = _open(data)
    now = now or dt.datetime.now(dt.UTC)
    try:
        signatures, first_diff, embedded = _run(_signatures(reader, trust.store))
    except VerificationError:
        raise
    except Exception as error:  # hostile structure deep in the PDF: refuse, never crash
        logger.info("PDF refused while validating signatures: %r", error)
        raise VerificationError(
            _("Không kiểm tra được các chữ ký của tệp: cấu trúc PDF bị hỏng.")
        ) from error
    report = ValidationReport(
        schema=SCHEMA,
        checked_at=_iso(now),
        file_sha256=hashlib.sha256(data).hexdigest(),
        file_size=len(data),
        indication=INDETERMINATE,
        sub_indication=None,
        verdict=INDETERMINATE,
        reasons=[],
        headline="",
        signatures=signatures,
        mode="online" if trust.records is not None else "offline",
    )
    report.indication, report.sub_indication = _aggregate(signatures)
    report.order = _order(signatures)
    report.modifications = _modifications(reader, embedded, first_diff)
    report.data, document = _embedded_data(reader)
    report.log, evidence_index = _log_check(data, document, report.data, trust, proof)
    report.status = _status(document, trust, evidence_index)
    finish(report)
    return report


def refuse_early(data: bytes, *, max_bytes: int, max_objects: int | None) -> None:
    """Refuse what must not reach the parser: too large, not a PDF, too many objects."""
    if len(data) > max_bytes:
        raise VerificationError(
            _("Tệp quá lớn (%(size)s MB): chỉ kiểm tra tệp tới %(limit)s MB.")
            % {"size": _mb(len(data)), "limit": _mb(max_bytes)}
        )
    if b"%PDF-" not in data[:1024]:
        raise VerificationError(_("Tệp không phải là tệp PDF."))
    if (
        max_objects is not None and data.count(b"endobj") > max_objects
    ):  # C-speed count of the plain objects
        raise VerificationError(
            _("Tệp PDF có quá nhiều đối tượng (hơn %(limit)s): không kiểm tra.")
            % {"limit": max_objects}
        )


def _open(data: bytes) -> PdfFileReader:
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        encrypted = reader.encrypted
    except Exception as error:
        logger.info("PDF refused while parsing: %r", error)
        raise VerificationError(_("Tệp PDF bị hỏng, không đọc được.")) from error
    if encrypted:
        raise VerificationError(
            _("Tệp PDF đã được mã hoá (đặt mật khẩu): học bạ hợp lệ không bao giờ bị mã hoá.")
        )
    return reader


def _run(coroutine: Any) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


# --- signatures -----------------------------------------------------------------------------


def _validation_spec(store: TrustStore) -> PdfSignatureValidationSpec:
    """ETSI validation trusting only the bundle's roots; CRLs from the bundle and the file,
    nothing fetched. Difference analysis is done once by :func:`_signatures`, not per call."""
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=list(store.roots)),
        revinfo_policy=CertRevTrustPolicy(
            RevocationCheckingPolicy(
                ee_certificate_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
                intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
            )
        ),
    )
    knowledge = LocalKnowledge(
        known_crls=[_crl_container(der) for der in store.crls],
        known_certs=list(store.intermediates),
    )
    return PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=policy,
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
            local_knowledge=knowledge,
        ),
        diff_policy=None,
    )


def _crl_container(der: bytes) -> CRLContainer:
    from asn1crypto import crl as asn1_crl

    return CRLContainer(asn1_crl.CertificateList.load(der))


async def _signatures(
    reader: PdfFileReader, store: TrustStore
) -> tuple[list[SignatureReport], Any, list[EmbeddedPdfSignature]]:
    embedded = list(reader.embedded_signatures)
    first_diff: Any = None
    regular = [s for s in embedded if s.sig_object_type == "/Sig"]
    if regular:
        # Everything appended after the first signature, judged once (later signatures'
        # changes are a subset of these).
        try:
            regular[0].compute_integrity_info(DEFAULT_DIFF_POLICY)
            first_diff = regular[0].diff_result
        except Exception as error:
            logger.info("difference analysis failed: %r", error)
            first_diff = error
    spec = _validation_spec(store)
    reports = []
    for signature in embedded:
        if signature.sig_object_type == "/DocTimeStamp":
            reports.append(await _document_timestamp(signature, store))
        else:
            reports.append(await _signature(signature, spec))
    return reports, first_diff, embedded


def _base_report(signature: EmbeddedPdfSignature, role: str) -> SignatureReport:
    report = SignatureReport(
        field=str(signature.field_name or ""),
        role=role,
        role_label=role_label(role),
        revision=int(signature.signed_revision),
    )
    try:
        certificate = signature.signer_cert
    except Exception:
        certificate = None
    if certificate is not None:
        report.signer_name = _common_name(certificate.subject)
        report.subject = _human(certificate.subject)
        report.issuer = _human(certificate.issuer)
        report.serial = format(certificate.serial_number, "x")
        report.fingerprint_sha256 = hashlib.sha256(certificate.dump()).hexdigest()
    return report


async def _signature(
    signature: EmbeddedPdfSignature, spec: PdfSignatureValidationSpec
) -> SignatureReport:
    role = ROLE_OF_FIELD.get(str(signature.field_name), "unknown")
    report = _base_report(signature, role)
    claimed = signature.self_reported_timestamp
    report.signing_time = _iso(claimed) if claimed else None
    poe = _signature_timestamp_time(signature.signer_info)
    report.timestamp_time = _iso(poe) if poe else None
    try:
        result = await ades_lta_validation(signature, spec)
    except Exception as error:
        logger.info("signature %s could not be validated: %r", report.field, error)
        report.indication, report.sub_indication = TOTAL_FAILED, "FORMAT_FAILURE"
        report.explanation = explain(report.indication, report.sub_indication)
        return report
    status = result.api_status
    if status is not None:
        report.intact, report.valid = bool(status.intact), bool(status.valid)
        report.coverage = status.coverage.name if status.coverage is not None else ""
    indication = result.ades_subindic.status
    report.indication = {
        AdESStatus.PASSED: TOTAL_PASSED,
        AdESStatus.FAILED: TOTAL_FAILED,
        AdESStatus.INDETERMINATE: INDETERMINATE,
    }[indication]
    sub = result.ades_subindic
    report.sub_indication = None if indication == AdESStatus.PASSED else sub.standard_name
    report.trusted = indication == AdESStatus.PASSED or (
        report.sub_indication not in _CHAIN_FAILURES and indication != AdESStatus.FAILED
    )
    report.best_signature_time = _iso(result.best_signature_time)
    report.detail = str(result.failure_msg or "")[:500]
    if indication == AdESStatus.INDETERMINATE:
        _outside_validity(report, signature, poe or dt.datetime.now(dt.UTC))
    report.explanation = explain(report.indication, report.sub_indication)
    return report


def _outside_validity(
    report: SignatureReport, signature: EmbeddedPdfSignature, poe: dt.datetime
) -> None:
    """EN 319 102-1 names a signature made outside its certificate's validity period: when the
    signature's own timestamp (its proof of existence) is after the certificate expired it is
    INDETERMINATE/EXPIRED, before it was valid TOTAL_FAILED/NOT_YET_VALID. pyHanko reports a
    general chain failure for these; its message stays in ``detail``."""
    try:
        certificate = signature.signer_cert
        not_before, not_after = certificate.not_valid_before, certificate.not_valid_after
    except Exception:
        return
    if poe > not_after:
        report.indication, report.sub_indication = INDETERMINATE, "EXPIRED"
    elif poe < not_before:
        report.indication, report.sub_indication = TOTAL_FAILED, "NOT_YET_VALID"


_CHAIN_FAILURES = {
    AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND.name,
    AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE.name,
    AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE.name,
    AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND.name,
}


async def _document_timestamp(
    signature: EmbeddedPdfSignature, store: TrustStore
) -> SignatureReport:
    report = _base_report(signature, DOCUMENT_TIMESTAMP)
    try:
        status = await async_validate_pdf_timestamp(
            signature, store.validation_context(), skip_diff=True
        )
    except Exception as error:
        logger.info("document timestamp could not be validated: %r", error)
        report.indication, report.sub_indication = TOTAL_FAILED, "FORMAT_FAILURE"
        report.explanation = explain(report.indication, report.sub_indication)
        return report
    report.intact, report.valid, report.trusted = status.intact, status.valid, status.trusted
    report.coverage = status.coverage.name if status.coverage is not None else ""
    report.timestamp_time = _iso(status.timestamp)
    report.best_signature_time = report.timestamp_time
    if not status.intact:
        report.indication, report.sub_indication = TOTAL_FAILED, "HASH_FAILURE"
    elif not status.valid:
        report.indication, report.sub_indication = TOTAL_FAILED, "SIG_CRYPTO_FAILURE"
    elif not status.trusted:
        report.indication, report.sub_indication = INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND"
    else:
        report.indication, report.sub_indication = TOTAL_PASSED, None
    report.explanation = explain(report.indication, report.sub_indication)
    return report


def _signature_timestamp_time(signer_info: cms.SignerInfo) -> dt.datetime | None:
    try:
        for token in extract_tst_data_iter(signer_info, signed=False):
            tst_info = token["encap_content_info"]["content"].parsed
            when = tst_info["gen_time"].native
            return when if isinstance(when, dt.datetime) else None
    except Exception:
        return None
    return None


def _aggregate(signatures: Sequence[SignatureReport]) -> tuple[str, str | None]:
    """The file's ETSI indication: the worst of its signatures (failed > indeterminate)."""
    if not signatures:
        return TOTAL_FAILED, "FORMAT_FAILURE"
    for wanted in (TOTAL_FAILED, INDETERMINATE):
        for signature in signatures:
            if signature.indication == wanted:
                return wanted, signature.sub_indication
    return TOTAL_PASSED, None


def _order(signatures: Sequence[SignatureReport]) -> dict[str, Any]:
    roles = [s.role for s in sorted(signatures, key=lambda s: s.revision) if s.role in ROLE_ORDER]
    present = [role for role in ROLE_ORDER if role in roles]
    missing = [role for role in ROLE_ORDER if role not in roles]
    in_order = roles == present  # each role once, in the required order
    unknown = [s.field for s in signatures if s.role == "unknown"]
    timestamps_last = all(
        s.revision > max((r.revision for r in signatures if r.role in ROLE_ORDER), default=-1)
        for s in signatures
        if s.role == DOCUMENT_TIMESTAMP
    )
    return {
        "found": roles,
        "missing": missing,
        "missing_labels": [role_label(role) for role in missing],
        "in_order": in_order,
        "unexpected_fields": unknown,
        "document_timestamp_after_seal": timestamps_last,
    }


def _modifications(
    reader: PdfFileReader, embedded: Sequence[EmbeddedPdfSignature], first_diff: Any
) -> dict[str, Any]:
    """What changed after signing: the difference analysis from the first signature, and
    whether the last signature (or document timestamp) covers the whole file."""
    total = reader.xrefs.total_revisions
    if not embedded:
        return {
            "revisions": total,
            "level": None,
            "allowed": False,
            "last_covers_whole_file": False,
            "after_last_signature": None,
        }
    last = max(embedded, key=lambda s: s.signed_revision)
    try:
        coverage = last.evaluate_signature_coverage().name
    except Exception:
        coverage = "UNCLEAR"
    if isinstance(first_diff, DiffResult):
        level = first_diff.modification_level.name
        allowed = first_diff.modification_level != ModificationLevel.OTHER
    elif first_diff is None and len(embedded) >= 1 and coverage == "ENTIRE_FILE" and total == 1:
        level, allowed = ModificationLevel.NONE.name, True
    else:
        level, allowed = ModificationLevel.OTHER.name, False
    revisions_after = total - 1 - int(last.signed_revision)
    return {
        "revisions": total,
        "level": level,
        "allowed": allowed,
        "last_covers_whole_file": coverage == "ENTIRE_FILE",
        "after_last_signature": revisions_after,
        "explanation": _modification_text(level, allowed, revisions_after),
    }


def _modification_text(level: str | None, allowed: bool, after: int) -> str:
    if not allowed:
        return _(
            "Tệp đã bị thay đổi sau chữ ký đầu tiên theo cách không được phép "
            "(không chỉ là ký tiếp, dấu thời gian hay dữ liệu kiểm tra dài hạn)."
        )
    if after > 0:
        return _(
            "Sau chữ ký cuối cùng có %(n)s lần cập nhật, chỉ gồm dữ liệu kiểm tra dài hạn hoặc "
            "dấu thời gian (được phép)."
        ) % {"n": after}
    return _("Không có thay đổi nào sau chữ ký cuối cùng; các lần cập nhật trước đó đều được phép.")


# --- embedded data --------------------------------------------------------------------------


def _embedded_data(reader: PdfFileReader) -> tuple[dict[str, Any], dict[str, Any] | None]:
    try:
        raw = _attachment(reader, ATTACHMENT_NAME)
    except Exception as error:
        logger.info("attachment unreadable: %r", error)
        raw = None
    if raw is None:
        return {"found": False}, None
    info: dict[str, Any] = {"found": True, "sha256": hashlib.sha256(raw).hexdigest()}
    try:
        document = json.loads(raw)
        record = document["record"]
        info.update(
            {
                "schema": str(document.get("schema", "")),
                "record_id": str(record["id"]),
                "version": int(record["version"]),
                "short_code": str(record.get("short_code", "")),
                "school": str(document.get("school", {}).get("name", "")),
                "school_year": str(document.get("school_year", "")),
                "class_name": str(document.get("class", {}).get("name", "")),
                "pupil_name": str(document.get("pupil", {}).get("full_name", "")),
            }
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return {"found": True, "sha256": info["sha256"], "readable": False}, None
    info["readable"] = True
    document["_sha256"] = info["sha256"]
    return info, document


def embedded_document(data: bytes) -> dict[str, Any] | None:
    """The year-record document embedded in a PDF (``None`` if absent or unreadable)."""
    return _embedded_data(_open(data))[1]


def _attachment(reader: PdfFileReader, name: str) -> bytes | None:
    """The bytes of the embedded file ``name`` (the document's EmbeddedFiles name tree)."""
    names = reader.root.get("/Names")
    if names is None:
        return None
    tree = names.get_object().get("/EmbeddedFiles")
    if tree is None:
        return None
    for key, spec in _name_tree(tree.get_object(), depth=0):
        if key != name:
            continue
        spec = spec.get_object()
        stream = spec["/EF"].get_object()["/F"].get_object()
        if not isinstance(stream, generic.StreamObject):
            return None
        data: bytes = stream.data
        return data
    return None


def _name_tree(node: Any, depth: int) -> list[tuple[str, Any]]:
    if depth > 8:
        return []
    found = []
    pairs = node.get("/Names")
    if pairs is not None:
        pairs = pairs.get_object()
        for index in range(0, min(len(pairs), 2000) - 1, 2):
            key = pairs[index].get_object()
            if isinstance(key, generic.TextStringObject | generic.ByteStringObject):
                text = key if isinstance(key, str) else bytes(key).decode("latin-1")
                found.append((str(text), pairs[index + 1]))
    for kid in (node.get("/Kids") or [])[:64]:
        found.extend(_name_tree(kid.get_object(), depth + 1))
    return found


# --- the log --------------------------------------------------------------------------------


def _revision_prefix_hashes(data: bytes) -> list[str]:
    """SHA-256 of the file and of every earlier revision (each prefix ending at ``%%EOF``)."""
    hashes = [hashlib.sha256(data).hexdigest()]
    for match in _EOF.finditer(data):
        end = match.end()
        if end < len(data):
            hashes.append(hashlib.sha256(data[:end]).hexdigest())
    return hashes


def _log_check(
    data: bytes,
    document: dict[str, Any] | None,
    info: dict[str, Any],
    trust: TrustBundle,
    proof: str | None,
) -> tuple[dict[str, Any], int | None]:
    """Whether an ``issued`` event in the log names this data and this file.

    The event must carry the embedded JSON's record id, version and SHA-256, and its PDF hash
    must be the file's or one of its earlier revisions' (a file with allowed updates appended
    after issuing keeps the issued file as a prefix). Returns the check and the event's log
    index (the status list index) when the proof holds.
    """
    if document is None:
        return _log(INDETERMINATE, _("Không có dữ liệu học bạ để đối chiếu với sổ cái.")), None
    evidence: LogEvidence | None = None
    source = ""
    if trust.records is not None:
        evidence = trust.records.evidence(info["record_id"], info["version"])
        source = "database"
        if evidence is None:
            return (
                _log(
                    FAILED,
                    _("Sổ cái không có học bạ mã %(id)s phiên bản %(v)s được phát hành.")
                    % {"id": info["record_id"], "v": info["version"]},
                    source=source,
                ),
                None,
            )
    elif proof is not None:
        try:
            parsed = TlogProof.parse(proof)
        except NoteError:
            return _log(
                FAILED, _("Tệp bằng chứng sổ cái (.tlog-proof) không đúng định dạng.")
            ), None
        if parsed.extra is None:
            return (
                _log(
                    INDETERMINATE,
                    _(
                        "Tệp bằng chứng sổ cái không kèm sự kiện phát hành nên không đối chiếu "
                        "được."
                    ),
                ),
                None,
            )
        evidence = LogEvidence(event=parsed.extra, proof=proof)
        source = "proof_file"
    else:
        return (
            _log(
                INDETERMINATE,
                _(
                    "Kiểm tra ngoại tuyến không có bằng chứng sổ cái: hãy kèm tệp .tlog-proof "
                    "của học bạ (tuỳ chọn --proof) để đối chiếu."
                ),
            ),
            None,
        )
    if trust.log_key is None:
        return _log(
            INDETERMINATE, _("Gói tin cậy không có khoá công khai của sổ cái."), source=source
        ), None
    try:
        parsed = TlogProof.parse(evidence.proof)
        checkpoint = open_checkpoint(parsed.checkpoint_note, trust.log_key, trust.log_key.name)
        included = merkle.verify_inclusion(
            merkle.leaf_hash(evidence.event),
            parsed.index,
            checkpoint.size,
            list(parsed.hashes),
            checkpoint.root_hash,
        )
    except (NoteError, ValueError) as error:
        logger.info("log proof refused: %r", error)
        included, checkpoint = False, None
    if not included or checkpoint is None:
        return (
            _log(
                FAILED,
                _("Bằng chứng sổ cái không hợp lệ: chữ ký của sổ cái hoặc đường chứng minh sai."),
                source=source,
            ),
            None,
        )
    try:
        event = json.loads(evidence.event)
    except ValueError:
        event = {}
    result = {
        "index": parsed.index,
        "checkpoint_size": checkpoint.size,
        "event_type": event.get("type"),
        "issued_at": event.get("time"),
        "pdf_sha256": event.get("pdf_sha256"),
    }
    if trust.checkpoint is not None and trust.checkpoint.size < checkpoint.size:
        result["bundle_checkpoint_older"] = True
    mismatches = []
    if event.get("type") != "issued":
        mismatches.append(_("sự kiện không phải sự kiện phát hành"))
    if event.get("record_id") != info["record_id"] or event.get("version") != info["version"]:
        mismatches.append(_("mã học bạ hoặc phiên bản khác"))
    if event.get("content_hash") != info["sha256"]:
        mismatches.append(_("dữ liệu học bạ đính kèm khác với dữ liệu đã phát hành"))
    elif event.get("pdf_sha256") not in _revision_prefix_hashes(data):
        mismatches.append(_("tệp PDF không phải tệp đã phát hành (chữ ký khác)"))
    if mismatches:
        return (
            _log(
                FAILED,
                _("Không khớp với sổ cái: %(what)s.") % {"what": "; ".join(mismatches)},
                source=source,
                **result,
            ),
            None,
        )
    text = _("Dữ liệu học bạ và tệp PDF khớp với sự kiện phát hành số %(index)s trong sổ cái.") % {
        "index": parsed.index
    }
    return _log(PASSED, text, source=source, **result), parsed.index


def _log(check: str, text: str, *, source: str = "", **extra: Any) -> dict[str, Any]:
    return {"check": check, "source": source, "explanation": text, **extra}


# --- status ---------------------------------------------------------------------------------


def _status(
    document: dict[str, Any] | None, trust: TrustBundle, index: int | None
) -> dict[str, Any]:
    if document is None:
        return _state("unknown", "", _("Không xác định được học bạ nên không biết trạng thái."))
    record_id, version = str(document["record"]["id"]), int(document["record"]["version"])
    if trust.records is not None:
        state = trust.records.state(record_id, version)
        if state is None:
            return _state("not_issued", "database", reason_text("RECORD_NOT_ISSUED"))
        return status_section(state)
    if trust.status_list is None:
        return _state("unknown", "", _("Gói tin cậy không có danh sách trạng thái."))
    if index is None:
        return _state(
            "unknown",
            "status_list",
            _("Cần bằng chứng sổ cái của học bạ để tra danh sách trạng thái."),
        )
    try:
        state_name = trust.status_list.status_of(index)
    except (IndexError, StatusListError):
        return _state(
            "unknown",
            "status_list",
            _("Danh sách trạng thái trong gói tin cậy cũ hơn học bạ này: hãy tải gói mới."),
        )
    if index >= trust.status_list.log_size:
        return _state(
            "unknown",
            "status_list",
            _("Danh sách trạng thái trong gói tin cậy cũ hơn học bạ này: hãy tải gói mới."),
        )
    return status_section(
        RecordState(state=state_name), source="status_list", as_of=trust.status_list.valid_from
    )


def status_section(state: RecordState, source: str = "database", as_of: str = "") -> dict[str, Any]:
    if state.state == "valid":
        text = _("Học bạ đang có hiệu lực.")
    elif state.state == "superseded":
        text = reason_text("RECORD_SUPERSEDED")
        if state.replacement_short_code:
            text += " " + _("Phiên bản hiện hành: mã %(code)s (phiên bản %(v)s).") % {
                "code": state.replacement_short_code,
                "v": state.replacement_version,
            }
    elif state.state == "revoked":
        text = reason_text("RECORD_REVOKED")
        if state.reason:
            text += " " + _("Lý do: %(reason)s") % {"reason": state.reason}
    else:
        text = reason_text("RECORD_NOT_ISSUED")
    result = _state(state.state, source, text)
    result.update(
        {
            "replacement_short_code": state.replacement_short_code,
            "replacement_version": state.replacement_version,
            "reason": state.reason,
            "at": state.at,
            "as_of": as_of,
        }
    )
    return result


def _state(state: str, source: str, text: str) -> dict[str, Any]:
    return {"state": state, "source": source, "explanation": text}


# --- the verdict ----------------------------------------------------------------------------

_INVALIDATING = {
    "SIGNATURES_FAILED",
    "INCOMPLETE_RECORD",
    "WRONG_ORDER",
    "UNEXPECTED_SIGNATURE",
    "MODIFIED_AFTER_SIGNING",
    "NO_EMBEDDED_DATA",
    "LOG_MISMATCH",
    "RECORD_SUPERSEDED",
    "RECORD_REVOKED",
    "RECORD_NOT_ISSUED",
}


def finish(report: ValidationReport) -> None:
    """Compute the reasons, the verdict, the headline and the messages from the sections."""
    reasons: list[str] = []
    if report.indication == TOTAL_FAILED:
        reasons.append("SIGNATURES_FAILED")
    elif report.indication == INDETERMINATE:
        reasons.append("SIGNATURES_INDETERMINATE")
    order = report.order
    if order.get("missing"):
        reasons.append("INCOMPLETE_RECORD")
    if not order.get("in_order", False) or not order.get("document_timestamp_after_seal", True):
        reasons.append("WRONG_ORDER")
    if order.get("unexpected_fields"):
        reasons.append("UNEXPECTED_SIGNATURE")
    if not report.modifications.get("allowed", False):
        reasons.append("MODIFIED_AFTER_SIGNING")
    if not report.data.get("readable"):
        reasons.append("NO_EMBEDDED_DATA")
    check = report.log.get("check")
    if check == FAILED:
        reasons.append("LOG_MISMATCH")
    elif check != PASSED:
        reasons.append("LOG_UNCHECKED")
    state = report.status.get("state")
    reasons.extend(
        {
            "superseded": ["RECORD_SUPERSEDED"],
            "revoked": ["RECORD_REVOKED"],
            "not_issued": ["RECORD_NOT_ISSUED"],
            "unknown": ["STATUS_UNKNOWN"],
        }.get(str(state), [])
    )
    report.reasons = reasons
    if not reasons:
        report.verdict = VALID
    elif set(reasons) & _INVALIDATING:
        report.verdict = INVALID
    else:
        report.verdict = INDETERMINATE
    report.headline = {
        VALID: _(
            "Tệp học bạ hợp lệ: đủ chữ ký hợp lệ, không bị sửa đổi, khớp với sổ cái và đang có "
            "hiệu lực."
        ),
        INVALID: _("Tệp học bạ KHÔNG hợp lệ."),
        INDETERMINATE: _("Chưa xác định được tệp học bạ có hợp lệ hay không."),
    }[report.verdict]
    messages = []
    for code in reasons:
        text = reason_text(code)
        if code == "INCOMPLETE_RECORD":
            text = text % {"missing": ", ".join(order.get("missing_labels", []))}
        elif code.startswith("SIGNATURES_"):
            text += " " + explain(report.indication, report.sub_indication)
        elif code in {"LOG_MISMATCH", "LOG_UNCHECKED"}:
            text += " " + str(report.log.get("explanation", ""))
        elif code.startswith("RECORD_") or code == "STATUS_UNKNOWN":
            text = str(report.status.get("explanation", text))
        severity = "error" if code in _INVALIDATING else "warning"
        messages.append(Message(code=code, severity=severity, text=text))
    report.messages = messages


# --- helpers --------------------------------------------------------------------------------


def _iso(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",")


def _common_name(name: asn1_x509.Name) -> str:
    try:
        values = [
            type_and_value["value"].native
            for rdn in name.chosen
            for type_and_value in rdn
            if type_and_value["type"].native == "common_name"
        ]
        return str(values[0]) if values else str(name.human_friendly)
    except Exception:
        return ""


def _human(name: asn1_x509.Name) -> str:
    try:
        return str(name.human_friendly)
    except Exception:
        return ""


# --- text -----------------------------------------------------------------------------------


def indication_label(indication: str) -> str:
    return {
        TOTAL_PASSED: _("HỢP LỆ (TOTAL_PASSED)"),
        TOTAL_FAILED: _("KHÔNG HỢP LỆ (TOTAL_FAILED)"),
        INDETERMINATE: _("CHƯA XÁC ĐỊNH (INDETERMINATE)"),
    }.get(indication, indication)


def check_label(check: str | None) -> str:
    return {
        PASSED: _("khớp"),
        FAILED: _("không khớp"),
        INDETERMINATE: _("chưa đối chiếu được"),
    }.get(str(check), str(check))


def render_text(report: ValidationReport) -> str:
    """The report as plain Vietnamese text (the offline verifier's output)."""
    lines = [
        _("BÁO CÁO KIỂM TRA TỆP HỌC BẠ"),
        report.headline,
        "",
        _("Tệp: SHA-256 %(sha)s, %(size)s byte; kiểm tra lúc %(at)s.")
        % {"sha": report.file_sha256, "size": report.file_size, "at": report.checked_at},
        _("Kết luận về chữ ký (ETSI EN 319 102-1): %(ind)s%(sub)s")
        % {
            "ind": indication_label(report.indication),
            "sub": f" / {report.sub_indication}" if report.sub_indication else "",
        },
    ]
    data = report.data
    if data.get("readable"):
        lines.append(
            _(
                "Học bạ: %(pupil)s, lớp %(klass)s, năm học %(year)s, %(school)s; mã %(code)s, "
                "phiên bản %(v)s."
            )
            % {
                "pupil": data.get("pupil_name", ""),
                "klass": data.get("class_name", ""),
                "year": data.get("school_year", ""),
                "school": data.get("school", ""),
                "code": data.get("short_code", ""),
                "v": data.get("version", ""),
            }
        )
    lines += ["", _("Chữ ký:")]
    for signature in report.signatures:
        lines.append(
            f"- {signature.role_label} ({signature.field}): {signature.signer_name or '?'} — "
            f"{indication_label(signature.indication)}"
            + (f" / {signature.sub_indication}" if signature.sub_indication else "")
        )
        lines.append(
            "  "
            + _("Chứng thư: %(subject)s; cấp bởi: %(issuer)s")
            % {
                "subject": signature.subject,
                "issuer": signature.issuer,
            }
        )
        lines.append(
            "  "
            + _("Thời điểm ký (người ký khai): %(s)s; dấu thời gian: %(t)s")
            % {
                "s": signature.signing_time or "-",
                "t": signature.timestamp_time or "-",
            }
        )
        lines.append("  " + signature.explanation)
    if not report.signatures:
        lines.append("- " + _("(không có chữ ký nào)"))
    lines += [
        "",
        _("Sửa đổi sau khi ký: %(text)s") % {"text": report.modifications.get("explanation", "")},
        _("Dữ liệu đính kèm: %(sha)s") % {"sha": data.get("sha256", _("không có"))},
        _("Sổ cái: %(check)s. %(text)s")
        % {
            "check": check_label(report.log.get("check")),
            "text": report.log.get("explanation", ""),
        },
        _("Trạng thái học bạ: %(text)s") % {"text": report.status.get("explanation", "")},
    ]
    if report.messages:
        lines += ["", _("Vấn đề:")]
        lines += [f"- [{m.code}] {m.text}" for m in report.messages]
    return "\n".join(lines) + "\n"
