"""Reading the master-data workbook safely: file checks, header rows and typed cells.

Nothing here touches the database. Every problem becomes an :class:`ImportIssue` naming the sheet,
the row and the column as Excel shows them; only problems with the file itself stop the reading.
"""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl.utils import column_index_from_string, get_column_letter

from hocba.common.errors import DomainError
from hocba.common.spreadsheet import (
    FileInput,
    SheetIssue,
    SpreadsheetFileError,
    not_xlsx_message,
    read_xlsx_upload,
)
from hocba.common.text import clean_text
from hocba.schools.import_columns import SHEET_ORDER, SHEETS, SheetSpec, normalise

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # a small zip can unpack to gigabytes (zip bomb)
MAX_ARCHIVE_MEMBERS = 2_000
MAX_SCANNED_ROWS = 100_000  # blank rows included
MAX_COLUMNS = 200
HEADER_SEARCH_ROWS = 10  # exports may put a title block above the header row
MAX_ROWS = {"classes": 500, "staff": 1_000, "pupils": 5_000}


_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


@dataclass(frozen=True)
class ImportIssue(SheetIssue):
    """One problem in the master-data file; sorted in the workbook's sheet order."""

    def sort_key(self) -> tuple[int, int, int]:
        column = column_index_from_string(self.column) if self.column else 0
        return SHEET_ORDER.get(self.sheet, -1), self.row or 0, column


class ImportRejected(DomainError):
    """The file was refused as a whole; ``errors`` lists every problem found."""

    def __init__(self, errors: list[ImportIssue]) -> None:
        self.errors = sorted(errors, key=ImportIssue.sort_key)
        count = len(errors)
        super().__init__(
            ngettext(
                "Tệp có %(n)s lỗi, chưa nhập dữ liệu nào.",
                "Tệp có %(n)s lỗi, chưa nhập dữ liệu nào.",
                count,
            )
            % {"n": count}
        )


def file_rejected(message: str) -> ImportRejected:
    return ImportRejected([ImportIssue(sheet="", message=message)])


def not_xlsx() -> ImportRejected:
    return file_rejected(not_xlsx_message())


@dataclass
class SheetData:
    """The rows of one sheet after its header row, with the column each key was found in."""

    spec: SheetSpec
    header: dict[str, int] = field(default_factory=dict)  # column key -> 0-based index
    missing: set[str] = field(default_factory=set)  # required columns not found
    rows: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)

    def readers(self) -> Iterator[RowReader]:
        for number, values in self.rows:
            yield RowReader(self, number, values)


def read_workbook(file: FileInput) -> dict[str, SheetData]:
    """The known sheets of the file by key; raises :class:`ImportRejected` for a bad file."""
    data = file_bytes(file)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a broken or hostile file can fail anywhere inside openpyxl
        raise not_xlsx() from exc
    try:
        return _read_sheets(workbook)
    except ImportRejected:
        raise
    except Exception as exc:  # read-only mode parses lazily, so row reading can fail too
        raise not_xlsx() from exc
    finally:
        workbook.close()


def file_bytes(file: FileInput) -> bytes:
    """An uploaded workbook's bytes within the import's size limits, or :class:`ImportRejected`."""
    try:
        return read_xlsx_upload(
            file,
            max_bytes=MAX_FILE_BYTES,
            max_unzipped_bytes=MAX_UNZIPPED_BYTES,
            max_members=MAX_ARCHIVE_MEMBERS,
            too_big_message=_("Tệp lớn hơn %(mb)s MB; hãy chia thành nhiều tệp nhỏ hơn.")
            % {"mb": MAX_FILE_BYTES // (1024 * 1024)},
        )
    except SpreadsheetFileError as error:
        raise file_rejected(error.message) from error


def _read_sheets(workbook: Any) -> dict[str, SheetData]:
    titles: dict[str, str] = {}
    for title in workbook.sheetnames:
        titles.setdefault(normalise(title), title)
    sheets: dict[str, SheetData] = {}
    for spec in SHEETS:
        title = titles.get(normalise(spec.name))
        if title is not None:
            sheets[spec.key] = _read_sheet(workbook[title], spec)
    if not sheets:
        raise file_rejected(_("Tệp không có trang tính nào tên “Lớp”, “Học sinh” hoặc “Cán bộ”."))
    return sheets


def _is_blank(values: tuple[Any, ...]) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in values)


def _non_blank_rows(worksheet: Any, spec: SheetSpec) -> list[tuple[int, tuple[Any, ...]]]:
    # Some generators write a wrong used range; read every row instead of trusting it.
    worksheet.reset_dimensions()
    limit = MAX_ROWS[spec.key] + HEADER_SEARCH_ROWS
    rows: list[tuple[int, tuple[Any, ...]]] = []
    for number, values in enumerate(
        worksheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1
    ):
        if number > MAX_SCANNED_ROWS:
            raise _too_many_rows(spec)
        if not _is_blank(values):
            rows.append((number, tuple(values)))
            if len(rows) > limit:
                raise _too_many_rows(spec)
    return rows


def _too_many_rows(spec: SheetSpec) -> ImportRejected:
    return ImportRejected(
        [
            ImportIssue(
                sheet=spec.name,
                message=_("Trang có quá nhiều dòng; tối đa %(n)s dòng dữ liệu mỗi lần nhập.")
                % {"n": MAX_ROWS[spec.key]},
            )
        ]
    )


def _read_sheet(worksheet: Any, spec: SheetSpec) -> SheetData:
    rows = _non_blank_rows(worksheet, spec)
    sheet = SheetData(spec)
    header_number = _read_header(sheet, rows[:HEADER_SEARCH_ROWS])
    sheet.rows = [(number, values) for number, values in rows if number > header_number]
    if len(sheet.rows) > MAX_ROWS[spec.key]:
        raise _too_many_rows(spec)
    return sheet


def _title_matches(values: tuple[Any, ...], spec: SheetSpec) -> dict[str, list[int]]:
    by_title = {normalise(column.title): column.key for column in spec.columns}
    found: dict[str, list[int]] = {}
    for index, value in enumerate(values):
        key = by_title.get(normalise(value)) if isinstance(value, str) else None
        if key is not None:
            found.setdefault(key, []).append(index)
    return found


def _read_header(sheet: SheetData, candidates: list[tuple[int, tuple[Any, ...]]]) -> int:
    """Find the header row (the one naming most known columns); return its row number."""
    best_number, best = 0, dict[str, list[int]]()
    for number, values in candidates:
        found = _title_matches(values, sheet.spec)
        if len(found) > len(best):
            best_number, best = number, found
    spec = sheet.spec
    for key, indexes in best.items():
        sheet.header[key] = indexes[0]
        for extra in indexes[1:]:
            title = spec.column(key).title
            sheet.issues.append(
                ImportIssue(
                    spec.name,
                    _("Cột “%(title)s” xuất hiện nhiều lần.") % {"title": title},
                    best_number,
                    get_column_letter(extra + 1),
                    title,
                )
            )
    for column in spec.columns:
        if column.required and column.key not in sheet.header:
            sheet.missing.add(column.key)
            message = _("Thiếu cột bắt buộc “%(title)s”.") % {"title": column.title}
            sheet.issues.append(ImportIssue(spec.name, message, column_title=column.title))
    return best_number


def parse_date_text(text: str) -> datetime.date | None:
    """``dd/mm/yyyy`` (also with ``-`` or ``.``) or ISO ``yyyy-mm-dd``; ``None`` if invalid."""
    if match := _DMY.fullmatch(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    else:
        return None
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _shown(value: Any, *, keep_lines: bool = False) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if keep_lines else clean_text(value)


class RowReader:
    """Typed access to the cells of one data row; problems are recorded, never raised."""

    def __init__(self, sheet: SheetData, row: int, values: tuple[Any, ...]) -> None:
        self.sheet = sheet
        self.row = row
        self.values = values
        self.flagged: set[str] = set()

    def raw(self, key: str) -> Any:
        index = self.sheet.header.get(key)
        if index is None or index >= len(self.values):
            return None
        value = self.values[index]
        return None if isinstance(value, str) and not value.strip() else value

    def issue(self, key: str, message: str) -> ImportIssue:
        index = self.sheet.header.get(key)
        return ImportIssue(
            sheet=self.sheet.spec.name,
            message=message,
            row=self.row,
            column=get_column_letter(index + 1) if index is not None else "",
            column_title=self.sheet.spec.column(key).title,
        )

    def flag(self, key: str, message: str) -> None:
        """Record a problem; one per cell, none for a missing column (reported once already)."""
        if key in self.flagged or key in self.sheet.missing:
            return
        self.flagged.add(key)
        self.sheet.issues.append(self.issue(key, message))

    def _present(self, key: str) -> Any:
        value = self.raw(key)
        column = self.sheet.spec.column(key)
        if value is None and column.required:
            self.flag(key, _("Chưa nhập “%(title)s”.") % {"title": column.title})
        return value

    def text(self, key: str) -> str:
        value = self._present(key)
        if value is None:
            return ""
        text = value.strftime("%d/%m/%Y") if isinstance(value, datetime.date) else _shown(value)
        return self._within_limit(key, text)

    def _within_limit(self, key: str, text: str) -> str:
        limit = self.sheet.spec.column(key).max_length
        if limit and len(text) > limit:
            self.flag(key, _("Dài %(n)s ký tự, tối đa %(max)s.") % {"n": len(text), "max": limit})
            return ""
        return text

    def parts(self, key: str, separators: str) -> list[str]:
        """A list cell split on any of ``separators`` (before line breaks are collapsed)."""
        value = self._present(key)
        if value is None:
            return []
        pieces = (
            clean_text(piece)
            for piece in re.split(f"[{separators}]", _shown(value, keep_lines=True))
        )
        return [piece for piece in pieces if piece]

    def code(self, key: str) -> str:
        """A code of digits. A number cell is read as its digits, but lost zeros are not guessed."""
        value = self._present(key)
        if value is None or isinstance(value, str):
            return self._within_limit(key, clean_text(value))
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if not is_number or (isinstance(value, float) and not value.is_integer()):
            self.flag(key, _("Cần một dãy chữ số, ô đang chứa “%(v)s”.") % {"v": _shown(value)})
            return ""
        digits = str(int(value))
        expected = self.sheet.spec.column(key).digits
        if expected and len(digits) < expected:
            self.flag(key, lost_zeros_message(digits, expected, self.sheet.spec.column(key).title))
            return ""
        return digits

    def date(self, key: str) -> datetime.date | None:
        value = self._present(key)
        if value is None:
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, str) and (parsed := parse_date_text(clean_text(value))):
            return parsed
        self.flag(
            key,
            _("“%(v)s” không phải là ngày hợp lệ; cần dạng dd/mm/yyyy, ví dụ 15/03/2018.")
            % {"v": _shown(value)},
        )
        return None

    def integer(self, key: str, low: int, high: int) -> int | None:
        value = self._present(key)
        if value is None:
            return None
        text = _shown(value) if not isinstance(value, bool) else ""
        if text.isascii() and text.isdigit() and low <= int(text) <= high:
            return int(text)
        self.flag(
            key,
            _("Cần một số từ %(low)s đến %(high)s, ô đang chứa “%(v)s”.")
            % {"low": low, "high": high, "v": _shown(value)},
        )
        return None

    def choice(self, key: str, words: dict[str, str], expected: str, default: str = "") -> str:
        """A value from a vocabulary (normalised label or code -> code); ``expected`` lists it."""
        value = self._present(key)
        if value is None:
            return default
        if (code := words.get(normalise(value))) is not None:
            return code
        self.flag(
            key,
            _("Giá trị “%(v)s” không hợp lệ; cần %(expected)s.")
            % {"v": _shown(value), "expected": expected},
        )
        return ""


def lost_zeros_message(digits: str, expected: int, title: str) -> str:
    return _(
        "“%(digits)s” chỉ có %(n)s chữ số, cần %(expected)s: có thể số 0 ở đầu đã bị mất vì ô "
        "đang ở dạng số. Hãy định dạng cột “%(title)s” là Văn bản (Text) rồi nhập lại."
    ) % {"digits": digits, "n": len(digits), "expected": expected, "title": title}
