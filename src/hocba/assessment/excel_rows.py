"""Reading the data sheets of an uploaded grid workbook into candidate edits.

A sheet is trusted only if its identity lines and header rows are as downloaded. Each data row is
matched to a pupil by Mã học sinh (never by position); its name must match the code. A cell
becomes a candidate edit if it differs both from the value downloaded (kept in the hidden sheet)
and from the value stored now, so untouched cells never overwrite a change made on the web.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from hocba.assessment import services
from hocba.assessment.excel_files import (
    AssessmentImportIssue,
    cell_text,
    is_blank,
    too_many_rows,
)
from hocba.assessment.excel_grid import (
    CODE_COLUMN,
    EXTRA_COLUMNS,
    FIRST_IDENTITY_ROW,
    FIXED_TITLES,
    MAX_PUPIL_ROWS,
    NAME_COLUMN,
    GridColumn,
    GridSheet,
    Identity,
    StoredRows,
    as_text,
    parse_value,
    stored_value,
)
from hocba.assessment.excel_hidden import HiddenData, digest
from hocba.assessment.rules import RuleOptions, RuleSet
from hocba.common.errors import DomainError
from hocba.schools.import_columns import normalise
from hocba.schools.import_parsing import lost_zeros_message
from hocba.schools.models import Enrolment, Pupil, SchoolClass

CODE_DIGITS = 10


@dataclass(frozen=True)
class Candidate:
    """A changed cell, where it is in the file, and the edit that would store it."""

    sheet: GridSheet
    row: int
    column: GridColumn
    edit: services.CellEdit

    def issue(self, message: str) -> AssessmentImportIssue:
        return AssessmentImportIssue(
            self.sheet.name, message, self.row, self.column.letter, self.column.display_title
        )


@dataclass
class ReadContext:
    actor: Any
    school_class: SchoolClass
    identity: Identity
    rules: RuleSet
    options: RuleOptions
    hidden: HiddenData
    roster: dict[str, Enrolment]  # Mã học sinh -> current enrolment
    rows: StoredRows
    issues: list[AssessmentImportIssue] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)


def _cell(rows: list[tuple[Any, ...]], row: int, column: int) -> Any:
    if row > len(rows):
        return None
    values = rows[row - 1]
    return values[column - 1] if column <= len(values) else None


def read_sheet(
    ctx: ReadContext,
    sheet: GridSheet,
    expected: GridSheet | None,
    rows: list[tuple[Any, ...]],
) -> None:
    header_ok = _check_top(ctx, sheet, expected, rows)
    if not header_ok:
        return  # with columns moved or renamed no cell can be trusted to be what it says
    seen: dict[str, int] = {}
    pupil_rows = 0
    for number in range(sheet.first_data_row, len(rows) + 1):
        values = rows[number - 1]
        if all(is_blank(value) for value in values):
            continue
        pupil_rows += 1
        if pupil_rows > MAX_PUPIL_ROWS:
            raise too_many_rows(sheet.name, MAX_PUPIL_ROWS)
        _check_stray(ctx, sheet, rows, number)
        enrolment = _row_pupil(ctx, sheet, number, values, seen)
        if enrolment is not None:
            _read_cells(ctx, sheet, number, values, enrolment)


def _top_issue(
    sheet: GridSheet, row: int, column: int, title: str, message: str
) -> AssessmentImportIssue:
    return AssessmentImportIssue(sheet.name, message, row, get_column_letter(column), title)


def _check_top(
    ctx: ReadContext, sheet: GridSheet, expected: GridSheet | None, rows: list[tuple[Any, ...]]
) -> bool:
    """The identity lines and the header row are as downloaded; False if the header is not."""
    edited = _(
        "Ô này là thông tin nhận dạng của tệp, không được sửa: cần “%(v)s”, đang là “%(f)s”."
    )
    for offset, (label, value, checked) in enumerate(expected.identity_lines if expected else ()):
        row = FIRST_IDENTITY_ROW + offset
        found = cell_text(_cell(rows, row, 3))
        if checked and normalise(found) != normalise(value):
            message = edited % {"v": value, "f": found}
            ctx.issues.append(_top_issue(sheet, row, 3, label, message))
    moved = _(
        "Tiêu đề cột đã bị sửa hoặc cột đã bị di chuyển: cần “%(v)s”, đang là “%(f)s”. Hãy tải "
        "tệp mẫu mới và không thêm, xoá, đổi thứ tự cột."
    )
    checks = [
        (sheet.fixed_title_row, index, title) for index, title in enumerate(FIXED_TITLES, start=1)
    ]
    checks += [(sheet.header_row, column.index, column.title) for column in sheet.columns]
    checks += [(sheet.header_row - 1, first.index, first.group) for first, _l in sheet.groups()]
    header_ok = True
    for row, index, title in checks:
        found = cell_text(_cell(rows, row, index))
        if normalise(found) != normalise(title):
            header_ok = False
            ctx.issues.append(
                _top_issue(sheet, row, index, title, moved % {"v": title, "f": found})
            )
    return header_ok


def _check_stray(ctx: ReadContext, sheet: GridSheet, rows: list[tuple[Any, ...]], row: int) -> None:
    for index in range(sheet.last_column + 1, sheet.last_column + EXTRA_COLUMNS + 1):
        if not is_blank(_cell(rows, row, index)):
            title = cell_text(_cell(rows, sheet.header_row, index))
            ctx.issues.append(
                _top_issue(
                    sheet,
                    row,
                    index,
                    title,
                    _(
                        "Ô nằm ngoài các cột của bảng nên không được nhập; hãy xoá ô này hoặc "
                        "chuyển giá trị vào đúng cột."
                    ),
                )
            )


def _code(value: Any) -> tuple[str, str]:
    """The pupil code of a row and, if it cannot be read, why."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not value.is_integer():
            return "", _("Mã học sinh “%(v)s” không hợp lệ.") % {"v": value}
        digits = str(int(value))
        if len(digits) < CODE_DIGITS:
            return "", lost_zeros_message(digits, CODE_DIGITS, FIXED_TITLES[1])
        return digits, ""
    code = cell_text(value)
    return code, "" if code else _("Thiếu mã học sinh.")


def _row_pupil(
    ctx: ReadContext, sheet: GridSheet, row: int, values: tuple[Any, ...], seen: dict[str, int]
) -> Enrolment | None:
    """The enrolment a row is about, or None after recording why it cannot be used."""
    code, problem = _code(values[CODE_COLUMN - 1])
    code_title, name_title = FIXED_TITLES[CODE_COLUMN - 1], FIXED_TITLES[NAME_COLUMN - 1]
    enrolment = ctx.roster.get(code)
    snapshot = ctx.hidden.pupils.get((sheet.name, code))
    if not problem and code in seen:
        problem = _("Học sinh mã %(code)s đã có ở dòng %(row)s; mỗi học sinh chỉ một dòng.") % {
            "code": code,
            "row": seen[code],
        }
    elif not problem and enrolment is None:
        problem = (
            _("Học sinh mã %(code)s không có tên trong lớp %(c)s.")
            % {"code": code, "c": ctx.school_class.name}
            if Pupil.objects.filter(ministry_code=code).exists()
            else _("Không có học sinh nào mang mã “%(code)s”.") % {"code": code}
        )
    elif not problem and (snapshot is None or snapshot.enrolment_id != getattr(enrolment, "pk", 0)):
        problem = _("Học sinh mã %(code)s chưa có trong tệp lúc tải về; hãy tải tệp mẫu mới.") % {
            "code": code
        }
    if problem:
        ctx.issues.append(_top_issue(sheet, row, CODE_COLUMN, code_title, problem))
        return None
    seen[code] = row
    assert enrolment is not None
    name = cell_text(values[NAME_COLUMN - 1])
    if normalise(name) != normalise(enrolment.pupil.full_name):
        message = _(
            "Họ và tên “%(found)s” không khớp với học sinh mã %(code)s (%(name)s). Mã học sinh "
            "và họ tên không được sửa."
        ) % {"found": name, "code": code, "name": enrolment.pupil.full_name}
        ctx.issues.append(_top_issue(sheet, row, NAME_COLUMN, name_title, message))
        return None
    return enrolment


def _clean(raw: Any) -> Any:
    if isinstance(raw, str):
        return raw.replace("\r\n", "\n").replace("\r", "\n")
    return raw


def _normalised(ctx: ReadContext, column: GridColumn, raw: Any) -> str | None:
    """The text the service would store for ``raw``; None if it would refuse it."""
    try:
        return as_text(parse_value(column.address, raw, ctx.rules, ctx.options))
    except DomainError:
        return None


def _read_cells(
    ctx: ReadContext, sheet: GridSheet, row: int, values: tuple[Any, ...], enrolment: Enrolment
) -> None:
    snapshot = ctx.hidden.pupils[(sheet.name, enrolment.pupil.ministry_code)]
    for position, column in enumerate(sheet.columns):
        raw = _clean(values[column.index - 1])
        new = _normalised(ctx, column, raw)
        current = as_text(stored_value(ctx.rows, enrolment, column))
        if new is not None and (digest(new) == snapshot.digests[position] or new == current):
            continue  # untouched in the file, or already stored as it now reads
        edit = services.CellEdit(
            enrolment_id=enrolment.pk,
            address=column.address,
            value=None if is_blank(raw) else raw,
            expected_version=snapshot.versions.get(column.row_key, 0),
        )
        ctx.candidates.append(Candidate(sheet, row, column, edit))
