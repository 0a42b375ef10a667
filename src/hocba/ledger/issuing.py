"""Issuing sealed year records (issue 6 §2): log the event, set ``issued``, store the proof.

Each record is issued in one transaction (row lock, status re-check, log leaf, status,
``IssuedRecord``, audit event), so a crash leaves it either issued with its leaf or still sealed
and retryable. Proof bundles need a checkpoint covering the leaves; they are made after the loop
for every issued leaf that lacks one, so a run that died before that point is completed by the
next. Safe to re-run with the same ids.

Issuing the new version of an open correction supersedes the old version in the same transaction
(a ``superseded`` leaf for the old one). Revocation logs a ``revoked`` leaf with the status change.
Status-changing leaves get proof bundles too, so an offline verifier can be shown them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from hocba.audit.services import record_event
from hocba.common.errors import DomainError, PermissionRefused
from hocba.ledger import services
from hocba.ledger.models import (
    EventType,
    IssuedRecord,
    LogLeaf,
    ProofBundle,
    Revocation,
    Supersession,
)
from hocba.records import corrections
from hocba.records.models import Correction, CorrectionStatus, YearRecord, YearRecordStatus
from hocba.signing.batch import current_pdf

Failure = tuple[int, str]


def utc_text(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def issued_event(record: YearRecord, pdf_sha256: str, when: dt.datetime) -> dict[str, Any]:
    return {
        "type": EventType.ISSUED.value,
        "record_id": str(record.record_id),
        "version": record.version,
        "content_hash": record.content_hash,
        "pdf_sha256": pdf_sha256,
        "time": utc_text(when),
    }


def superseded_event(
    old: IssuedRecord, new: YearRecord, new_pdf_sha256: str, when: dt.datetime
) -> dict[str, Any]:
    """The old version's event: which version replaces it (the reason stays in the database)."""
    return {
        "type": EventType.SUPERSEDED.value,
        "record_id": str(old.record.record_id),
        "version": old.record.version,
        "content_hash": old.record.content_hash,
        "pdf_sha256": old.pdf_sha256,
        "superseded_by": {
            "version": new.version,
            "content_hash": new.content_hash,
            "pdf_sha256": new_pdf_sha256,
        },
        "time": utc_text(when),
    }


def revoked_event(issuance: IssuedRecord, reason: str, when: dt.datetime) -> dict[str, Any]:
    return {
        "type": EventType.REVOKED.value,
        "record_id": str(issuance.record.record_id),
        "version": issuance.record.version,
        "content_hash": issuance.record.content_hash,
        "pdf_sha256": issuance.pdf_sha256,
        "reason_sha256": hashlib.sha256(reason.encode()).hexdigest(),
        "time": utc_text(when),
    }


def issue_sealed(record_ids: Iterable[int], *, actor: Any = None) -> tuple[int, list[Failure]]:
    """Issue every sealed record among ``record_ids``; others are skipped. Returns the number
    issued and ``(record pk, message)`` for each record that could not be issued."""
    issued, failures = 0, []
    for record_id in record_ids:
        try:
            issued += _issue_one(record_id, actor)
        except DomainError as error:
            failures.append((record_id, error.message))
    make_missing_bundles()
    return issued, failures


def _issue_one(record_id: int, actor: Any) -> int:
    record = YearRecord.objects.filter(pk=record_id, status=YearRecordStatus.SEALED).first()
    if record is None:
        return 0
    pdf_sha256 = hashlib.sha256(current_pdf(record)).hexdigest()
    with transaction.atomic():
        record = YearRecord.objects.select_for_update().get(pk=record_id)
        if record.status != YearRecordStatus.SEALED:
            return 0
        now = dt.datetime.now(dt.UTC)
        event = issued_event(record, pdf_sha256, now)
        leaf = services.append(EventType.ISSUED, event, record=record)
        # Supersede first: one issued version per pupil and year, in this same transaction.
        _supersede_corrected(record, pdf_sha256, now, actor)
        record.status = YearRecordStatus.ISSUED
        record.save(update_fields=["status"])
        IssuedRecord.objects.create(record=record, leaf=leaf, pdf_sha256=pdf_sha256, issued_at=now)
        record_event(
            actor=actor,
            action="ledger.year_record.issued",
            obj=record,
            school=record.school,
            changes={"status": ["sealed", "issued"], "log_index": leaf.index},
        )
    return 1


def _supersede_corrected(record: YearRecord, pdf_sha256: str, now: dt.datetime, actor: Any) -> None:
    """If ``record`` is the new version of an open correction, the old version is superseded,
    in the same transaction as the new one's issue: never two valid versions, never none."""
    correction = (
        Correction.objects.select_for_update()
        .filter(enrolment_id=record.enrolment_id, status=CorrectionStatus.OPEN)
        .first()
    )
    if correction is None:
        return
    old = YearRecord.objects.select_for_update().get(pk=correction.original_id)
    if old.status != YearRecordStatus.ISSUED or old.version >= record.version:
        raise DomainError(
            _("Học bạ phiên bản %(v)s cần đính chính không còn ở trạng thái đã phát hành.")
            % {"v": old.version}
        )
    old_issuance = IssuedRecord.objects.select_related("record").get(record=old)
    leaf = services.append(
        EventType.SUPERSEDED, superseded_event(old_issuance, record, pdf_sha256, now), record=old
    )
    old.status = YearRecordStatus.SUPERSEDED
    old.save(update_fields=["status"])
    Supersession.objects.create(old=old, new=record, leaf=leaf, reason=correction.reason, at=now)
    correction.status = CorrectionStatus.DONE
    correction.replacement = record
    correction.closed_at = now
    correction.closed_by = actor if getattr(actor, "is_authenticated", False) else None
    correction.save(update_fields=["status", "replacement", "closed_at", "closed_by"])
    record_event(
        actor=actor,
        action="ledger.year_record.superseded",
        obj=old,
        school=old.school,
        changes={
            "status": ["issued", "superseded"],
            "superseded_by": {"short_code": record.short_code, "version": record.version},
            "log_index": leaf.index,
        },
    )


def revoke(*, actor: Any, record: YearRecord, reason: str) -> Revocation:
    """Withdraw an issued record for good (e.g. issued to the wrong pupil), with the reason.
    The ``revoked`` event is logged in the same transaction as the status change."""
    if not corrections.is_principal(actor, record.school):
        raise PermissionRefused(
            _("Chỉ hiệu trưởng hoặc phó hiệu trưởng của trường được thu hồi học bạ.")
        )
    reason = corrections.clean_reason(reason, _("thu hồi"))
    with transaction.atomic():
        record = YearRecord.objects.select_for_update().get(pk=record.pk)
        if record.status != YearRecordStatus.ISSUED:
            raise DomainError(
                _("Chỉ thu hồi được học bạ đang có hiệu lực (học bạ này: %(status)s).")
                % {"status": record.get_status_display()}
            )
        if Correction.objects.filter(original=record, status=CorrectionStatus.OPEN).exists():
            raise DomainError(
                _("Học bạ đang có yêu cầu đính chính: hãy huỷ yêu cầu đó trước khi thu hồi.")
            )
        issuance = IssuedRecord.objects.select_related("record").get(record=record)
        now = dt.datetime.now(dt.UTC)
        leaf = services.append(
            EventType.REVOKED, revoked_event(issuance, reason, now), record=record
        )
        record.status = YearRecordStatus.REVOKED
        record.save(update_fields=["status"])
        revocation = Revocation.objects.create(
            record=record, leaf=leaf, reason=reason, revoked_by=actor, at=now
        )
        record_event(
            actor=actor,
            action="ledger.year_record.revoked",
            obj=record,
            school=record.school,
            changes={"status": ["issued", "revoked"], "reason": reason, "log_index": leaf.index},
        )
    make_missing_bundles()
    return revocation


def make_missing_bundles() -> int:
    """A proof bundle for every issued leaf without one, against one fresh checkpoint."""
    missing = list(
        LogLeaf.objects.filter(
            proof_bundles__isnull=True,
            record__isnull=False,
            event_type__in=[EventType.ISSUED, EventType.SUPERSEDED, EventType.REVOKED],
        ).order_by("index")
    )
    if not missing:
        return 0
    checkpoint = services.sign_checkpoint()
    with transaction.atomic():
        ProofBundle.objects.bulk_create(
            [
                ProofBundle(
                    leaf=leaf,
                    checkpoint=checkpoint,
                    text=services.inclusion_bundle(leaf, checkpoint),
                )
                for leaf in missing
            ],
            ignore_conflicts=True,
        )
    return len(missing)


def latest_bundle(record: YearRecord) -> ProofBundle | None:
    return (
        ProofBundle.objects.filter(leaf__issuance__record=record)
        .order_by("-checkpoint__size")
        .first()
    )
