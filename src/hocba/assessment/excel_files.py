"""Reading uploaded assessment workbooks safely, the error list they produce, shared styles.

Nothing here touches the database. Every problem is an :class:`AssessmentImportIssue` naming the
sheet, the row and the column as Excel shows them (rows 1-based, columns by letter), the same shape
as the master-data import's errors (``hocba.schools.import_parsing.ImportIssue``), so pages show
both the same way. Problems with the file itself (not an .xlsx, too big, too many rows) reject the
file at once.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import openpyxl
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from hocba.common.errors import DomainError
from hocba.common.spreadsheet import (
    FileInput,
    SheetIssue,
    SpreadsheetFileError,
    not_xlsx_message,
    read_xlsx_upload,
)

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_UNZIPPED_BYTES = 60 * 1024 * 1024  # a small zip can unpack to gigabytes (zip bomb)
MAX_ARCHIVE_MEMBERS = 500
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
LOCKED_FILL = PatternFill("solid", fgColor="F2F2F2")
TITLE_FONT = Font(bold=True, size=14)
NOTE_FONT = Font(italic=True, color="595959")
THIN = Side(style="thin", color="A6A6A6")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP = Alignment(vertical="top", wrap_text=True)


# One problem in an uploaded assessment workbook, placed as Excel shows it.
AssessmentImportIssue = SheetIssue


class AssessmentImportRejected(DomainError):
    """The workbook was refused as a whole; ``errors`` lists every problem, in sheet order."""

    def __init__(
        self, errors: list[AssessmentImportIssue], sheet_order: list[str] | None = None
    ) -> None:
        order = {name: index for index, name in enumerate(sheet_order or [])}

        def position(issue: AssessmentImportIssue) -> tuple[int, int, int]:
            column = column_index_from_string(issue.column) if issue.column else 0
            return order.get(issue.sheet, -1), issue.row or 0, column

        self.errors = sorted(errors, key=position)
        count = len(errors)
        super().__init__(
            ngettext(
                "Tệp có %(n)s lỗi, chưa nhập dữ liệu nào.",
                "Tệp có %(n)s lỗi, chưa nhập dữ liệu nào.",
                count,
            )
            % {"n": count}
        )


def file_rejected(message: str, sheet: str = "") -> AssessmentImportRejected:
    return AssessmentImportRejected([AssessmentImportIssue(sheet=sheet, message=message)])


def not_xlsx() -> AssessmentImportRejected:
    return file_rejected(not_xlsx_message())


def too_many_rows(sheet: str, limit: int) -> AssessmentImportRejected:
    return file_rejected(
        _("Trang có quá nhiều dòng; tối đa %(n)s dòng mỗi trang.") % {"n": limit}, sheet
    )


def _file_bytes(file: FileInput) -> bytes:
    try:
        return read_xlsx_upload(
            file,
            max_bytes=MAX_FILE_BYTES,
            max_unzipped_bytes=MAX_UNZIPPED_BYTES,
            max_members=MAX_ARCHIVE_MEMBERS,
            too_big_message=_(
                "Tệp lớn hơn %(mb)s MB, quá lớn đối với tệp này; hãy tải tệp mẫu mới từ hệ thống."
            )
            % {"mb": MAX_FILE_BYTES // (1024 * 1024)},
        )
    except SpreadsheetFileError as error:
        raise file_rejected(error.message) from error


@contextmanager
def opened_workbook(file: FileInput) -> Iterator[Any]:
    """The workbook in read-only mode (values only); closed afterwards."""
    data = _file_bytes(file)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a broken or hostile file can fail anywhere inside openpyxl
        raise not_xlsx() from exc
    try:
        yield workbook
    finally:
        workbook.close()


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def sheet_rows(worksheet: Any, *, max_rows: int, max_col: int) -> list[tuple[Any, ...]]:
    """Every row of a sheet up to ``max_col`` columns (row ``n`` at index ``n - 1``).

    A sheet longer than ``max_rows`` is refused rather than read: a hostile file can declare a
    million rows, and read-only mode parses lazily, so reading errors surface here too.
    """
    rows: list[tuple[Any, ...]] = []
    try:
        for values in worksheet.iter_rows(max_col=max_col, values_only=True):
            if len(rows) >= max_rows:
                raise too_many_rows(worksheet.title, max_rows)
            rows.append(tuple(values) + (None,) * (max_col - len(values)))
    except DomainError:
        raise
    except Exception as exc:
        raise not_xlsx() from exc
    # Trailing blank rows (formatting left behind) carry nothing.
    while rows and all(is_blank(value) for value in rows[-1]):
        rows.pop()
    return rows


def cell_text(value: Any) -> str:
    """A cell as text the way Excel shows it: whole floats without ``.0``, trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def put(sheet: Worksheet, row: int, column: int, value: Any) -> Any:
    """Write one cell. Text is always text: never a formula, never an illegal control character."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"
    return cell


def write_row(sheet: Worksheet, row: int, values: list[Any]) -> None:
    for column, value in enumerate(values, start=1):
        if value is not None:
            put(sheet, row, column, value)


def style_header(cell: Any) -> None:
    cell.font, cell.fill, cell.border, cell.alignment = HEADER_FONT, HEADER_FILL, BORDER, CENTER


def set_widths(sheet: Worksheet, widths: Mapping[int, float]) -> None:
    for index, width in widths.items():
        sheet.column_dimensions[get_column_letter(index)].width = width


def workbook_bytes(workbook: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
