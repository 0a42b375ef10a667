"""Issuing sealed year records (issue 6 §2): log the event, set ``issued``, store the proof.

Each record is issued in one transaction (row lock, status re-check, log leaf, status,
``IssuedRecord``, audit event), so a crash leaves it either issued with its leaf or still sealed
and retryable. Proof bundles need a checkpoint covering the leaves; they are made after the loop
for every issued leaf that lacks one, so a run that died before that point is completed by the
next. Safe to re-run with the same ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from hocba.audit.services import record_event
from hocba.common.errors import DomainError
from hocba.ledger import services
from hocba.ledger.models import EventType, IssuedRecord, LogLeaf, ProofBundle
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.signing.batch import current_pdf

Failure = tuple[int, str]


def issued_event(record: YearRecord, pdf_sha256: str, when: dt.datetime) -> dict[str, Any]:
    return {
        "type": EventType.ISSUED.value,
        "record_id": str(record.record_id),
        "version": record.version,
        "content_hash": record.content_hash,
        "pdf_sha256": pdf_sha256,
        "time": when.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
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


def make_missing_bundles() -> int:
    """A proof bundle for every issued leaf without one, against one fresh checkpoint."""
    missing = list(
        LogLeaf.objects.filter(issuance__isnull=False, proof_bundles__isnull=True).order_by("index")
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
