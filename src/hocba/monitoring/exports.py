"""CSV and Excel exports of a dashboard table: the same figures, Vietnamese headers.

CSV is UTF-8 with a byte order mark, so that Excel opens the Vietnamese text correctly.
Percentages are numbers (one decimal), empty when there is nothing to divide by.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from hocba.monitoring.deadlines import dmy
from hocba.monitoring.reports import ClassReport, Report

Table = tuple[list[str], list[list[object]]]
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_table(report: Report) -> Table:
    """Header and rows: name, code, then per column its total, its count and its percentage."""
    header = [report.child_heading, _("Mã")]
    for column in report.columns:
        header += [
            column.total_header,
            column.header,
            _("%(column)s (%%)") % {"column": column.header},
        ]
    rows: list[list[object]] = []
    for row, cells in [*report.table, (None, report.total_cells)]:
        line: list[object] = [row.label if row else report.total_label, row.code if row else ""]
        for cell in cells:
            line += [cell.total, "" if cell.count is None else cell.count, _number(cell.percent)]
        rows.append(line)
    return header, rows


def class_table(report: ClassReport) -> Table:
    header = [
        _("STT"),
        _("Mã học sinh"),
        _("Họ và tên"),
        _("Ngày sinh"),
        _("Trạng thái học bạ"),
        _("Phiên bản"),
        _("Mã tra cứu"),
        _("Đã phát hành"),
        _("Đã đồng bộ lên cấp trên"),
    ]
    rows: list[list[object]] = []
    for number, line in enumerate(report.pupils, start=1):
        record = line.record
        rows.append(
            [
                number,
                line.pupil.ministry_code,
                line.pupil.full_name,
                dmy(line.pupil.date_of_birth),
                line.status_label,
                record.version if record else "",
                record.short_code if record else "",
                _yes_no(line.has_issued),
                "" if line.is_synced is None else _yes_no(line.is_synced),
            ]
        )
    return header, rows


def _number(value: float | None) -> object:
    return "" if value is None else value


def _yes_no(value: bool) -> str:
    return _("Có") if value else _("Không")


def to_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header, rows = table
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(table: Table, sheet_title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = _sheet_title(sheet_title)
    header, rows = table
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    sheet.freeze_panes = "C2"
    _widths(sheet, header, rows)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(title: str) -> str:
    for char in "[]:*?/\\":
        title = title.replace(char, " ")
    return title[:31] or "Sheet"


def _widths(sheet: object, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    for index, title in enumerate(header, start=1):
        longest = max([len(str(title)), *(len(str(row[index - 1])) for row in rows)])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(longest + 2, 8), 45)  # type: ignore[attr-defined]
