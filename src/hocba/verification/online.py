"""File verification inside a deployment: the database answers the log and status questions.

:func:`verify_pdf_online` first looks the file's SHA-256 up among the issued records' final PDFs.
A hit is that record byte for byte: the answer is the report stored for it (made right after
issuing, or on the first verification of that file) with the record's current status, without
validating again. Every other file gets :func:`hocba.verification.report.verify_pdf` with the
deployment's trust bundle.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction

from hocba.ledger import keys
from hocba.ledger.issuing import latest_bundle
from hocba.ledger.models import Checkpoint, IssuedRecord, Revocation, Supersession
from hocba.ledger.note import open_checkpoint
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.signing import registry
from hocba.verification.models import StoredReport
from hocba.verification.report import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_OBJECTS,
    LogEvidence,
    RecordState,
    TrustBundle,
    ValidationReport,
    finish,
    refuse_early,
    status_section,
    verify_pdf,
)

logger = logging.getLogger(__name__)


def max_bytes() -> int:
    return int(getattr(settings, "HOCBA_VERIFY_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_objects() -> int:
    return int(getattr(settings, "HOCBA_VERIFY_MAX_OBJECTS", DEFAULT_MAX_OBJECTS))


class DatabaseRecords:
    """:class:`~hocba.verification.report.RecordSource` answered by this deployment."""

    def _record(self, record_id: str, version: int) -> YearRecord | None:
        try:
            key = uuid.UUID(record_id)
        except ValueError:
            return None
        return YearRecord.objects.filter(record_id=key, version=version).first()

    def evidence(self, record_id: str, version: int) -> LogEvidence | None:
        record = self._record(record_id, version)
        if record is None:
            return None
        issuance = IssuedRecord.objects.filter(record=record).select_related("leaf").first()
        bundle = latest_bundle(record)
        if issuance is None or bundle is None:
            return None
        return LogEvidence(event=issuance.leaf.event.encode(), proof=bundle.text)

    def state(self, record_id: str, version: int) -> RecordState | None:
        record = self._record(record_id, version)
        if record is None or not IssuedRecord.objects.filter(record=record).exists():
            return None
        return state_of(record)


def state_of(record: YearRecord) -> RecordState:
    if record.status == YearRecordStatus.SUPERSEDED:
        supersession = Supersession.objects.filter(old=record).select_related("new").first()
        if supersession is None:
            return RecordState(state="superseded")
        return RecordState(
            state="superseded",
            replacement_short_code=supersession.new.short_code,
            replacement_version=supersession.new.version,
            reason=supersession.reason,
            at=_iso(supersession.at),
        )
    if record.status == YearRecordStatus.REVOKED:
        revocation = Revocation.objects.filter(record=record).first()
        return RecordState(
            state="revoked",
            reason=revocation.reason if revocation else "",
            at=_iso(revocation.at) if revocation else "",
        )
    if record.status == YearRecordStatus.ISSUED:
        return RecordState(state="valid")
    return RecordState(state="not_issued")


def deployment_trust() -> TrustBundle:
    """This deployment as a verifier sees it: trust folder, log key, latest checkpoint."""
    latest = Checkpoint.objects.order_by("-size").first()
    verifier = keys.verifier()
    return TrustBundle(
        store=registry.trust_store(),
        log_key=verifier,
        checkpoint=open_checkpoint(latest.note, verifier) if latest else None,
        records=DatabaseRecords(),
    )


def verify_pdf_online(data: bytes) -> ValidationReport:
    """The report on an uploaded file: the fast path for an issued file, else full validation."""
    refuse_early(data, max_bytes=max_bytes(), max_objects=None)  # objects: before parsing
    digest = hashlib.sha256(data).hexdigest()
    stored = StoredReport.objects.filter(pdf_sha256=digest).select_related("issuance__record")
    hit = stored.first()
    if hit is None:
        issuance = IssuedRecord.objects.filter(pdf_sha256=digest).select_related("record").first()
        if issuance is None:
            return full_validation(data)
        hit = store_report(issuance, data)
    report = ValidationReport.from_json(hit.report)
    report.mode = "stored"
    report.checked_at = _iso(dt.datetime.now(dt.UTC))
    record = hit.issuance.record
    report.status = status_section(state_of(record))
    finish(report)
    return report


def full_validation(data: bytes) -> ValidationReport:
    return verify_pdf(
        data, trust=deployment_trust(), max_bytes=max_bytes(), max_objects=max_objects()
    )


def store_report(issuance: IssuedRecord, data: bytes) -> StoredReport:
    """Validate an issued record's final PDF once and keep the report (idempotent)."""
    report = full_validation(data)
    try:
        with transaction.atomic():
            return StoredReport.objects.create(
                issuance=issuance, pdf_sha256=report.file_sha256, report=report.to_json()
            )
    except IntegrityError:  # another request stored it first
        return StoredReport.objects.select_related("issuance__record").get(
            pdf_sha256=report.file_sha256
        )


def store_issue_reports(record_ids: Iterable[int]) -> tuple[int, list[tuple[int, str]]]:
    """After issuing: the stored report of each issued record among ``record_ids`` that has
    none. A failure is logged and left for the first verification of that file."""
    from hocba.signing.batch import current_pdf

    done, failed = 0, []
    issuances = IssuedRecord.objects.filter(
        record_id__in=list(record_ids), stored_report__isnull=True
    ).select_related("record", "record__school", "record__long_term_validation")
    for issuance in issuances:
        try:
            data = current_pdf(issuance.record)
            if hashlib.sha256(data).hexdigest() != issuance.pdf_sha256:
                raise ValueError("the stored PDF is not the issued one")
            store_report(issuance, data)
            done += 1
        except Exception as error:  # one record's failure must not stop the rest
            logger.warning("no stored report for record %s: %s", issuance.record_id, error)
            failed.append((issuance.record_id, str(error) or type(error).__name__))
    return done, failed


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
