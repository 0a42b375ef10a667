"""Signing batches (issue 5 §5): who may sign what, starting, resuming and cancelling.

A homeroom teacher signs their class, a principal (or a deputy, "KT. HIỆU TRƯỞNG") a class or the
whole school, and the school's seal signs last. A batch starts only after a fresh
re-authentication (the account password) and, for keys the server opens, with the PIN, which is
kept encrypted on the batch while it runs (:mod:`.vault`). The work is
:func:`hocba.signing.tasks.sign_batch`, queued after commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hocba.audit.services import record_event
from hocba.common import twofactor
from hocba.common.errors import DomainError, PermissionRefused
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.schools import access
from hocba.schools.models import Role, School, SchoolClass, SchoolYear
from hocba.schools.selectors import current_school_year
from hocba.signing import registry, vault
from hocba.signing.adapters import SignerError
from hocba.signing.models import (
    AdapterKind,
    BatchStatus,
    CertificatePurpose,
    ItemState,
    SigningBatch,
    SigningCertificate,
    SigningItem,
    SigningStep,
)


@dataclass(frozen=True)
class StepRule:
    before: str
    after: str


STEP_RULES = {
    SigningStep.TEACHER: StepRule(YearRecordStatus.COMPILED, YearRecordStatus.TEACHER_SIGNED),
    SigningStep.PRINCIPAL: StepRule(
        YearRecordStatus.TEACHER_SIGNED, YearRecordStatus.PRINCIPAL_SIGNED
    ),
    SigningStep.SEAL: StepRule(YearRecordStatus.PRINCIPAL_SIGNED, YearRecordStatus.SEALED),
}
PRINCIPAL_TITLE = "HIỆU TRƯỞNG"
DEPUTY_TITLE = "KT. HIỆU TRƯỞNG\nPHÓ HIỆU TRƯỞNG"
TEACHER_TITLE = "Giáo viên chủ nhiệm"


def signer_title(actor: Any, step: str) -> str:
    """How the signer is named in the appearance: the principal, or a deputy "KT."."""
    if step == SigningStep.TEACHER:
        return TEACHER_TITLE
    if step == SigningStep.SEAL:
        return ""
    staff = access.staff_of(actor)
    if staff is not None and Role.PRINCIPAL in staff.role_set:
        return PRINCIPAL_TITLE
    return DEPUTY_TITLE


def may_sign(
    actor: Any, step: str, *, school: School, school_class: SchoolClass | None = None
) -> bool:
    """Teacher: homeroom teacher of the class. Principal and seal: the principal or a deputy."""
    staff = access.staff_of(actor)
    if staff is None or staff.school_id != school.pk:
        return False
    if step == SigningStep.TEACHER:
        return school_class is not None and school_class.homeroom_teacher_id == staff.pk
    return bool(staff.role_set & {Role.PRINCIPAL, Role.DEPUTY_PRINCIPAL})


def usable_certificates(actor: Any, step: str, school: School) -> QuerySet[SigningCertificate]:
    """The active certificates the actor may sign this step with."""
    active = SigningCertificate.objects.filter(retired_at__isnull=True, school=school)
    if step == SigningStep.SEAL:
        return active.filter(purpose=CertificatePurpose.SEAL)
    staff = access.staff_of(actor)
    if staff is None:
        return SigningCertificate.objects.none()
    return active.filter(purpose=CertificatePurpose.PERSONAL, staff=staff)


def records_for(
    step: str, *, school: School, school_class: SchoolClass | None, school_year: Any
) -> QuerySet[YearRecord]:
    """The current records of the class (or school) waiting for this step."""
    records = YearRecord.objects.filter(
        school=school, school_year=school_year, status=STEP_RULES[SigningStep(step)].before
    )
    if school_class is not None:
        records = records.filter(enrolment__school_class=school_class)
    return records.order_by("pk")


def _reauthenticate(actor: Any, password: str, otp_code: str) -> None:
    """Before signing or issuing: the password again, and a fresh second-factor code from those
    who have an authenticator (issue 10 §2)."""
    if not password or not actor.check_password(password):
        raise PermissionRefused(
            _("Mật khẩu xác nhận không đúng. Hãy nhập lại mật khẩu đăng nhập trước khi ký.")
        )
    twofactor.check_reauthentication(actor, otp_code)


def _authorisation(registered: SigningCertificate, pin: str) -> bytes | None:
    """Check the PIN opens the key now (a wrong PIN is told at once), then seal it.

    For remote signing the "PIN" is the password of the signer's account at the service; the
    confirmation on the phone comes later, once per batch.
    """
    if registered.adapter == AdapterKind.AGENT:
        return None  # the key never comes near the server: the sign-agent signs
    if not pin:
        raise DomainError(_("Hãy nhập mã PIN của khoá ký."), field="pin")
    adapter = registry.open_adapter(registered, {"pin": pin})
    adapter.close()
    return vault.seal({"pin": pin})


def start_batch(
    actor: Any,
    *,
    step: str,
    certificate: SigningCertificate,
    password: str,
    pin: str = "",
    otp_code: str = "",
    school_class: SchoolClass | None = None,
    school: School | None = None,
) -> SigningBatch:
    """Start signing every waiting record of a class (or school) at ``step``."""
    step = SigningStep(step)
    if school_class is not None:
        school = school_class.school
        school_year: SchoolYear | None = school_class.school_year
    elif school is not None:
        if step == SigningStep.TEACHER:
            raise DomainError(_("Giáo viên chủ nhiệm ký theo từng lớp."))
        school_year = current_school_year()
    else:
        raise ValueError("Give school_class or school.")
    if school_year is None:
        raise DomainError(_("Chưa có năm học nào."))
    if not may_sign(actor, step, school=school, school_class=school_class):
        raise PermissionRefused(
            _("Bạn không có quyền thực hiện bước “%(step)s” cho %(target)s.")
            % {"step": step.label, "target": school_class or school}
        )
    if not usable_certificates(actor, step, school).filter(pk=certificate.pk).exists():
        raise PermissionRefused(_("Bạn không thể ký bằng chứng thư số này."))
    _reauthenticate(actor, password, otp_code)
    registry.check_before_signing(certificate)
    try:
        authorisation = _authorisation(certificate, pin)
    except SignerError as error:
        raise DomainError(error.message, field="pin") from None
    now = timezone.now()
    with transaction.atomic():
        busy = SigningBatch.objects.filter(
            step=step,
            school=school,
            school_year=school_year,
            status__in=[BatchStatus.QUEUED, BatchStatus.RUNNING, BatchStatus.WAITING],
        )
        if school_class is not None:
            busy = busy.filter(school_class__in=[school_class, None])
        if busy.exists():
            raise DomainError(_("Đang có một lượt ký cùng bước chưa xong; hãy chờ hoặc huỷ nó."))
        records = list(
            records_for(step, school=school, school_class=school_class, school_year=school_year)
        )
        if not records:
            raise DomainError(
                _("Không có học bạ nào đang chờ bước “%(step)s”.") % {"step": step.label}
            )
        batch = SigningBatch.objects.create(
            step=step,
            school=school,
            school_year=school_year,
            school_class=school_class,
            certificate=certificate,
            signer_title=signer_title(actor, step),
            requested_by=actor,
            requested_at=now,
            total=len(records),
            authorisation=authorisation,
            authorisation_expires_at=now
            + timedelta(seconds=settings.SIGNING_AUTHORISATION_SECONDS),
        )
        SigningItem.objects.bulk_create([SigningItem(batch=batch, record=r) for r in records])
        record_event(
            actor=actor,
            action="signing.batch_started",
            obj=batch,
            school=school,
            changes={
                "step": step.value,
                "class": str(school_class) if school_class else None,
                "records": len(records),
                "certificate": certificate.serial_hex,
            },
        )
        if certificate.adapter != AdapterKind.AGENT:
            _enqueue(batch.pk)
    return batch


def may_see_batch(user: Any, batch: SigningBatch) -> bool:
    return batch.requested_by_id == user.pk or access.is_school_manager(user, batch.school)


def resume_batch(
    actor: Any, batch: SigningBatch, *, password: str, pin: str = "", otp_code: str = ""
) -> SigningBatch:
    """Continue a batch that stopped (wrong PIN, token removed, confirmation expired, TSA down).

    Items that failed are tried again; items already signed are never signed twice.
    """
    if batch.requested_by_id != actor.pk:
        raise PermissionRefused(_("Chỉ người đã bắt đầu lượt ký mới tiếp tục được."))
    if batch.status not in {BatchStatus.WAITING, BatchStatus.DONE}:
        raise DomainError(_("Lượt ký này đang chạy hoặc đã bị huỷ."))
    _reauthenticate(actor, password, otp_code)
    registry.check_before_signing(batch.certificate)
    try:
        authorisation = _authorisation(batch.certificate, pin)
    except SignerError as error:
        raise DomainError(error.message, field="pin") from None
    now = timezone.now()
    with transaction.atomic():
        locked = SigningBatch.objects.select_for_update().get(pk=batch.pk)
        retry = locked.items.filter(state__in=[ItemState.FAILED, ItemState.PREPARED])
        retried = retry.update(state=ItemState.PENDING, error="")
        if locked.status == BatchStatus.DONE and not retried:
            return locked
        locked.status = BatchStatus.QUEUED
        locked.failed_count = locked.items.filter(state=ItemState.FAILED).count()
        locked.message = ""
        locked.authorisation = authorisation
        locked.authorisation_expires_at = now + timedelta(
            seconds=settings.SIGNING_AUTHORISATION_SECONDS
        )
        locked.save()
        record_event(actor=actor, action="signing.batch_resumed", obj=locked, school=locked.school)
        if locked.certificate.adapter != AdapterKind.AGENT:
            _enqueue(locked.pk)
    return locked


def cancel_batch(actor: Any, batch: SigningBatch) -> None:
    """Stop a batch: what is signed stays signed, the rest is left for a new batch."""
    if not may_see_batch(actor, batch):
        raise PermissionRefused(_("Bạn không có quyền huỷ lượt ký này."))
    with transaction.atomic():
        locked = SigningBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status in {BatchStatus.DONE, BatchStatus.CANCELLED}:
            return
        locked.status = BatchStatus.CANCELLED
        locked.authorisation = None
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "authorisation", "finished_at"])
        record_event(
            actor=actor, action="signing.batch_cancelled", obj=locked, school=locked.school
        )


def requeue_stale_batches(older_than: timedelta | None = None) -> list[int]:
    """Queue again every RUNNING batch whose worker stopped beating (it died; no lease).

    The abandoned run, if only slow, stops at its next heartbeat (its attempt is no longer the
    batch's); items it committed stay signed and the new run signs only what is pending. Agent
    batches are left alone: they wait for the signer's computer, not for a worker.
    """
    seconds = settings.HOCBA_JOB_STALE_SECONDS if older_than is None else older_than.seconds
    cutoff = timezone.now() - timedelta(seconds=seconds)
    with transaction.atomic():
        stale = list(
            SigningBatch.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=BatchStatus.RUNNING, heartbeat_at__lt=cutoff)
            .exclude(certificate__adapter=AdapterKind.AGENT)
            .select_related("school")
        )
        for batch in stale:
            batch.status = BatchStatus.QUEUED
            batch.save(update_fields=["status"])
            record_event(
                actor=None,
                action="signing.batch_requeued",
                obj=batch,
                school=batch.school,
                changes={"attempt": batch.attempt, "heartbeat_at": batch.heartbeat_at},
            )
            _enqueue(batch.pk)
    return [batch.pk for batch in stale]


def _enqueue(batch_id: int) -> None:
    from hocba.signing import tasks

    transaction.on_commit(lambda: tasks.sign_batch.enqueue(batch_id))
