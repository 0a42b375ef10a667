"""What a record's public status page shows (issue 6 §5; the portal of issue 7 builds on it).

The state comes from the record's status and its ledger rows: valid (issued), superseded (with the
version that replaced it), revoked (with the reason), or not issued. Personal details are masked:
initials and birth year only.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from hocba.ledger.issuing import latest_bundle
from hocba.ledger.models import IssuedRecord, ProofBundle, Revocation, Supersession
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.signing.batch import STEP_ORDER
from hocba.signing.models import RecordSignature

VALID, SUPERSEDED, REVOKED, NOT_ISSUED = "valid", "superseded", "revoked", "not_issued"


@dataclass(frozen=True)
class Signer:
    role: str
    name: str
    title: str
    signed_at: Any


@dataclass
class RecordStatus:
    record: YearRecord
    state: str
    headline: str
    school: str
    school_year: str
    class_name: str
    pupil_initials: str
    birth_year: str
    signers: list[Signer] = field(default_factory=list)
    issued_at: Any = None
    log_index: int | None = None
    bundle: ProofBundle | None = None
    replacement: YearRecord | None = None
    superseded_at: Any = None
    correction_reason: str = ""
    revocation: Revocation | None = None


def initials(full_name: str) -> str:
    return " ".join(f"{part[0].upper()}." for part in full_name.split())


# What a valid record's page shows never changes once it is issued (masked facts, signers, issue
# time, log index), except its state, which follows ``record.status``: each process keeps the
# status of valid records it served, keyed by the record (its id and UUID), its status and the
# language, so that a public look-up costs one query for the record instead of four (issue 8 §4).
# A revoked or superseded record has another status, hence another key, and is computed afresh;
# a record with no proof bundle yet is never kept. ``bundle`` may then be an older bundle of the
# same record: the pages only show whether there is one.
_VALID: dict[tuple[Any, ...], RecordStatus] = {}
_VALID_MAX = 10_000


def record_status(record: YearRecord) -> RecordStatus:
    key = (record.pk, record.record_id, record.status, get_language())
    if record.status == YearRecordStatus.ISSUED and (kept := _VALID.get(key)) is not None:
        return dataclasses.replace(kept, record=record, signers=list(kept.signers))
    status = _record_status(record)
    if status.state == VALID and status.bundle is not None:
        if len(_VALID) >= _VALID_MAX:
            _VALID.clear()
        _VALID[key] = status
    return status


def _record_status(record: YearRecord) -> RecordStatus:
    document = json.loads(record.canonical_json)
    issuance = IssuedRecord.objects.filter(record=record).select_related("leaf").first()
    status = RecordStatus(
        record=record,
        state=NOT_ISSUED,
        headline=_("Học bạ chưa được phát hành: chưa có giá trị."),
        school=document["school"]["name"],
        school_year=document["school_year"],
        class_name=document["class"]["name"],
        pupil_initials=initials(document["pupil"]["full_name"]),
        birth_year=(document["pupil"].get("date_of_birth") or "")[:4],
    )
    signatures = {s.step: s for s in RecordSignature.objects.filter(record=record)}
    status.signers = [
        Signer(
            role=signatures[step].get_step_display(),
            name=signatures[step].signer_name,
            title=signatures[step].signer_title,
            signed_at=signatures[step].signed_at,
        )
        for step in STEP_ORDER
        if step in signatures
    ]
    if issuance is None:
        return status
    status.issued_at = issuance.issued_at
    status.log_index = issuance.leaf.index
    status.bundle = latest_bundle(record)
    if record.status == YearRecordStatus.REVOKED:
        status.state = REVOKED
        status.revocation = Revocation.objects.filter(record=record).first()
        status.headline = _("Học bạ này đã bị thu hồi: không còn giá trị.")
    elif record.status == YearRecordStatus.SUPERSEDED:
        status.state = SUPERSEDED
        supersession = Supersession.objects.filter(old=record).select_related("new").first()
        if supersession is not None:
            status.replacement = supersession.new
            status.superseded_at = supersession.at
            status.correction_reason = supersession.reason
        status.headline = _("Học bạ này đã được thay thế bằng một phiên bản đính chính.")
    else:
        status.state = VALID
        status.headline = _("Học bạ hợp lệ: đã được ký số, đóng dấu và ghi vào sổ cái.")
    return status
