"""Corrections of issued year records (issue 6 §5, ARCHITECTURE §4).

An issued record is never edited. The principal opens a correction with a reason; compiling the
class then writes a new version of that pupil's record (``services._compile_pupil``), which is
signed by the teacher, the principal and the seal like any other; issuing it supersedes the old
version (``hocba.ledger.issuing``) and closes the correction. Until then the issued version stays
valid. The principal may cancel an open correction as long as the new version is not issued.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hocba.audit.services import record_event
from hocba.common.errors import DomainError, PermissionRefused
from hocba.records.models import (
    UNSIGNED_STATUSES,
    Correction,
    CorrectionStatus,
    YearRecord,
    YearRecordStatus,
)
from hocba.schools import access
from hocba.schools.models import Role, School

MIN_REASON = 10


def is_principal(user: Any, school: School) -> bool:
    """The principal or a deputy principal of the school (they sign for it)."""
    staff = access.staff_of(user)
    return bool(
        staff is not None
        and staff.school_id == school.pk
        and staff.role_set & {Role.PRINCIPAL, Role.DEPUTY_PRINCIPAL}
    )


def clean_reason(reason: str, what: str) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REASON:
        raise DomainError(
            _("Cần ghi rõ lý do %(what)s (ít nhất %(n)s ký tự).") % {"what": what, "n": MIN_REASON},
            field="reason",
        )
    return reason


def request_correction(*, actor: Any, record: YearRecord, reason: str) -> Correction:
    """Open a correction of an issued record. The record itself does not change."""
    if not is_principal(actor, record.school):
        raise PermissionRefused(
            _("Chỉ hiệu trưởng hoặc phó hiệu trưởng của trường được yêu cầu đính chính học bạ.")
        )
    reason = clean_reason(reason, _("đính chính"))
    with transaction.atomic():
        record = YearRecord.objects.select_for_update().get(pk=record.pk)
        if record.status != YearRecordStatus.ISSUED:
            raise DomainError(
                _("Chỉ đính chính được học bạ đã phát hành (học bạ này: %(status)s).")
                % {"status": record.get_status_display()}
            )
        if Correction.objects.filter(
            enrolment_id=record.enrolment_id, status=CorrectionStatus.OPEN
        ).exists():
            raise DomainError(_("Học bạ này đang có một yêu cầu đính chính chưa hoàn tất."))
        try:
            with transaction.atomic():
                correction = Correction.objects.create(
                    original=record,
                    enrolment_id=record.enrolment_id,
                    reason=reason,
                    requested_by=actor,
                    requested_at=timezone.now(),
                )
        except IntegrityError as error:  # a concurrent request won the race
            raise DomainError(
                _("Học bạ này đang có một yêu cầu đính chính chưa hoàn tất.")
            ) from error
        record_event(
            actor=actor,
            action="records.correction.requested",
            obj=record,
            school=record.school,
            changes={"short_code": record.short_code, "version": record.version, "reason": reason},
        )
    return correction


def cancel_correction(*, actor: Any, correction: Correction, reason: str) -> Correction:
    """Withdraw an open correction. A new version not yet signed is set aside (superseded, never
    issued); one already being signed must be finished or its batch cancelled first."""
    if not is_principal(actor, correction.original.school):
        raise PermissionRefused(
            _("Chỉ hiệu trưởng hoặc phó hiệu trưởng được huỷ yêu cầu đính chính.")
        )
    reason = clean_reason(reason, _("huỷ đính chính"))
    with transaction.atomic():
        correction = Correction.objects.select_for_update().get(pk=correction.pk)
        if correction.status != CorrectionStatus.OPEN:
            raise DomainError(_("Yêu cầu đính chính này đã kết thúc."))
        drafts = YearRecord.objects.select_for_update().filter(
            enrolment_id=correction.enrolment_id, version__gt=correction.original.version
        )
        drafts = drafts.exclude(status__in=[YearRecordStatus.SUPERSEDED, YearRecordStatus.REVOKED])
        for draft in drafts:
            if draft.status not in UNSIGNED_STATUSES:
                raise DomainError(
                    _(
                        "Phiên bản %(v)s đã được ký (%(status)s): không huỷ được yêu cầu đính "
                        "chính; hãy hoàn tất việc ký và phát hành."
                    )
                    % {"v": draft.version, "status": draft.get_status_display()}
                )
            draft.status = YearRecordStatus.SUPERSEDED
            draft.save(update_fields=["status"])
        correction.status = CorrectionStatus.CANCELLED
        correction.closed_at = timezone.now()
        correction.closed_by = actor
        correction.cancel_reason = reason
        correction.save(update_fields=["status", "closed_at", "closed_by", "cancel_reason"])
        record_event(
            actor=actor,
            action="records.correction.cancelled",
            obj=correction.original,
            school=correction.original.school,
            changes={"short_code": correction.original.short_code, "reason": reason},
        )
    return correction
