"""Compiling year records from a locked class (issue 4 §1, ARCHITECTURE §4).

One transaction per class: every pupil is compiled from the same snapshot, the class row is
locked so two compilations of one class queue up, and a crash leaves nothing half-written.
Problems with one pupil are not exceptions but outcomes ("skipped" with reasons), so one pupil
never blocks the class and never gets a blank record.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hocba.assessment.year_end import evaluate_enrolment
from hocba.audit.services import record_event
from hocba.common.errors import DomainError, PermissionRefused
from hocba.records import canonical, selectors
from hocba.records.codes import new_access_code, new_short_code
from hocba.records.models import UNSIGNED_STATUSES, YearRecord, YearRecordStatus
from hocba.records.schema import validate_document
from hocba.schools.models import Enrolment, SchoolClass
from hocba.schools.selectors import class_roster

DEFAULT_VERIFY_BASE_URL = "http://127.0.0.1:8000"

COMPILED, RECOMPILED, UNCHANGED, SKIPPED = "compiled", "recompiled", "unchanged", "skipped"


@dataclass(frozen=True)
class PupilOutcome:
    enrolment_id: int
    ministry_code: str
    full_name: str
    outcome: str  # compiled | recompiled | unchanged | skipped
    status: str = ""
    version: int | None = None
    short_code: str = ""
    content_hash: str = ""
    reasons: tuple[str, ...] = ()


@dataclass
class CompileReport:
    school_class_id: int
    outcomes: list[PupilOutcome] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    @property
    def counts(self) -> dict[str, int]:
        return {name: self.count(name) for name in (COMPILED, RECOMPILED, UNCHANGED, SKIPPED)}


def default_verify_base_url() -> str:
    return str(getattr(settings, "HOCBA_VERIFY_BASE_URL", "") or DEFAULT_VERIFY_BASE_URL)


def compile_class(
    *, actor: Any, school_class: SchoolClass, verify_base_url: str | None = None
) -> CompileReport:
    """Compile (or recompile) the year record of every current pupil of a locked class."""
    if not selectors.can_compile(actor, school_class):
        raise PermissionRefused(_("Bạn không có quyền tổng hợp học bạ của lớp này."))
    base_url = verify_base_url or default_verify_base_url()
    with transaction.atomic():
        school_class = (
            SchoolClass.objects.select_for_update(of=("self",))
            .select_related("school__province", "school__district", "school_year")
            .get(pk=school_class.pk)
        )
        if not selectors.class_is_locked(school_class):
            raise DomainError(
                _(
                    "Lớp %(name)s chưa được khoá: giáo viên chủ nhiệm cần xác nhận hoàn thành "
                    "trước khi tổng hợp học bạ."
                )
                % {"name": school_class.name}
            )
        now = timezone.now().replace(microsecond=0)
        report = CompileReport(school_class_id=school_class.pk)
        for enrolment in class_roster(school_class):
            enrolment.school_class = school_class
            report.outcomes.append(_compile_pupil(actor, enrolment, now, base_url))
    return report


def _outcome(enrolment: Enrolment, outcome: str, **extra: Any) -> PupilOutcome:
    return PupilOutcome(
        enrolment_id=enrolment.pk,
        ministry_code=enrolment.pupil.ministry_code,
        full_name=enrolment.pupil.full_name,
        outcome=outcome,
        **extra,
    )


def _record_outcome(enrolment: Enrolment, outcome: str, record: YearRecord) -> PupilOutcome:
    return _outcome(
        enrolment,
        outcome,
        status=record.status,
        version=record.version,
        short_code=record.short_code,
        content_hash=record.content_hash,
    )


def _compile_pupil(actor: Any, enrolment: Enrolment, now: Any, base_url: str) -> PupilOutcome:
    evaluation = evaluate_enrolment(enrolment)
    if not evaluation.is_computable:
        return _outcome(enrolment, SKIPPED, reasons=tuple(evaluation.missing))
    if canonical.stored_result_mismatch(enrolment, evaluation):
        reason = _("Kết quả cuối năm đã lưu khác kết quả tính từ điểm hiện tại; hãy tính lại.")
        return _outcome(enrolment, SKIPPED, reasons=(reason,))
    # The newest version not superseded: during a correction, the issued one until a new version
    # exists, then that new version.
    current = (
        YearRecord.objects.select_for_update()
        .filter(enrolment=enrolment)
        .exclude(status=YearRecordStatus.SUPERSEDED)
        .order_by("-version")
        .first()
    )
    correction = selectors.open_correction(enrolment)
    corrects = (
        {
            "version": correction.original.version,
            "short_code": correction.original.short_code,
            "reason": correction.reason,
        }
        if correction
        else None
    )
    if current is not None and current.status != YearRecordStatus.REVOKED:
        # Same envelope (id, version, code, time, what it corrects) as the stored version: only
        # content differs.
        same_envelope = canonical.build_document(
            enrolment,
            record_id=current.record_id,
            version=current.version,
            short_code=current.short_code,
            compiled_at=current.compiled_at,
            verify_base_url=base_url,
            evaluation=evaluation,
            corrects=_corrects(current),
            access_code=_stored_record_part(current).get("access_code", ""),
        )
        if canonical.content_hash(canonical.canonical_bytes(same_envelope)) == current.content_hash:
            return _record_outcome(enrolment, UNCHANGED, current)
        if current.status == YearRecordStatus.ISSUED and correction is not None:
            pass  # a correction the principal opened: the new version is written below
        elif current.status not in UNSIGNED_STATUSES:
            reason = _(
                "Học bạ phiên bản %(v)s đã ký hoặc đã phát hành; dữ liệu mới cần quy trình "
                "đính chính."
            ) % {"v": current.version}
            skipped = _record_outcome(enrolment, SKIPPED, current)
            return dataclasses.replace(skipped, reasons=(reason,))
    try:
        record = _write_version(actor, enrolment, current, now, base_url, evaluation, corrects)
    except DomainError as error:
        return _outcome(enrolment, SKIPPED, reasons=(error.message,))
    return _record_outcome(enrolment, RECOMPILED if current else COMPILED, record)


def _stored_record_part(record: YearRecord) -> dict[str, Any]:
    """The ``record`` part a stored version was written with (to rebuild its envelope)."""
    part: dict[str, Any] = json.loads(record.canonical_json)["record"]
    return part


def _corrects(record: YearRecord) -> dict[str, Any] | None:
    corrects: dict[str, Any] | None = _stored_record_part(record).get("corrects")
    return corrects


def _unused_short_code() -> str:
    while True:
        code = new_short_code()
        if not YearRecord.objects.filter(short_code=code).exists():
            return code


def pending_status(document: dict[str, Any]) -> str:
    """Pending states are visible (DOMAIN §5), derived from the content so a hash fixes them.

    A CHT pupil still on the summer path comes first: their result itself is not final.
    """
    year_end = document["year_end"]
    summer = year_end["summer"] or {}
    if (
        year_end["result"] == "CHT"
        and year_end["promotion"] is None
        and summer.get("outcome") != "completed"
    ):
        return YearRecordStatus.AWAITING_SUMMER_REASSESSMENT
    if not document["pupil"]["personal_id"]:
        return YearRecordStatus.MISSING_IDENTIFIER
    return YearRecordStatus.COMPILED


def _write_version(
    actor: Any,
    enrolment: Enrolment,
    current: YearRecord | None,
    now: Any,
    base_url: str,
    evaluation: Any,
    corrects: dict[str, Any] | None = None,
) -> YearRecord:
    short_code = _unused_short_code()
    record_id = current.record_id if current else uuid.uuid4()
    # The new version follows the newest one of any status: a draft set aside by a cancelled
    # correction keeps its number, and the chain of ``supersedes`` stays a line.
    previous = (
        YearRecord.objects.filter(enrolment=enrolment).order_by("-version").first()
        if current
        else None
    )
    version = previous.version + 1 if previous else 1
    document = canonical.build_document(
        enrolment,
        record_id=record_id,
        version=version,
        short_code=short_code,
        compiled_at=now,
        verify_base_url=base_url,
        evaluation=evaluation,
        corrects=corrects,
        access_code=new_access_code(),
    )
    validate_document(document)
    data = canonical.canonical_bytes(document)
    if current is not None and current.status in UNSIGNED_STATUSES:
        current.status = YearRecordStatus.SUPERSEDED
        current.save(update_fields=["status"])
    # An issued version under correction stays issued until its replacement is (ledger.issuing);
    # a revoked one stays revoked, and the new version does not claim to replace it.
    supersedes = previous if current and current.status != YearRecordStatus.REVOKED else None
    record = YearRecord.objects.create(
        record_id=record_id,
        version=version,
        enrolment=enrolment,
        pupil_id=enrolment.pupil_id,
        school_id=enrolment.school_class.school_id,
        school_year_id=enrolment.school_year_id,
        status=pending_status(document),
        short_code=short_code,
        canonical_json=data.decode("utf-8"),
        content_hash=canonical.content_hash(data),
        compiled_at=now,
        compiled_by=actor if getattr(actor, "is_authenticated", False) else None,
        supersedes=supersedes,
    )
    _audit(actor, enrolment, record, current)
    return record


def _audit(
    actor: Any, enrolment: Enrolment, record: YearRecord, previous: YearRecord | None
) -> None:
    changes: dict[str, Any] = {
        "record_id": str(record.record_id),
        "short_code": record.short_code,
        "status": record.status,
    }
    if previous is None:
        changes |= {"version": record.version, "content_hash": record.content_hash}
    else:
        changes |= {
            "version": [previous.version, record.version],
            "content_hash": [previous.content_hash, record.content_hash],
        }
    record_event(
        actor=actor,
        action="records.year_record.recompiled" if previous else "records.year_record.compiled",
        obj=record,
        school=enrolment.school_class.school,
        changes=changes,
    )
