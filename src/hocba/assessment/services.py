"""Every change to assessment data (STYLE §2): cell edits with per-field history, locks, unlocks.

All edits of one call are applied all-or-nothing. Each edit names the row version it was made
against; a row changed in the meantime by someone else is refused with who and when, never
silently overwritten (optimistic concurrency, issue 3 §6).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hocba.assessment import cells, selectors
from hocba.assessment.cells import CellAddress
from hocba.assessment.models import (
    CellChange,
    Channel,
    CompetencyMark,
    Lock,
    Period,
    PupilYearFacts,
    SubjectMark,
)
from hocba.assessment.rules import RuleOptions, RuleSet
from hocba.audit.services import record_event
from hocba.common.errors import DomainError, PermissionRefused
from hocba.schools import access
from hocba.schools.models import Enrolment, SchoolClass

HOMEROOM_SCOPE = "__homeroom__"  # what a subject-specific lock never covers


@dataclass(frozen=True)
class CellEdit:
    enrolment_id: int
    address: CellAddress
    value: object
    expected_version: int | None = None  # None: no concurrency check (e.g. system jobs)


@dataclass(frozen=True)
class EditError:
    index: int
    edit: CellEdit
    message: str
    is_permission_refusal: bool = False  # the actor may not enter this cell at all (HTTP 403)
    is_conflict: bool = False  # someone else changed or created the row meanwhile (HTTP 409)


class EditConflict(DomainError):
    """The row changed since the editor read it; nothing of theirs was stored."""


class EditsRejected(DomainError):
    def __init__(self, errors: list[EditError]) -> None:
        super().__init__(_("Có %(n)s ô không hợp lệ, chưa lưu thay đổi nào.") % {"n": len(errors)})
        self.errors = errors


@dataclass(frozen=True)
class AppliedEdit:
    enrolment_id: int
    address: CellAddress
    value: object
    version: int


@dataclass
class _Context:
    school_class: SchoolClass
    rules: RuleSet
    options: RuleOptions
    enrolments: dict[int, Enrolment]
    locks: list[Lock]
    actor: Any
    # Each row's version before this batch: several cells of one row (a pasted "T, 9, comment")
    # are edited against the same version, and the row moves on by one version per batch.
    start_versions: dict[tuple[int, str, str, str], int] = dataclasses.field(default_factory=dict)


def _check_address(ctx: _Context, address: CellAddress) -> None:
    grade = ctx.school_class.grade
    if address.sheet == "facts":
        if address.key not in cells.FACT_LIMITS or address.field != "value" or address.period:
            raise DomainError(_("Ô không tồn tại."))
        return
    if address.period not in Period.values:
        raise DomainError(_("Thời điểm đánh giá không hợp lệ."))
    if address.sheet == "subject":
        if address.key not in selectors.class_subjects(ctx.school_class, ctx.rules):
            raise DomainError(_("Lớp này không học môn “%(s)s”.") % {"s": address.key})
        if address.field not in ("level", "score", "comment"):
            raise DomainError(_("Ô không tồn tại."))
        if address.field == "score" and not ctx.rules.is_tested(
            address.key, grade, address.period, ctx.options
        ):
            raise DomainError(
                _("Môn %(s)s không có bài kiểm tra định kì ở thời điểm này.")
                % {"s": ctx.rules.subject(address.key).label}
            )
        return
    if address.sheet == "competency":
        items = {item.code for item in ctx.rules.competency_items(grade, ctx.options)}
        if address.key not in items or address.field not in ("level", "comment"):
            raise DomainError(_("Khối %(g)s không đánh giá mục này.") % {"g": grade})
        return
    raise DomainError(_("Ô không tồn tại."))


def _check_permission(ctx: _Context, address: CellAddress) -> None:
    if address.sheet == "subject":
        allowed = access.can_enter_subject(ctx.actor, ctx.school_class, address.key)
    else:
        allowed = access.can_enter_homeroom(ctx.actor, ctx.school_class)
    if not allowed:
        raise PermissionRefused(_("Bạn không được phân công nhập ô này."))


def _check_lock(ctx: _Context, address: CellAddress) -> None:
    scope = address.key if address.sheet == "subject" else HOMEROOM_SCOPE
    if lock := selectors.lock_covering(ctx.locks, scope, address.period):
        raise DomainError(
            _("Ô đã bị khoá từ %(at)s (%(why)s). Cần hiệu trưởng hoặc quản trị nhà trường mở khoá.")
            % {
                "at": timezone.localtime(lock.locked_at).strftime("%d/%m/%Y %H:%M"),
                "why": lock.reason or _("đã hoàn thành nhập"),
            }
        )


def _parse(ctx: _Context, address: CellAddress, raw: object) -> object:
    if address.sheet == "facts":
        return cells.parse_fact(address.key, raw)
    if address.field == "comment":
        return cells.parse_comment(raw)
    if address.field == "score":
        return cells.parse_score(raw, ctx.options, ctx.rules)
    if address.sheet == "subject":
        return cells.parse_subject_level(raw)
    return cells.parse_competency_level(raw)


def _load_row(enrolment: Enrolment, address: CellAddress) -> Any:
    if address.sheet == "facts":
        return PupilYearFacts.objects.select_for_update().filter(enrolment=enrolment).first()
    if address.sheet == "subject":
        marks = SubjectMark.objects.filter(subject=address.key)
    else:
        marks = CompetencyMark.objects.filter(item=address.key)  # type: ignore[assignment]
    return marks.select_for_update().filter(enrolment=enrolment, period=address.period).first()


def _new_row(enrolment: Enrolment, address: CellAddress) -> Any:
    if address.sheet == "facts":
        return PupilYearFacts(enrolment=enrolment, version=0)
    if address.sheet == "subject":
        return SubjectMark(
            enrolment=enrolment, subject=address.key, period=address.period, version=0
        )
    return CompetencyMark(enrolment=enrolment, item=address.key, period=address.period, version=0)


def _stale_message(enrolment: Enrolment, address: CellAddress) -> str:
    changes = CellChange.objects.filter(enrolment=enrolment, sheet=address.sheet)
    if address.sheet != "facts":
        changes = changes.filter(key=address.key, period=address.period)
    last = changes.order_by("-at", "-id").first()
    who = last.actor_label if last else _("người khác")
    when = timezone.localtime(last.at).strftime("%H:%M %d/%m/%Y") if last else ""
    return _(
        "%(who)s vừa sửa dòng này lúc %(when)s. Giá trị của bạn chưa được lưu; hãy tải lại để "
        "xem giá trị mới rồi nhập lại."
    ) % {"who": who, "when": when}


def _field_name(address: CellAddress) -> str:
    return address.key if address.sheet == "facts" else address.field


def _as_text(value: object) -> str:
    return "" if value is None else str(value)


def _validate(ctx: _Context, edits: list[CellEdit]) -> tuple[list[object], list[EditError]]:
    parsed: list[object] = []
    errors: list[EditError] = []
    for index, edit in enumerate(edits):
        try:
            if edit.enrolment_id not in ctx.enrolments:
                raise DomainError(_("Học sinh không có tên trong lớp này."))
            _check_address(ctx, edit.address)
            _check_permission(ctx, edit.address)
            _check_lock(ctx, edit.address)
            parsed.append(_parse(ctx, edit.address, edit.value))
        except DomainError as error:
            refused = isinstance(error, PermissionRefused)
            errors.append(EditError(index, edit, error.message, is_permission_refusal=refused))
            parsed.append(None)
    return parsed, errors


def _context(actor: Any, school_class: SchoolClass) -> _Context:
    year = school_class.school_year
    enrolments = Enrolment.objects.filter(school_class=school_class, left_on__isnull=True)
    return _Context(
        school_class=school_class,
        rules=selectors.rules_for(year),
        options=selectors.options_for(year),
        enrolments={e.pk: e for e in enrolments.select_related("pupil")},
        locks=selectors.active_locks(school_class),
        actor=actor,
    )


@transaction.atomic
def apply_edits(
    *, actor: Any, school_class: SchoolClass, edits: list[CellEdit], channel: str = Channel.GRID
) -> list[AppliedEdit]:
    """Validate every edit, then store them all with their history, or store nothing."""
    if not access.can_view(actor, school_class):
        raise PermissionRefused(_("Bạn không có quyền với lớp này."))
    ctx = _context(actor, school_class)
    parsed, errors = _validate(ctx, edits)
    if errors:
        raise EditsRejected(errors)
    applied: list[AppliedEdit] = []
    for index, (edit, value) in enumerate(zip(edits, parsed, strict=True)):
        try:
            applied.append(_store(ctx, edit, value, channel))
        except DomainError as error:
            transaction.set_rollback(True)
            conflict = isinstance(error, EditConflict)
            raise EditsRejected(
                [EditError(index, edit, error.message, is_conflict=conflict)]
            ) from error
    # Report every cell with its row's version after the whole batch.
    final = {_row_key(a.enrolment_id, a.address): a.version for a in applied}
    return [
        dataclasses.replace(a, version=final[_row_key(a.enrolment_id, a.address)]) for a in applied
    ]


def _row_key(enrolment_id: int, address: CellAddress) -> tuple[int, str, str, str]:
    """Which stored row a cell lives in: a pupil's facts are one row whatever the field."""
    if address.sheet == "facts":
        return (enrolment_id, "facts", "", "")
    return (enrolment_id, address.sheet, address.key, address.period)


def _actor_label(user: Any) -> str:
    if user is None:
        return "hệ thống"
    staff = access.staff_of(user)
    return staff.full_name if staff else str(user.get_username())


def _store(ctx: _Context, edit: CellEdit, value: object, channel: str) -> AppliedEdit:
    enrolment = ctx.enrolments[edit.enrolment_id]
    address = edit.address
    row = _load_row(enrolment, address) or _new_row(enrolment, address)
    start_version = ctx.start_versions.setdefault(_row_key(enrolment.pk, address), row.version)
    if edit.expected_version is not None and edit.expected_version != start_version:
        raise EditConflict(_stale_message(enrolment, address))
    name = _field_name(address)
    old = getattr(row, name)
    if _as_text(old) == _as_text(value):
        return AppliedEdit(enrolment.pk, address, value, row.version)
    setattr(row, name, value)
    row.version = start_version + 1
    try:
        with transaction.atomic():  # a savepoint: another teacher may create the row first
            row.save()
    except IntegrityError:
        raise EditConflict(_stale_message(enrolment, address)) from None
    user = ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None
    CellChange.objects.create(
        enrolment=enrolment,
        sheet=address.sheet,
        key=address.key,
        period=address.period,
        field=name,
        old_value=_as_text(old),
        new_value=_as_text(value),
        actor=user,
        actor_label=_actor_label(user),
        channel=channel,
    )
    return AppliedEdit(enrolment.pk, address, value, row.version)


@transaction.atomic
def lock(
    *, actor: Any, school_class: SchoolClass, subject: str = "", period: str = "", reason: str = ""
) -> Lock:
    """Lock a class, a subject or a period. Teachers lock what they enter; managers anything."""
    allowed = access.can_unlock(actor, school_class) or (
        access.can_enter_subject(actor, school_class, subject)
        if subject
        else access.can_enter_homeroom(actor, school_class)
    )
    if not allowed:
        raise PermissionRefused(_("Bạn không có quyền khoá phần này."))
    if period and period not in Period.values:
        raise DomainError(_("Thời điểm đánh giá không hợp lệ."), field="period")
    rules = selectors.rules_for(school_class.school_year)
    if subject and subject not in selectors.class_subjects(school_class, rules):
        raise DomainError(_("Lớp này không học môn “%(s)s”.") % {"s": subject}, field="subject")
    created = Lock.objects.create(
        school_class=school_class, subject=subject, period=period, reason=reason, locked_by=actor
    )
    record_event(
        actor=actor,
        action="assessment.lock.created",
        obj=school_class,
        school=school_class.school,
        changes={"subject": subject, "period": period, "reason": reason},
    )
    return created


@transaction.atomic
def finish_class(*, actor: Any, school_class: SchoolClass) -> Lock:
    """The homeroom teacher's "finished": locks the whole class (issue 3 §6)."""
    if not access.can_enter_homeroom(actor, school_class):
        raise PermissionRefused(_("Chỉ giáo viên chủ nhiệm xác nhận hoàn thành lớp."))
    if Lock.objects.filter(
        school_class=school_class, is_class_finished=True, unlocked_at__isnull=True
    ).exists():
        raise DomainError(_("Lớp đã được xác nhận hoàn thành."))
    created = Lock.objects.create(
        school_class=school_class,
        is_class_finished=True,
        reason=_("Giáo viên chủ nhiệm xác nhận hoàn thành"),
        locked_by=actor,
    )
    record_event(
        actor=actor,
        action="assessment.class.finished",
        obj=school_class,
        school=school_class.school,
    )
    return created


@transaction.atomic
def unlock(*, actor: Any, lock_id: int, reason: str) -> Lock:
    """Open a lock: principal or school administrator only, always with a reason."""
    target = Lock.objects.select_for_update().select_related("school_class__school").get(pk=lock_id)
    if not access.can_unlock(actor, target.school_class):
        raise PermissionRefused(_("Chỉ hiệu trưởng hoặc quản trị nhà trường được mở khoá."))
    reason = " ".join(reason.split())
    if len(reason) < 5:
        raise DomainError(_("Cần ghi lý do mở khoá (ít nhất 5 ký tự)."), field="reason")
    if target.unlocked_at is not None:
        raise DomainError(_("Khoá này đã được mở."))
    target.unlocked_at = timezone.now()
    target.unlocked_by = actor
    target.unlock_reason = reason
    target.save(update_fields=["unlocked_at", "unlocked_by", "unlock_reason"])
    record_event(
        actor=actor,
        action="assessment.lock.opened",
        obj=target.school_class,
        school=target.school_class.school,
        changes={"subject": target.subject, "period": target.period, "reason": reason},
    )
    return target
