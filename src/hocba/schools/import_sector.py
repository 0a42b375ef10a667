"""Reading the sector database's Excel exports (CSDL ngành GD&ĐT, csdl.moet.gov.vn).

The sector database exports "Danh sách học sinh" and "Danh sách cán bộ, giáo viên, nhân viên"
with a title block (Sở/Phòng/Trường, title, school year) above one header row, the full name in one
column and Vietnamese column titles whose exact spelling is not published. This module finds the
header row of each sheet by matching known titles and their synonyms, ignoring accents, case,
punctuation and notes in brackets, and hands back the same :class:`SheetData` the template import
uses, so every problem is placed by sheet, row and column in the same way. Turning the rows into
an import plan is :mod:`hocba.schools.import_sector_plan`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import openpyxl
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from hocba.common.text import clean_text, fold
from hocba.schools.import_columns import Column, SheetSpec
from hocba.schools.import_parsing import (
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_SCANNED_ROWS,
    ImportIssue,
    ImportRejected,
    SheetData,
    file_bytes,
    not_xlsx,
)
from hocba.schools.models import Enrolment, Pupil, Staff

HEADER_SEARCH_ROWS = 20  # title block, blank spacer rows, sometimes a logo row
PUPILS, STAFF = "pupils", "staff"


@dataclass(frozen=True)
class SectorColumn:
    """A column of a sector export: ``synonyms`` are spellings seen in exports besides ``title``."""

    key: str
    title: str
    required: bool = False
    synonyms: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # plan keys read from this same column (name parts, class)


_FULL_NAME = ("Họ tên", "Họ và tên học sinh", "Họ tên học sinh", "Họ và tên cán bộ")
_DATE_OF_BIRTH = ("Ngày tháng năm sinh", "Ngày/tháng/năm sinh", "Ngày sinh (dd/mm/yyyy)")

PUPIL_COLUMNS = (
    SectorColumn("ministry_code", "Mã học sinh", True, ("Mã HS", "Mã học sinh (CSDL)")),
    SectorColumn(
        "full_name", "Họ và tên", True, _FULL_NAME, ("family_name", "middle_name", "given_name")
    ),
    SectorColumn("date_of_birth", "Ngày sinh", True, _DATE_OF_BIRTH),
    SectorColumn("sex", "Giới tính", True, ("Giới",)),
    SectorColumn("ethnicity", "Dân tộc"),
    SectorColumn("nationality", "Quốc tịch"),
    SectorColumn("birthplace", "Nơi sinh"),
    SectorColumn("hometown", "Quê quán"),
    SectorColumn(
        "address",
        "Nơi ở hiện nay",
        synonyms=("Địa chỉ", "Chỗ ở hiện nay", "Nơi ở hiện tại", "Địa chỉ thường trú"),
    ),
    SectorColumn(
        "personal_id",
        "Số định danh cá nhân",
        synonyms=("Mã định danh", "Mã định danh cá nhân", "Số định danh", "Số ĐDCN", "Số CCCD"),
    ),
    SectorColumn("school_class", "Lớp", True, ("Tên lớp", "Lớp học"), ("name",)),
    SectorColumn("grade", "Khối", synonyms=("Khối lớp",)),
    SectorColumn("father_name", "Họ tên cha", synonyms=("Họ và tên cha", "Tên cha")),
    SectorColumn("mother_name", "Họ tên mẹ", synonyms=("Họ và tên mẹ", "Tên mẹ")),
    SectorColumn("guardian_name", "Người giám hộ", synonyms=("Họ tên người giám hộ",)),
    SectorColumn("register_number", "Số đăng bộ"),
    SectorColumn("joined_on", "Ngày nhập học", synonyms=("Ngày vào trường", "Ngày chuyển đến")),
    SectorColumn("status", "Trạng thái", synonyms=("Trạng thái học sinh", "Tình trạng")),
)

STAFF_COLUMNS = (
    SectorColumn(
        "staff_code",
        "Mã cán bộ",
        True,
        ("Mã CB", "Mã CBGVNV", "Mã cán bộ giáo viên", "Mã nhân sự", "Mã giáo viên", "Mã GV"),
    ),
    SectorColumn(
        "full_name",
        "Họ và tên",
        True,
        _FULL_NAME,
        ("family_name", "middle_name", "given_name", "username"),
    ),
    SectorColumn("date_of_birth", "Ngày sinh", synonyms=_DATE_OF_BIRTH),
    SectorColumn("sex", "Giới tính", synonyms=("Giới",)),
    SectorColumn("position", "Chức vụ", synonyms=("Chức vụ hiện tại",), aliases=("roles",)),
    SectorColumn("job", "Vị trí việc làm", synonyms=("Vị trí", "Vị trí công việc", "Công việc")),
    SectorColumn("phone", "Số điện thoại", synonyms=("Điện thoại", "SĐT", "Di động")),
    SectorColumn("email", "Email", synonyms=("E-mail", "Thư điện tử")),
    SectorColumn("teaching", "Môn dạy", synonyms=("Môn giảng dạy", "Môn học giảng dạy")),
    SectorColumn(
        "homeroom_class",
        "Lớp chủ nhiệm",
        synonyms=("Chủ nhiệm lớp", "Lớp CN"),
        aliases=("name", "grade", "homeroom_teacher"),
    ),
    SectorColumn("status", "Trạng thái", synonyms=("Trạng thái làm việc", "Tình trạng")),
)

COLUMNS = {PUPILS: PUPIL_COLUMNS, STAFF: STAFF_COLUMNS}
# A sheet is a pupil list when it names these columns, a staff list when it names those.
_ANCHORS = {PUPILS: {"ministry_code", "full_name"}, STAFF: {"staff_code", "full_name"}}
_NUMBERING = re.compile(r"\(?\d{1,3}\)?")


def header_key(value: object) -> str:
    """Comparison form of a column title: no accents, case, punctuation or notes in brackets."""
    text = re.sub(r"\([^)]*\)", " ", clean_text(value))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(text)).split())


def _synonym_table(columns: tuple[SectorColumn, ...]) -> dict[str, str]:
    table: dict[str, str] = {}
    for column in columns:
        for title in (column.title, *column.synonyms):
            table.setdefault(header_key(title), column.key)
    return table


_TABLES = {kind: _synonym_table(columns) for kind, columns in COLUMNS.items()}


@dataclass
class SectorSheets:
    """The pupil and staff sheets found in a sector export (a file may hold several of each)."""

    pupils: list[SheetData] = field(default_factory=list)
    staff: list[SheetData] = field(default_factory=list)

    def all(self) -> list[SheetData]:
        return [*self.pupils, *self.staff]


def read_sector_workbook(file: Any) -> SectorSheets | None:
    """The sheets laid out as sector exports, or ``None`` when no sheet has a sector header.

    Raises :class:`ImportRejected` for a file that is not a readable .xlsx.
    """
    data = file_bytes(file)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a broken or hostile file can fail anywhere inside openpyxl
        raise not_xlsx() from exc
    try:
        sheets = SectorSheets()
        for worksheet in workbook.worksheets:
            sheet = _read_sheet(worksheet)
            if sheet is not None:
                getattr(sheets, sheet.spec.key).append(sheet)
    except ImportRejected:
        raise
    except Exception as exc:  # read-only mode parses lazily, so row reading can fail too
        raise not_xlsx() from exc
    finally:
        workbook.close()
    return sheets if sheets.all() else None


def _too_many_rows(sheet_name: str, kind: str) -> ImportRejected:
    message = _("Trang có quá nhiều dòng; tối đa %(n)s dòng dữ liệu mỗi lần nhập.")
    return ImportRejected([ImportIssue(sheet_name, message % {"n": MAX_ROWS[kind]})])


def _rows(worksheet: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The non-blank rows, read lazily so a sheet without a sector header costs little."""
    worksheet.reset_dimensions()  # some generators write a wrong used range
    count = 0
    for number, values in enumerate(
        worksheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1
    ):
        if number > MAX_SCANNED_ROWS or count > MAX_ROWS[PUPILS] + HEADER_SEARCH_ROWS:
            raise _too_many_rows(worksheet.title, PUPILS)
        if any(clean_text(value) for value in values):
            count += 1
            yield number, tuple(values)


def _matches(values: tuple[Any, ...], kind: str) -> dict[str, list[int]]:
    table = _TABLES[kind]
    found: dict[str, list[int]] = {}
    for index, value in enumerate(values):
        key = table.get(header_key(value)) if isinstance(value, str) else None
        if key is not None:
            found.setdefault(key, []).append(index)
    return found


def _find_header(
    rows: list[tuple[int, tuple[Any, ...]]],
) -> tuple[str, int, tuple[Any, ...], dict[str, list[int]]] | None:
    """The kind of list, the header row number, its cells and matches; ``None`` if not sector."""
    best: tuple[str, int, tuple[Any, ...], dict[str, list[int]]] | None = None
    for number, values in rows[:HEADER_SEARCH_ROWS]:
        for kind in (PUPILS, STAFF):
            found = _matches(values, kind)
            if _ANCHORS[kind] <= found.keys() and (best is None or len(found) > len(best[3])):
                best = (kind, number, values, found)
    return best


def _read_sheet(worksheet: Any) -> SheetData | None:
    reading = _rows(worksheet)
    rows = list(islice(reading, HEADER_SEARCH_ROWS))
    header = _find_header(rows)
    if header is None:
        return None
    rows += reading
    kind, header_number, values, found = header
    spec = _spec(kind, worksheet.title, values, found)
    sheet = SheetData(spec)
    _place_columns(sheet, kind, found, header_number)
    sheet.rows = [
        (number, row)
        for number, row in rows
        if number > header_number and not _is_numbering(row) and _has_identity(sheet, row)
    ]
    if len(sheet.rows) > MAX_ROWS[kind]:
        raise _too_many_rows(worksheet.title, kind)
    return sheet


# Plan keys some checks may name although the export has no such column, and how to title them.
_PLACEHOLDERS = {
    "joined_on": "Ngày nhập học",
    "entry_kind": "Hình thức",
    "register_number": "Số đăng bộ",
    "roles": "Chức vụ",
    "username": "Họ và tên",
    "teaching": "Môn dạy",
    "homeroom_teacher": "Lớp chủ nhiệm",
}
# Free-text columns checked against the length of the field they fill.
_TEXT_KEYS = {
    PUPILS: {
        "ethnicity",
        "nationality",
        "birthplace",
        "hometown",
        "address",
        "father_name",
        "mother_name",
        "guardian_name",
        "register_number",
    },
    STAFF: {"position", "phone"},
}


def _max_length(kind: str, key: str) -> int | None:
    if key not in _TEXT_KEYS[kind]:
        return None
    model = Enrolment if key == "register_number" else Pupil if kind == PUPILS else Staff
    limit = getattr(model._meta.get_field(key), "max_length", None)
    return limit if isinstance(limit, int) else None


def _spec(
    kind: str, sheet_title: str, values: tuple[Any, ...], found: dict[str, list[int]]
) -> SheetSpec:
    """Columns titled as the file titles them, so errors name the column the user sees."""
    columns: list[Column] = []
    for column in COLUMNS[kind]:
        indexes = found.get(column.key)
        title = clean_text(values[indexes[0]]) if indexes else column.title
        for key in (column.key, *column.aliases):
            required = column.required and key == column.key
            columns.append(Column(key, title, required, max_length=_max_length(kind, key)))
    known = {column.key for column in columns}
    columns += [Column(key, title) for key, title in _PLACEHOLDERS.items() if key not in known]
    return SheetSpec(key=kind, name=sheet_title, columns=tuple(columns), examples=())


def _place_columns(
    sheet: SheetData, kind: str, found: dict[str, list[int]], header_number: int
) -> None:
    for column in COLUMNS[kind]:
        indexes = found.get(column.key)
        if not indexes:
            if column.required:
                sheet.missing.add(column.key)
                sheet.issues.append(
                    ImportIssue(
                        sheet.spec.name,
                        _("Thiếu cột bắt buộc “%(title)s”.") % {"title": column.title},
                        column_title=column.title,
                    )
                )
            continue
        for key in (column.key, *column.aliases):
            sheet.header[key] = indexes[0]
        for extra in indexes[1:]:
            title = sheet.spec.column(column.key).title
            sheet.issues.append(
                ImportIssue(
                    sheet.spec.name,
                    _("Cột “%(title)s” xuất hiện nhiều lần.") % {"title": title},
                    header_number,
                    get_column_letter(extra + 1),
                    title,
                )
            )


def _is_numbering(values: tuple[Any, ...]) -> bool:
    """The row of column numbers "(1) (2) (3)…" some exports put under the header."""
    cells = [clean_text(value) for value in values if clean_text(value)]
    return len(cells) > 2 and all(_NUMBERING.fullmatch(cell) for cell in cells)


def _has_identity(sheet: SheetData, values: tuple[Any, ...]) -> bool:
    """A data row names a person or a code; signature blocks and totals below the list do not."""
    code_key = "ministry_code" if sheet.spec.key == PUPILS else "staff_code"
    code = _cell(sheet, values, code_key)
    name = _cell(sheet, values, "full_name")
    if code:
        return True
    return bool(name) and not header_key(name).startswith(("tong", "nguoi lap", "hieu truong"))


def _cell(sheet: SheetData, values: tuple[Any, ...], key: str) -> str:
    index = sheet.header.get(key)
    return clean_text(values[index]) if index is not None and index < len(values) else ""
