"""All-or-nothing Excel import of a school's classes, staff and pupils for one school year.

The file is read and checked completely first (:mod:`import_parsing`, :mod:`import_checks`); any
problem rejects the whole file with every error listed by sheet, row and column. A clean file is
written in one transaction through the ordinary service functions, so each change is audited.
The layout is documented in ``docs/import.md`` and in the template's "Hướng dẫn" sheet.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from hocba.audit.services import record_event
from hocba.common.errors import DomainError, PermissionRefused
from hocba.schools import access, services
from hocba.schools.import_checks import ImportPlan, build_plan
from hocba.schools.import_columns import SHEETS, SheetSpec
from hocba.schools.import_parsing import (
    FileInput,
    ImportIssue,
    ImportRejected,
    RowReader,
    file_rejected,
    read_workbook,
)
from hocba.schools.import_sector import read_sector_workbook
from hocba.schools.import_sector_plan import build_sector_plan
from hocba.schools.models import School, SchoolClass, SchoolYear, Staff

__all__ = [
    "ImportIssue",
    "ImportRejected",
    "ImportReport",
    "build_template",
    "import_workbook",
]

GUIDE_SHEET = "Hướng dẫn"

# Layouts of the uploaded file: our template, the sector database's export, or either.
LAYOUT_AUTO, LAYOUT_TEMPLATE, LAYOUT_SECTOR = "auto", "template", "csdl"
LAYOUTS = (LAYOUT_AUTO, LAYOUT_TEMPLATE, LAYOUT_SECTOR)


@dataclass
class ImportReport:
    """What a successful import wrote."""

    created_classes: list[str] = field(default_factory=list)
    updated_classes: list[str] = field(default_factory=list)  # homeroom teacher set
    created_staff: list[str] = field(default_factory=list)  # usernames, no password yet
    created_pupils: list[str] = field(default_factory=list)  # Ministry codes
    enrolled_pupils: list[str] = field(default_factory=list)  # known pupils enrolled this year
    teaching_assignments: int = 0
    layout: str = LAYOUT_TEMPLATE
    notes: list[ImportIssue] = field(default_factory=list)  # rows skipped on purpose

    @property
    def classes_created(self) -> int:
        return len(self.created_classes)

    @property
    def staff_created(self) -> int:
        return len(self.created_staff)

    @property
    def pupils_created(self) -> int:
        return len(self.created_pupils)

    @property
    def pupils_enrolled(self) -> int:
        return len(self.enrolled_pupils)

    def counts(self) -> dict[str, int]:
        return {
            "classes_created": self.classes_created,
            "classes_updated": len(self.updated_classes),
            "staff_created": self.staff_created,
            "teaching_assignments": self.teaching_assignments,
            "pupils_created": self.pupils_created,
            "pupils_enrolled": self.pupils_enrolled,
        }

    def summary(self) -> str:
        return _(
            "Đã nhập %(classes)s lớp mới (%(updated)s lớp được đặt giáo viên chủ nhiệm), "
            "%(staff)s cán bộ, %(teaching)s phân công giảng dạy, %(pupils)s học sinh mới và "
            "%(enrolled)s học sinh đã có được xếp lớp."
        ) % {
            "classes": self.classes_created,
            "updated": len(self.updated_classes),
            "staff": self.staff_created,
            "teaching": self.teaching_assignments,
            "pupils": self.pupils_created,
            "enrolled": self.pupils_enrolled,
        }


def import_workbook(
    *,
    actor: Any,
    school: School,
    school_year: SchoolYear,
    file: FileInput,
    layout: str = LAYOUT_AUTO,
) -> ImportReport:
    """Import a workbook, or raise :class:`ImportRejected` listing every error (nothing written).

    ``file`` is a path, bytes or a binary file object. ``layout`` is ``"template"`` (our
    template), ``"csdl"`` (a pupil or staff list exported by the sector database) or ``"auto"``:
    a file whose sheets carry a sector header row is read as an export, any other as the
    template. Raises ``PermissionRefused`` unless the actor may change the school's master data.
    """
    access.require_change(actor, school)
    if layout != LAYOUT_TEMPLATE:
        sector = read_sector_workbook(file)
        if sector is not None:
            built = build_sector_plan(sector, school=school, school_year=school_year)
            return _import_sector(actor, school, school_year, built.plan, built.issues, built.notes)
        if layout == LAYOUT_SECTOR:
            raise file_rejected(
                _(
                    "Không tìm thấy danh sách học sinh hay cán bộ xuất từ cơ sở dữ liệu ngành: "
                    "cần một dòng tiêu đề có các cột “Mã học sinh” (hoặc “Mã cán bộ”) và "
                    "“Họ và tên”."
                )
            )
    sheets = read_workbook(file)
    plan, issues = build_plan(sheets, school=school, school_year=school_year)
    if not issues and plan.is_empty():
        raise file_rejected(_("Tệp không có dòng dữ liệu nào để nhập."))
    if issues:
        raise ImportRejected(issues)
    try:
        return _write(actor=actor, school=school, school_year=school_year, plan=plan)
    except _StepFailed as failed:
        raise ImportRejected([failed.issue]) from failed.__cause__


def _import_sector(
    actor: Any,
    school: School,
    school_year: SchoolYear,
    plan: ImportPlan,
    issues: list[ImportIssue],
    notes: list[ImportIssue],
) -> ImportReport:
    if issues:
        raise ImportRejected(issues)
    notes = sorted(notes, key=ImportIssue.sort_key)
    if plan.is_empty():
        # Everyone is already in the school (a re-import) or was skipped: nothing to write.
        return ImportReport(layout=LAYOUT_SECTOR, notes=notes)
    try:
        report = _write(
            actor=actor,
            school=school,
            school_year=school_year,
            plan=plan,
            report=ImportReport(layout=LAYOUT_SECTOR, notes=notes),
        )
    except _StepFailed as failed:
        raise ImportRejected([failed.issue]) from failed.__cause__
    return report


class _StepFailed(Exception):
    def __init__(self, issue: ImportIssue) -> None:
        super().__init__(issue.message)
        self.issue = issue


@contextmanager
def _step(at: RowReader, key: str) -> Iterator[None]:
    """Turn a service's refusal into an error on the row being written (and roll back)."""
    try:
        yield
    except PermissionRefused:
        raise
    except DomainError as exc:
        column = exc.field if exc.field in at.sheet.header else key
        raise _StepFailed(at.issue(column, exc.message)) from exc


def _write(
    *,
    actor: Any,
    school: School,
    school_year: SchoolYear,
    plan: ImportPlan,
    report: ImportReport | None = None,
) -> ImportReport:
    report = report or ImportReport()
    extra: dict[str, Any] = {}
    if report.layout == LAYOUT_SECTOR:
        extra = {"layout": report.layout, "skipped": len(report.notes)}
    with transaction.atomic():
        staff = _write_staff(actor, school, plan, report)
        classes = _write_classes(actor, school, school_year, plan, staff, report)
        _write_teaching(actor, plan, staff, classes, report)
        _write_pupils(actor, plan, classes, report)
        record_event(
            actor=actor,
            action="schools.import.completed",
            obj=school,
            school=school,
            changes={
                "school_year": school_year.name,
                **report.counts(),
                "staff_usernames": report.created_staff,
                **extra,
            },
        )
    return report


def _write_staff(
    actor: Any, school: School, plan: ImportPlan, report: ImportReport
) -> dict[str, Staff]:
    staff = dict(plan.existing_staff)
    for row in plan.staff:
        with _step(row.at, "username"):
            staff[row.data.username] = services.create_staff(
                actor=actor, data=row.data, school=school, password=None
            )
        report.created_staff.append(row.data.username)
    return staff


def _write_classes(
    actor: Any,
    school: School,
    school_year: SchoolYear,
    plan: ImportPlan,
    staff: dict[str, Staff],
    report: ImportReport,
) -> dict[str, SchoolClass]:
    classes = dict(plan.existing_classes)
    for row in plan.classes:
        teacher = staff.get(row.homeroom_username) if row.homeroom_username else None
        existing = classes.get(row.name)
        with _step(row.at, "name"):
            if existing is None:
                classes[row.name] = services.create_class(
                    actor=actor,
                    school=school,
                    school_year=school_year,
                    grade=row.grade,
                    name=row.name,
                    homeroom_teacher=teacher,
                )
                report.created_classes.append(row.name)
            elif teacher is not None and existing.homeroom_teacher_id != teacher.pk:
                services.set_homeroom_teacher(actor=actor, school_class=existing, teacher=teacher)
                report.updated_classes.append(row.name)
    return classes


def _write_teaching(
    actor: Any,
    plan: ImportPlan,
    staff: dict[str, Staff],
    classes: dict[str, SchoolClass],
    report: ImportReport,
) -> None:
    for row in plan.staff:
        teacher = staff[row.data.username]
        for class_name, subject in row.teaching:
            with _step(row.at, "teaching"):
                services.assign_teaching(
                    actor=actor, teacher=teacher, school_class=classes[class_name], subject=subject
                )
            report.teaching_assignments += 1


def _write_pupils(
    actor: Any, plan: ImportPlan, classes: dict[str, SchoolClass], report: ImportReport
) -> None:
    for row in plan.pupils:
        enrolment = {
            "actor": actor,
            "school_class": classes[row.class_name],
            "joined_on": row.joined_on,
            "register_number": row.register_number,
            "entry_kind": row.entry_kind,
        }
        with _step(row.at, "ministry_code"):
            if row.existing is None:
                services.admit_pupil(data=row.data, **enrolment)
                report.created_pupils.append(row.data.ministry_code)
            else:
                services.enrol_pupil(pupil=row.existing, **enrolment)
                report.enrolled_pupils.append(row.data.ministry_code)


# The template -------------------------------------------------------------------------------

_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="top")


def build_template() -> bytes:
    """An empty workbook with the three data sheets and a "Hướng dẫn" sheet with examples."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for spec in SHEETS:
        _add_data_sheet(workbook.create_sheet(spec.name), spec)
    _add_guide_sheet(workbook.create_sheet(GUIDE_SHEET))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _add_data_sheet(sheet: Worksheet, spec: SheetSpec) -> None:
    sheet.append([column.title for column in spec.columns])
    for index, column in enumerate(spec.columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font, cell.fill = _BOLD, _HEADER_FILL
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        if column.as_text:
            # Text cells keep leading zeros and stop Excel reading 02/11 as 11 February.
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"


def _add_guide_sheet(sheet: Worksheet) -> None:
    sheet.append([_("Hướng dẫn nhập lớp, cán bộ và học sinh từ Excel")])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([_all_or_nothing_note()])
    sheet["A2"].alignment = _WRAP
    for spec in SHEETS:
        _add_guide_section(sheet, spec)
    for letter, width in zip("ABCDEFGHIJ", (24, 12, 90, 14, 14), strict=False):
        sheet.column_dimensions[letter].width = width


def _all_or_nothing_note() -> str:
    return _(
        "Mỗi trang “Lớp”, “Cán bộ”, “Học sinh” có dòng tiêu đề ở trên cùng; thứ tự cột tuỳ ý, "
        "cột thừa được bỏ qua, có thể bỏ cả trang không dùng. Tệp được nhập theo nguyên tắc "
        "tất cả hoặc không: chỉ cần một lỗi là không dữ liệu nào được ghi, và mọi lỗi được liệt "
        "kê theo trang, dòng, cột để sửa rồi tải lên lại."
    )


def _add_guide_section(sheet: Worksheet, spec: SheetSpec) -> None:
    sheet.append([])
    sheet.append([_("Trang “%(name)s”") % {"name": spec.name}])
    sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True, size=12)
    _bold_row(sheet, [_("Cột"), _("Bắt buộc"), _("Cách ghi")])
    for column in spec.columns:
        sheet.append([column.title, _("Có") if column.required else _("Không"), str(column.help)])
        sheet.cell(row=sheet.max_row, column=3).alignment = _WRAP
    sheet.append([_("Ví dụ:")])
    _bold_row(sheet, [column.title for column in spec.columns])
    for example in spec.examples:
        sheet.append(list(example))


def _bold_row(sheet: Worksheet, values: list[Any]) -> None:
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        cell.font = _BOLD
