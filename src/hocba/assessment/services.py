"""Every change to assessment data (STYLE §2): cell edits with per-field history, locks, unlocks.

All edits of one call are applied all-or-nothing. Each edit names the row version it was made
against; a row changed in the meantime by someone else is refused with who and when, never
silently overwritten (optimistic concurrency, issue 3 §6).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, models, transaction
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
    # Per-batch caches: what the class studies and what the actor may enter.
    subjects: list[str] = dataclasses.field(default_factory=list)
    allowed: dict[tuple[str, str], bool] = dataclasses.field(default_factory=dict)


def _check_address(ctx: _Context, address: CellAddress) -> None:
    grade = ctx.school_class.grade
    if address.sheet == "facts":
        if address.key not in cells.FACT_LIMITS or address.field != "value" or address.period:
            raise DomainError(_("Ô không tồn tại."))
        return
    if address.period not in Period.values:
        raise DomainError(_("Thời điểm đánh giá không hợp lệ."))
    if address.sheet == "subject":
        if address.key not in ctx.subjects:
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
    scope = (address.sheet, address.key if address.sheet == "subject" else "")
    if scope not in ctx.allowed:
        ctx.allowed[scope] = (
            access.can_enter_subject(ctx.actor, ctx.school_class, address.key)
            if address.sheet == "subject"
            else access.can_enter_homeroom(ctx.actor, ctx.school_class)
        )
    if not ctx.allowed[scope]:
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


def _new_row(enrolment: Enrolment, address: CellAddress) -> Any:
    if address.sheet == "facts":
        return PupilYearFacts(enrolment=enrolment, version=0)
    if address.sheet == "subject":
        return SubjectMark(
            enrolment=enrolment, subject=address.key, period=address.period, version=0
        )
    return CompetencyMark(enrolment=enrolment, item=address.key, period=address.period, version=0)


def stale_message(enrolment: Enrolment, address: CellAddress) -> str:
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
    rules = selectors.rules_for(year)
    return _Context(
        school_class=school_class,
        rules=rules,
        options=selectors.options_for(year),
        enrolments={e.pk: e for e in enrolments.select_related("pupil")},
        locks=selectors.active_locks(school_class),
        actor=actor,
        subjects=selectors.class_subjects(school_class, rules),
    )


@transaction.atomic
def apply_edits(
    *, actor: Any, school_class: SchoolClass, edits: list[CellEdit], channel: str = Channel.GRID
) -> list[AppliedEdit]:
    """Validate every edit, then store them all with their history, or store nothing.

    Rows are read once per batch (locked ``FOR UPDATE``) and written in bulk, so a whole class
    file costs a handful of queries, not several per cell.
    """
    if not access.can_view(actor, school_class):
        raise PermissionRefused(_("Bạn không có quyền với lớp này."))
    ctx = _context(actor, school_class)
    parsed, errors = _validate(ctx, edits)
    if errors:
        raise EditsRejected(errors)
    batch = _Batch(ctx, _preload_rows(edits), channel)
    applied = [
        batch.apply(index, edit, value)
        for index, (edit, value) in enumerate(zip(edits, parsed, strict=True))
    ]
    batch.write()
    return [
        dataclasses.replace(a, version=batch.rows[_row_key(a.enrolment_id, a.address)].version)
        for a in applied
    ]


RowKey = tuple[int, str, str, str]


def _row_key(enrolment_id: int, address: CellAddress) -> RowKey:
    """Which stored row a cell lives in: a pupil's facts are one row whatever the field."""
    if address.sheet == "facts":
        return (enrolment_id, "facts", "", "")
    return (enrolment_id, address.sheet, address.key, address.period)


def _preload_rows(edits: list[CellEdit]) -> dict[RowKey, Any]:
    """Every stored row the batch touches, locked for the rest of the transaction."""
    rows: dict[RowKey, Any] = {}
    by_sheet: dict[str, list[CellAddress]] = {}
    enrolment_ids = {edit.enrolment_id for edit in edits}
    for edit in edits:
        by_sheet.setdefault(edit.address.sheet, []).append(edit.address)
    if addresses := by_sheet.get("subject"):
        for mark in SubjectMark.objects.select_for_update().filter(
            enrolment_id__in=enrolment_ids,
            subject__in={a.key for a in addresses},
            period__in={a.period for a in addresses},
        ):
            rows[(mark.enrolment_id, "subject", mark.subject, mark.period)] = mark
    if addresses := by_sheet.get("competency"):
        for cmark in CompetencyMark.objects.select_for_update().filter(
            enrolment_id__in=enrolment_ids,
            item__in={a.key for a in addresses},
            period__in={a.period for a in addresses},
        ):
            rows[(cmark.enrolment_id, "competency", cmark.item, cmark.period)] = cmark
    if "facts" in by_sheet:
        for facts in PupilYearFacts.objects.select_for_update().filter(
            enrolment_id__in=enrolment_ids
        ):
            rows[(facts.enrolment_id, "facts", "", "")] = facts
    return rows


def _actor_label(user: Any) -> str:
    if user is None:
        return "hệ thống"
    staff = access.staff_of(user)
    return staff.full_name if staff else str(user.get_username())


class _Batch:
    """The rows of one apply_edits call, changed in memory, then written in bulk."""

    def __init__(self, ctx: _Context, rows: dict[RowKey, Any], channel: str) -> None:
        self.ctx = ctx
        self.rows = rows
        self.channel = channel
        self.user = ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None
        self.actor_label = _actor_label(self.user)
        self.start_versions: dict[RowKey, int] = {}
        self.new_rows: dict[RowKey, tuple[int, CellEdit]] = {}
        self.dirty: dict[RowKey, Any] = {}
        self.changes: list[CellChange] = []

    def apply(self, index: int, edit: CellEdit, value: object) -> AppliedEdit:
        enrolment = self.ctx.enrolments[edit.enrolment_id]
        key = _row_key(enrolment.pk, edit.address)
        if key not in self.rows:
            self.rows[key] = _new_row(enrolment, edit.address)
            self.new_rows[key] = (index, edit)
        row = self.rows[key]
        start = self.start_versions.setdefault(key, row.version)
        if edit.expected_version is not None and edit.expected_version != start:
            message = stale_message(enrolment, edit.address)
            raise EditsRejected([EditError(index, edit, message, is_conflict=True)])
        name = _field_name(edit.address)
        old = getattr(row, name)
        if _as_text(old) != _as_text(value):
            setattr(row, name, value)
            row.version = start + 1
            self.dirty[key] = row
            self.changes.append(self._change(enrolment, edit.address, name, old, value))
        return AppliedEdit(enrolment.pk, edit.address, value, row.version)

    def _change(
        self, enrolment: Enrolment, address: CellAddress, name: str, old: object, new: object
    ) -> CellChange:
        return CellChange(
            enrolment=enrolment,
            sheet=address.sheet,
            key=address.key,
            period=address.period,
            field=name,
            old_value=_as_text(old),
            new_value=_as_text(new),
            actor=self.user,
            actor_label=self.actor_label,
            channel=self.channel,
        )

    def write(self) -> None:
        now = timezone.now()
        created: dict[type[models.Model], list[Any]] = {}
        updated: dict[type[models.Model], list[Any]] = {}
        for key, row in self.dirty.items():
            row.updated_at = now
            (created if key in self.new_rows else updated).setdefault(type(row), []).append(row)
        for model, rows in updated.items():
            model._default_manager.bulk_update(rows, [*_EDITABLE[model], "version", "updated_at"])
        try:
            with transaction.atomic():  # a savepoint: another teacher may create a row first
                for model, rows in created.items():
                    model._default_manager.bulk_create(rows)
        except IntegrityError:
            index, edit = next(iter(self.new_rows.values()))
            enrolment = self.ctx.enrolments[edit.enrolment_id]
            message = stale_message(enrolment, edit.address)
            raise EditsRejected([EditError(index, edit, message, is_conflict=True)]) from None
        CellChange.objects.bulk_create(self.changes)


_EDITABLE: dict[type[models.Model], list[str]] = {
    SubjectMark: ["level", "score", "comment"],
    CompetencyMark: ["level", "comment"],
    PupilYearFacts: list(cells.FACT_LIMITS),
}


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
