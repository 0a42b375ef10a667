"""Excel round-trip of the assessment grids, the class summary and the comment bank (issue 3 §5).

Download a filled workbook for a grid (:func:`grid_workbook`), fill it in Excel, upload it back
(:func:`import_grid_workbook`): all or nothing, through ``services.apply_edits`` with the
``import`` channel, every problem listed by sheet, row and column. The layout and the rules are
in ``docs/assessment-excel.md``. The class summary (:func:`summary_workbook`) and the comment
bank (:func:`export_comment_bank`, :func:`import_comment_bank`) live in their own modules and are
re-exported here.
"""

from __future__ import annotations

import decimal
from typing import Any

import openpyxl
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl.styles import Protection
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from hocba.assessment import selectors
from hocba.assessment.cells import COMMENT_MAX_LENGTH, FACT_LIMITS
from hocba.assessment.excel_comments import (
    CommentBankImportReport,
    can_use_comment_bank,
    export_comment_bank,
    import_comment_bank,
)
from hocba.assessment.excel_files import (
    BORDER,
    CENTER,
    HEADER_FONT,
    LOCKED_FILL,
    NOTE_FONT,
    TITLE_FONT,
    WRAP,
    XLSX_CONTENT_TYPE,
    AssessmentImportIssue,
    AssessmentImportRejected,
    put,
    set_widths,
    style_header,
    workbook_bytes,
)
from hocba.assessment.excel_grid import (
    CLASS,
    COMPETENCY,
    FACTS,
    FIRST_IDENTITY_ROW,
    FIXED_TITLES,
    HEADING_ROW,
    KINDS,
    NOTE_ROW,
    SUBJECT,
    GridColumn,
    GridSheet,
    Identity,
    StoredRows,
    as_text,
    grid_identity,
    grid_sheets,
    stored_rows,
    stored_value,
    stored_version,
)
from hocba.assessment.excel_hidden import pupil_record, write_hidden
from hocba.assessment.excel_import import GridImportReport, can_import_grid, import_grid_workbook
from hocba.assessment.excel_summary import summary_workbook
from hocba.assessment.rules import RuleOptions, RuleSet
from hocba.audit.services import record_event
from hocba.schools import access
from hocba.schools.models import Enrolment, SchoolClass

__all__ = [
    "CLASS",
    "COMPETENCY",
    "FACTS",
    "KINDS",
    "SUBJECT",
    "XLSX_CONTENT_TYPE",
    "AssessmentImportIssue",
    "AssessmentImportRejected",
    "CommentBankImportReport",
    "GridImportReport",
    "can_import_grid",
    "can_use_comment_bank",
    "export_comment_bank",
    "grid_identity",
    "grid_workbook",
    "import_comment_bank",
    "import_grid_workbook",
    "summary_workbook",
]

WIDTHS = {"level": 9, "score": 9, "comment": 48, "value": 12}
COMPETENCY_WIDTHS = {"level": 6, "comment": 30}


def grid_workbook(
    *, actor: Any, school_class: SchoolClass, kind: str, period: str = "", subject: str = ""
) -> bytes:
    """A filled workbook for one grid. Anyone who may view the class may download it."""
    access.require_view(actor, school_class)
    identity = grid_identity(school_class, kind, period, subject)
    rules = selectors.rules_for(school_class.school_year)
    options = selectors.options_for(school_class.school_year)
    sheets = grid_sheets(school_class, rules, options, identity)
    roster = selectors.class_enrolments(school_class)
    rows = stored_rows([e.pk for e in roster], sheets, identity.period)
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    records: list[list[Any]] = []
    for sheet in sheets:
        worksheet = workbook.create_sheet(sheet.name)
        _write_sheet(worksheet, sheet, roster, rows, rules, options)
        records.extend(_pupil_records(sheet, roster, rows))
    write_hidden(workbook, identity, sheets, records)
    # Sheets cannot be renamed, removed or unhidden without unprotecting (no password).
    workbook.security = WorkbookProtection(lockStructure=True)
    _audit_export(actor, school_class, identity)
    return workbook_bytes(workbook)


def _audit_export(actor: Any, school_class: SchoolClass, identity: Identity) -> None:
    """Pupils' data leaving the school for staff above it is logged, like any read of it."""
    if not access.is_above_school(actor):
        return
    with transaction.atomic():
        record_event(
            actor=actor,
            action="assessment.excel.exported",
            obj=school_class,
            school=school_class.school,
            changes={"kind": identity.kind, "subject": identity.subject, "period": identity.period},
        )


def _note(sheet: GridSheet, rules: RuleSet, options: RuleOptions) -> str:
    common = _(
        "Chỉ sửa các ô nền trắng; ô để trống sẽ xoá giá trị đã lưu. Không thêm, xoá hay đổi thứ "
        "tự cột; mỗi dòng được nhận ra bằng Mã học sinh."
    )
    if sheet.kind == SUBJECT:
        detail = _(
            "Mức đạt được: T (Hoàn thành tốt), H (Hoàn thành), C (Chưa hoàn thành). Điểm KTĐK: "
            "số nguyên từ %(lo)s đến 10."
        ) % {"lo": rules.score_range(options).start}
    elif sheet.kind == COMPETENCY:
        detail = _("Mức: T (Tốt), Đ (Đạt), C (Cần cố gắng).")
    else:
        detail = _(
            "Chiều cao (cm) và cân nặng (kg) ghi tối đa một chữ số thập phân; số ngày nghỉ là "
            "số nguyên."
        )
    return f"{common} {detail}"


def _write_sheet(
    worksheet: Worksheet,
    sheet: GridSheet,
    roster: list[Enrolment],
    rows: StoredRows,
    rules: RuleSet,
    options: RuleOptions,
) -> None:
    put(worksheet, HEADING_ROW, 1, sheet.heading).font = TITLE_FONT
    for offset, (label, value, _checked) in enumerate(sheet.identity_lines):
        put(worksheet, FIRST_IDENTITY_ROW + offset, 2, label).font = HEADER_FONT
        put(worksheet, FIRST_IDENTITY_ROW + offset, 3, value).number_format = "@"
    put(worksheet, NOTE_ROW, 1, _note(sheet, rules, options)).font = NOTE_FONT
    _write_header(worksheet, sheet)
    for offset, enrolment in enumerate(roster):
        _write_pupil(worksheet, sheet, sheet.first_data_row + offset, offset + 1, enrolment, rows)
    if roster:
        last_row = sheet.first_data_row + len(roster) - 1
        _add_validations(worksheet, sheet, last_row, rules.score_range(options).start)
    widths = {1: 5, 2: 13, 3: 26, 4: 11}
    for column in sheet.columns:
        table = COMPETENCY_WIDTHS if sheet.kind == COMPETENCY else WIDTHS
        widths[column.index] = table[column.address.field]
    set_widths(worksheet, widths)
    worksheet.freeze_panes = worksheet.cell(row=sheet.first_data_row, column=5)
    worksheet.protection.sheet = True
    # Column widths and row heights stay adjustable; only the content is protected.
    worksheet.protection.formatColumns = False
    worksheet.protection.formatRows = False
    worksheet.page_setup.orientation = "landscape"
    worksheet.page_setup.fitToWidth, worksheet.page_setup.fitToHeight = 1, 0
    worksheet.sheet_properties.pageSetUpPr.fitToPage = True
    worksheet.print_title_rows = f"{sheet.fixed_title_row}:{sheet.header_row}"


def _write_header(worksheet: Worksheet, sheet: GridSheet) -> None:
    header = sheet.header_row
    for index, title in enumerate(FIXED_TITLES, start=1):
        # Under a group row the fixed titles span both header rows (the value sits on top).
        style_header(put(worksheet, sheet.fixed_title_row, index, title))
        if sheet.has_group_row:
            style_header(worksheet.cell(row=header, column=index))
            worksheet.merge_cells(
                start_row=header - 1, start_column=index, end_row=header, end_column=index
            )
    for column in sheet.columns:
        style_header(put(worksheet, header, column.index, column.title))
        if column.group:
            style_header(worksheet.cell(row=header - 1, column=column.index))
    for first, last in sheet.groups():
        put(worksheet, header - 1, first.index, first.group)
        worksheet.merge_cells(
            start_row=header - 1,
            start_column=first.index,
            end_row=header - 1,
            end_column=last.index,
        )


def _display(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def _write_pupil(
    worksheet: Worksheet,
    sheet: GridSheet,
    row: int,
    number: int,
    enrolment: Enrolment,
    rows: StoredRows,
) -> None:
    pupil = enrolment.pupil
    fixed = (number, pupil.ministry_code, pupil.full_name, pupil.date_of_birth)
    for index, value in enumerate(fixed, start=1):
        cell = put(worksheet, row, index, value)
        cell.fill, cell.border = LOCKED_FILL, BORDER
    worksheet.cell(row=row, column=2).number_format = "@"
    worksheet.cell(row=row, column=4).number_format = "DD/MM/YYYY"
    for column in sheet.columns:
        cell = put(worksheet, row, column.index, _display(stored_value(rows, enrolment, column)))
        cell.protection = Protection(locked=False)
        cell.border = BORDER
        if column.address.field == "comment":
            cell.alignment = WRAP
        else:
            cell.alignment = CENTER
        if column.address.key in ("height_cm", "weight_kg"):
            cell.number_format = "0.0"


def _pupil_records(sheet: GridSheet, roster: list[Enrolment], rows: StoredRows) -> list[list[Any]]:
    records = []
    row_keys = list(dict.fromkeys((c.address.sheet, c.row_key) for c in sheet.columns))
    for enrolment in roster:
        versions = {key: stored_version(rows, enrolment.pk, kind, key) for kind, key in row_keys}
        values = [as_text(stored_value(rows, enrolment, column)) for column in sheet.columns]
        records.append(
            pupil_record(sheet, enrolment.pupil.ministry_code, enrolment.pk, versions, values)
        )
    return records


def _validation(column: GridColumn, score_low: int) -> DataValidation:
    field, key = column.address.field, column.address.key
    if field == "level":
        codes = "T,H,C" if column.address.sheet == "subject" else "T,Đ,C"
        rule = DataValidation(type="list", formula1=f'"{codes}"', allow_blank=True)
        rule.error = _("Chỉ chọn một trong các mức %(codes)s.") % {"codes": codes}
    elif field == "score":
        rule = DataValidation(
            type="whole", operator="between", formula1=str(score_low), formula2="10"
        )
        rule.error = _("Điểm là số nguyên từ %(lo)s đến 10.") % {"lo": score_low}
    elif field == "comment":
        rule = DataValidation(
            type="textLength", operator="lessThanOrEqual", formula1=str(COMMENT_MAX_LENGTH)
        )
        rule.error = _("Nhận xét tối đa %(max)s ký tự.") % {"max": COMMENT_MAX_LENGTH}
    else:
        low, high, integer_only = FACT_LIMITS[key]
        kind = "whole" if integer_only else "decimal"
        rule = DataValidation(type=kind, operator="between", formula1=str(low), formula2=str(high))
        rule.error = _("Cần một số từ %(lo)s đến %(hi)s.") % {"lo": low, "hi": high}
    rule.allow_blank = True
    rule.showErrorMessage = True
    rule.errorTitle = _("Giá trị không hợp lệ")
    return rule


def _add_validations(worksheet: Worksheet, sheet: GridSheet, last_row: int, score_low: int) -> None:
    for column in sheet.columns:
        rule = _validation(column, score_low)
        worksheet.add_data_validation(rule)
        rule.add(f"{column.letter}{sheet.first_data_row}:{column.letter}{last_row}")
