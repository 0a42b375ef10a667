"""The class summary table, "Bảng tổng hợp kết quả đánh giá giáo dục", for one period.

One row per pupil (Vietnamese name order): identity, then per subject the level and the periodic
test score where the subject is tested at that period, the qualities, the general and specific
competencies, and at the end of the year the year-end result (or "Chưa đủ dữ liệu" with the
missing fields in a cell note), the completion and the awards (DOMAIN §2.3-2.5). Printable:
A4 landscape, fitted to the page width, header rows repeated on every page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import openpyxl
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from hocba.assessment import selectors, year_end
from hocba.assessment.excel_files import BORDER, CENTER, put, style_header, workbook_bytes
from hocba.assessment.excel_grid import period_label
from hocba.assessment.models import CompetencyMark, Period, SubjectMark, YearEndRecord
from hocba.assessment.rules import Item, RuleSet
from hocba.assessment.yearend import EXCELLENT_AWARD
from hocba.audit.services import record_event
from hocba.common.errors import DomainError
from hocba.schools import access
from hocba.schools.models import Enrolment, SchoolClass

TITLE = "BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ GIÁO DỤC"
NOT_COMPUTABLE = "Chưa đủ dữ liệu"
EXEMPLARY_AWARD = "Học sinh Tiêu biểu hoàn thành tốt trong học tập và rèn luyện"
FIXED = (("STT", 5), ("Mã học sinh", 12), ("Họ và tên", 24), ("Ngày sinh", 11), ("Giới tính", 7))
GROUP_ROW, HEADER_ROW = 5, 6
FIRST_ROW = HEADER_ROW + 1
FONT = "Times New Roman"


@dataclass(frozen=True)
class _Column:
    group: str  # label above (a subject, or a list name such as "Phẩm chất chủ yếu")
    title: str
    width: float
    value: Any  # (enrolment) -> cell value


def summary_workbook(*, actor: Any, school_class: SchoolClass, period: str) -> bytes:
    """The summary of one class at one period; anyone who may view the class may download it."""
    access.require_view(actor, school_class)
    if period not in Period.values:
        raise DomainError(_("Thời điểm đánh giá không hợp lệ."))
    rules = selectors.rules_for(school_class.school_year)
    roster = selectors.class_enrolments(school_class)
    columns = _columns(school_class, rules, period, roster)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Tổng hợp"
    _write_title(sheet, school_class, rules, period, len(FIXED) + len(columns))
    _write_header(sheet, columns)
    for offset, enrolment in enumerate(roster):
        _write_pupil(sheet, FIRST_ROW + offset, offset + 1, enrolment, columns)
    _page_setup(sheet, len(FIXED) + len(columns))
    if access.is_above_school(actor):
        with transaction.atomic():
            record_event(
                actor=actor,
                action="assessment.excel.exported",
                obj=school_class,
                school=school_class.school,
                changes={"kind": "summary", "period": period},
            )
    return workbook_bytes(workbook)


def _columns(
    school_class: SchoolClass, rules: RuleSet, period: str, roster: list[Enrolment]
) -> list[_Column]:
    options = selectors.options_for(school_class.school_year)
    ids = [e.pk for e in roster]
    marks = {
        (m.enrolment_id, m.subject): m
        for m in SubjectMark.objects.filter(enrolment_id__in=ids, period=period)
    }
    levels = {
        (m.enrolment_id, m.item): m.level
        for m in CompetencyMark.objects.filter(enrolment_id__in=ids, period=period)
    }
    columns: list[_Column] = []
    for code in selectors.class_subjects(school_class, rules):
        label = rules.subject(code).label
        columns.append(_Column(label, "Mức", 5, _subject_value(marks, code, "level")))
        if rules.is_tested(code, school_class.grade, period, options):
            columns.append(_Column(label, "Điểm", 5, _subject_value(marks, code, "score")))
    items = rules.competency_items(school_class.grade, options)
    general = {item.code for item in rules.general_competencies}
    qualities = {item.code for item in rules.qualities}
    for group, chosen in (
        ("Phẩm chất chủ yếu", [i for i in items if i.code in qualities]),
        ("Năng lực chung", [i for i in items if i.code in general]),
        ("Năng lực đặc thù", [i for i in items if i.code not in general | qualities]),
    ):
        columns.extend(_item_column(group, item, levels) for item in chosen)
    if period == Period.CN:
        columns.extend(_year_end_columns(school_class))
    return columns


def _subject_value(marks: dict[tuple[int, str], SubjectMark], code: str, field: str) -> Any:
    def value(enrolment: Enrolment) -> Any:
        mark = marks.get((enrolment.pk, code))
        return getattr(mark, field) if mark is not None else None

    return value


def _item_column(group: str, item: Item, levels: dict[tuple[int, str], str]) -> _Column:
    return _Column(group, item.label, 6, lambda enrolment: levels.get((enrolment.pk, item.code)))


def _year_end_columns(school_class: SchoolClass) -> list[_Column]:
    evaluations = year_end.evaluate_class(school_class)
    records = {
        r.enrolment_id: r for r in YearEndRecord.objects.filter(enrolment_id__in=evaluations)
    }
    group = "Cuối năm học"

    def result(enrolment: Enrolment) -> Any:
        evaluation = evaluations.get(enrolment.pk)
        if evaluation is None or evaluation.result is None:
            missing = evaluation.missing if evaluation else []
            return (NOT_COMPUTABLE, "\n".join(missing[:12]))
        return evaluation.result

    def completion(enrolment: Enrolment) -> str:
        evaluation, record = evaluations.get(enrolment.pk), records.get(enrolment.pk)
        if evaluation is not None and evaluation.completion:
            return evaluation.completion
        if record is not None and record.summer_outcome == "completed":
            return record.completion
        return ""

    def awards(enrolment: Enrolment) -> str:
        evaluation, record = evaluations.get(enrolment.pk), records.get(enrolment.pk)
        names = [EXCELLENT_AWARD] if evaluation is not None and evaluation.award else []
        if record is not None and record.exemplary:
            names.append(EXEMPLARY_AWARD)
        if record is not None and record.adhoc_awards:
            names.append(record.adhoc_awards)
        return "; ".join(names)

    return [
        _Column(group, "Đánh giá kết quả giáo dục", 11, result),
        _Column(group, "Hoàn thành chương trình", 18, completion),
        _Column(group, "Khen thưởng", 22, awards),
    ]


def _write_title(
    sheet: Worksheet, school_class: SchoolClass, rules: RuleSet, period: str, width: int
) -> None:
    last = get_column_letter(width)
    school = school_class.school
    lines = [
        (TITLE, Font(name=FONT, bold=True, size=14)),
        (
            f"Trường: {school.name} ({school.code}) · Lớp: {school_class.name} · "
            f"Năm học: {school_class.school_year.name} · {period_label(rules, period)}",
            Font(name=FONT, size=12),
        ),
        (
            "Giáo viên chủ nhiệm: "
            + (school_class.homeroom_teacher.full_name if school_class.homeroom_teacher else "—"),
            Font(name=FONT, italic=True, size=11),
        ),
    ]
    for row, (text, font) in enumerate(lines, start=1):
        cell = put(sheet, row, 1, text)
        cell.font, cell.alignment = font, Alignment(horizontal="center")
        sheet.merge_cells(f"A{row}:{last}{row}")


def _write_header(sheet: Worksheet, columns: list[_Column]) -> None:
    font = Font(name=FONT, bold=True, size=10)
    for index, (title, width) in enumerate(FIXED, start=1):
        style_header(put(sheet, GROUP_ROW, index, title))
        style_header(sheet.cell(row=HEADER_ROW, column=index))
        sheet.merge_cells(
            start_row=GROUP_ROW, start_column=index, end_row=HEADER_ROW, end_column=index
        )
        sheet.column_dimensions[get_column_letter(index)].width = width
    start = len(FIXED) + 1
    run_start = start
    for offset, column in enumerate(columns):
        index = start + offset
        style_header(put(sheet, HEADER_ROW, index, column.title))
        style_header(sheet.cell(row=GROUP_ROW, column=index))
        sheet.column_dimensions[get_column_letter(index)].width = column.width
        is_last = offset + 1 == len(columns) or columns[offset + 1].group != column.group
        if is_last:
            put(sheet, GROUP_ROW, run_start, column.group)
            if index > run_start:
                sheet.merge_cells(
                    start_row=GROUP_ROW, start_column=run_start, end_row=GROUP_ROW, end_column=index
                )
            run_start = index + 1
    for row in (GROUP_ROW, HEADER_ROW):
        for cell in sheet[row]:
            cell.font = font
    sheet.row_dimensions[GROUP_ROW].height = 45
    sheet.row_dimensions[HEADER_ROW].height = 60


def _write_pupil(
    sheet: Worksheet, row: int, number: int, enrolment: Enrolment, columns: list[_Column]
) -> None:
    pupil = enrolment.pupil
    fixed = (
        number,
        pupil.ministry_code,
        pupil.full_name,
        pupil.date_of_birth,
        pupil.get_sex_display(),
    )
    values = [*fixed, *(column.value(enrolment) for column in columns)]
    font = Font(name=FONT, size=10)
    for index, value in enumerate(values, start=1):
        note = ""
        if isinstance(value, tuple):
            value, note = value
        cell = put(sheet, row, index, value)
        cell.font, cell.border = font, BORDER
        cell.alignment = CENTER if index not in (3,) else Alignment(vertical="center")
        if note:
            cell.comment = Comment(note, "hocba", width=320, height=200)
    sheet.cell(row=row, column=2).number_format = "@"
    sheet.cell(row=row, column=4).number_format = "DD/MM/YYYY"


def _page_setup(sheet: Worksheet, width: int) -> None:
    sheet.freeze_panes = sheet.cell(row=FIRST_ROW, column=len(FIXED) + 1)
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{GROUP_ROW}:{HEADER_ROW}"
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.print_options.horizontalCentered = True
    sheet.print_area = f"A1:{get_column_letter(width)}{max(sheet.max_row, FIRST_ROW)}"
