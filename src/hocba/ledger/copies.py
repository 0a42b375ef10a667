"""Copies of issued records (issue 6 §6): every export of an issued version is logged.

A PDF download, a class zip, a booklet, a printed copy or an extract of an issued record gets a
``copy_issued`` leaf (copy id, record version, the PDF's hash, channel, purpose, time) and a
:class:`~hocba.ledger.models.CopyIssued` row saying who asked and why. The leaf holds no personal
data: the log is public; the row is not. Only issued versions count: a draft is not a copy of
anything.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from hocba.audit.services import record_event
from hocba.ledger import services
from hocba.ledger.issuing import utc_text
from hocba.ledger.models import CopyChannel, CopyIssued, CopyPurpose, EventType, IssuedRecord
from hocba.records.models import YearRecord, YearRecordStatus


def copy_event(
    copy_id: uuid.UUID, issuance: IssuedRecord, channel: str, purpose: str, when: dt.datetime
) -> dict[str, Any]:
    return {
        "type": EventType.COPY_ISSUED.value,
        "copy_id": str(copy_id),
        "record_id": str(issuance.record.record_id),
        "version": issuance.record.version,
        "pdf_sha256": issuance.pdf_sha256,
        "channel": channel,
        "purpose": purpose,
        "time": utc_text(when),
    }


def record_copies(
    *,
    actor: Any,
    records: Sequence[YearRecord],
    channel: str,
    purpose: str = CopyPurpose.CHECK,
    note: str = "",
) -> list[CopyIssued]:
    """Log one copy of each issued record among ``records`` (the others are ignored)."""
    if channel not in CopyChannel.values:
        raise ValueError(f"unknown copy channel {channel!r}")
    if purpose not in CopyPurpose.values:
        raise ValueError(f"unknown copy purpose {purpose!r}")
    issued = [r.pk for r in records if r.status == YearRecordStatus.ISSUED]
    if not issued:
        return []
    issuances = IssuedRecord.objects.filter(record_id__in=issued).select_related(
        "record", "record__school"
    )
    now = dt.datetime.now(dt.UTC)
    made = []
    with transaction.atomic():
        for issuance in issuances.order_by("record_id"):
            copy_id = uuid.uuid4()
            leaf = services.append(
                EventType.COPY_ISSUED,
                copy_event(copy_id, issuance, channel, purpose, now),
                record=issuance.record,
            )
            made.append(
                CopyIssued.objects.create(
                    copy_id=copy_id,
                    record=issuance.record,
                    leaf=leaf,
                    channel=channel,
                    purpose=purpose,
                    note=note[:200],
                    issued_by=actor if getattr(actor, "is_authenticated", False) else None,
                    at=now,
                )
            )
            record_event(
                actor=actor,
                action="ledger.year_record.copy_issued",
                obj=issuance.record,
                school=issuance.record.school,
                changes={
                    "copy_id": str(copy_id),
                    "channel": channel,
                    "purpose": purpose,
                    "log_index": leaf.index,
                },
            )
    return made
