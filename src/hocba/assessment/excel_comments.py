"""Comment bank (bảng mã nhận xét) to and from Excel: a school's shared bank or a teacher's own.

Columns: Mã, Môn học/Phẩm chất/Năng lực (label or code; empty for a general comment), Nội dung.
The import is all or nothing with errors by row and column; a code already in the bank is updated,
a new code is created, codes not in the file are kept. Each created or changed entry is audited in
the same transaction. The shared bank is kept by the school's managers, a teacher's own bank by the
teacher (docs/assessment-excel.md).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import openpyxl
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from hocba.assessment import comment_bank
from hocba.assessment.cells import COMMENT_MAX_LENGTH
from hocba.assessment.excel_files import (
    NOTE_FONT,
    WRAP,
    AssessmentImportIssue,
    AssessmentImportRejected,
    cell_text,
    file_rejected,
    is_blank,
    opened_workbook,
    put,
    set_widths,
    sheet_rows,
    style_header,
    workbook_bytes,
)
from hocba.assessment.models import CommentBankEntry
from hocba.assessment.rules import available_versions, load_ruleset
from hocba.common.errors import DomainError, PermissionRefused
from hocba.common.spreadsheet import FileInput
from hocba.schools import access
from hocba.schools.import_columns import normalise
from hocba.schools.models import School, Staff

SHEET_NAME = "Mã nhận xét"
GUIDE_SHEET = "Môn, phẩm chất, năng lực"
COLUMNS = (
    ("code", "Mã", ("mã", "mã nhận xét")),
    (
        "target",
        "Môn học/Phẩm chất/Năng lực",
        ("môn học/phẩm chất/năng lực", "môn học", "áp dụng cho"),
    ),
    ("text", "Nội dung", ("nội dung", "nội dung nhận xét", "nhận xét")),
)
HEADER_SEARCH_ROWS = 5
MAX_ROWS = 2_000
CODE_MAX_LENGTH = 20  # a code is usable in a comment cell as "#CODE" (comment_bank.CODE_PATTERN)


@dataclass
class CommentBankImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0

    def summary(self) -> str:
        return _("Đã thêm %(c)s mã, sửa %(u)s mã, %(n)s mã không đổi.") % {
            "c": len(self.created),
            "u": len(self.updated),
            "n": self.unchanged,
        }


GENERAL_WORDS = ("chung", "dùng chung")  # what the comment bank pages show for no target


@cache
def _targets() -> tuple[dict[str, str], dict[str, set[str]]]:
    """Code -> label to write, and normalised word -> codes it may mean (all rule sets)."""
    labels: dict[str, str] = {}
    prefixed: dict[str, str] = {}
    words: dict[str, set[str]] = {}
    for version in available_versions():
        rules = load_ruleset(version)
        entries = [("Môn", s.code, s.label) for s in rules.subjects]
        entries += [("Phẩm chất", i.code, i.label) for i in rules.qualities]
        entries += [("Năng lực", i.code, i.label) for i in rules.general_competencies]
        entries += [("Năng lực", i.code, i.label) for i, _g in rules.specific_competencies]
        for prefix, code, label in entries:
            labels.setdefault(code, label)
            prefixed.setdefault(code, f"{prefix} {label}")
            spellings = {code, label, f"{prefix} {label}"}
            if short := re.search(r"\(([^)]+)\)$", label):
                spellings.add(short.group(1))
            for spelling in spellings:
                words.setdefault(normalise(spelling), set()).add(code)
    # A label shared by two targets ("Khoa học": subject and competency) is written with its kind.
    written = {
        code: label if words[normalise(label)] == {code} else prefixed[code]
        for code, label in labels.items()
    }
    return written, words


def target_label(code: str) -> str:
    return _targets()[0].get(code, code) if code else ""


def can_use_comment_bank(actor: Any, school: School, owner: Staff | None, *, writing: bool) -> bool:
    """The shared bank: read by the school's staff, kept by its managers; an own bank: its
    teacher's alone."""
    if owner is None:
        return access.can_change(actor, school) if writing else access.can_view(actor, school)
    staff = access.staff_of(actor)
    return staff is not None and staff.pk == owner.pk and owner.school_id == school.pk


def _owner_check(actor: Any, school: School, owner: Staff | None, *, writing: bool) -> None:
    if can_use_comment_bank(actor, school, owner, writing=writing):
        return
    if owner is None:
        raise PermissionRefused(
            _("Chỉ ban giám hiệu và quản trị nhà trường được sửa bảng mã nhận xét chung.")
        )
    raise PermissionRefused(_("Chỉ giáo viên sở hữu bảng mã nhận xét riêng được dùng bảng đó."))


def _entries(school: School, owner: Staff | None) -> list[CommentBankEntry]:
    rows = CommentBankEntry.objects.filter(school=school)
    rows = rows.filter(owner=owner) if owner is not None else rows.filter(owner__isnull=True)
    return list(rows.order_by("code"))


def export_comment_bank(*, actor: Any, school: School, owner: Staff | None = None) -> bytes:
    """The shared bank (``owner=None``) or a teacher's own bank as a workbook."""
    _owner_check(actor, school, owner, writing=False)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = SHEET_NAME
    for index, (_key, title, _aliases) in enumerate(COLUMNS, start=1):
        style_header(put(sheet, 1, index, title))
    for row, entry in enumerate(_entries(school, owner), start=2):
        put(sheet, row, 1, entry.code).number_format = "@"
        put(sheet, row, 2, target_label(entry.target))
        put(sheet, row, 3, entry.text).alignment = WRAP
    set_widths(sheet, {1: 12, 2: 34, 3: 90})
    sheet.freeze_panes = "A2"
    _write_guide(workbook.create_sheet(GUIDE_SHEET))
    return workbook_bytes(workbook)


def _write_guide(sheet: Any) -> None:
    put(sheet, 1, 1, _guide_note()).font = NOTE_FONT
    for index, title in enumerate(("Ghi trong cột “Môn học/Phẩm chất/Năng lực”", "Mã"), start=1):
        style_header(put(sheet, 3, index, title))
    for row, (code, label) in enumerate(_targets()[0].items(), start=4):
        put(sheet, row, 1, label)
        put(sheet, row, 2, code)
    set_widths(sheet, {1: 44, 2: 28})


def _guide_note() -> str:
    return _(
        "Mỗi dòng của trang “Mã nhận xét” là một mã: Mã (chữ, số và . _ -, tối đa 20 ký tự, "
        "không trùng), Môn học/Phẩm chất/Năng lực (tên hoặc mã dưới đây; để trống nếu dùng "
        "chung), Nội dung (tối đa 1000 ký tự). Mã đã có sẽ được sửa theo tệp; mã không có trong "
        "tệp được giữ nguyên."
    )


def import_comment_bank(
    *, actor: Any, school: School, file: FileInput, owner: Staff | None = None
) -> CommentBankImportReport:
    """Create or update entries from a workbook, all or nothing, or raise listing every error."""
    _owner_check(actor, school, owner, writing=True)
    with opened_workbook(file) as workbook:
        title = SHEET_NAME if SHEET_NAME in workbook.sheetnames else workbook.sheetnames[0]
        rows = sheet_rows(workbook[title], max_rows=MAX_ROWS + 10, max_col=10)
    header, columns = _header(title, rows)
    parsed, issues = _parse(title, rows, header, columns)
    if issues:
        raise AssessmentImportRejected(issues)
    if not parsed:
        raise file_rejected(_("Tệp không có dòng dữ liệu nào để nhập."), title)
    try:
        return _write(actor, school, owner, parsed, lambda *args: _issue(title, columns, *args))
    except IntegrityError as exc:
        raise file_rejected(
            _("Bảng mã vừa được người khác thay đổi trong lúc nhập; chưa lưu gì. Hãy nhập lại.")
        ) from exc


def _issue(title: str, columns: dict[str, int], row: int, key: str, message: str) -> Any:
    column_title = next(t for k, t, _a in COLUMNS if k == key)
    letter = get_column_letter(columns[key] + 1)
    return AssessmentImportIssue(title, message, row, letter, column_title)


def _header(title: str, rows: list[tuple[Any, ...]]) -> tuple[int, dict[str, int]]:
    """The header row number and column index (0-based) of each key."""
    aliases = {normalise(a): key for key, _t, names in COLUMNS for a in names}
    for number, values in enumerate(rows[:HEADER_SEARCH_ROWS], start=1):
        found: dict[str, int] = {}
        for index, value in enumerate(values):
            key = aliases.get(normalise(value)) if isinstance(value, str) else None
            if key is not None:
                found.setdefault(key, index)
        if len(found) == len(COLUMNS):
            return number, found
    missing = ", ".join(f"“{title_}”" for _k, title_, _a in COLUMNS)
    raise file_rejected(
        _("Không tìm thấy dòng tiêu đề có đủ các cột %(c)s.") % {"c": missing}, title
    )


@dataclass(frozen=True)
class _Row:
    number: int
    code: str
    target: str
    text: str


def _clean(value: Any) -> str:
    if value is None:
        return ""
    text = cell_text(value) if not isinstance(value, str) else value
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n")).strip()


def _parse(
    title: str, rows: list[tuple[Any, ...]], header: int, columns: dict[str, int]
) -> tuple[list[_Row], list[AssessmentImportIssue]]:
    issues: list[AssessmentImportIssue] = []
    parsed: list[_Row] = []
    seen: dict[str, int] = {}
    for number in range(header + 1, len(rows) + 1):
        cells = {key: rows[number - 1][index] for key, index in columns.items()}
        if all(is_blank(value) for value in cells.values()):
            continue
        if len(parsed) + len(issues) >= MAX_ROWS:
            raise file_rejected(
                _("Trang có quá nhiều dòng; tối đa %(n)s dòng mỗi trang.") % {"n": MAX_ROWS}, title
            )
        code = _clean(cells["code"]).lstrip("#").upper()
        row = _Row(number, code, _clean(cells["target"]), _clean(cells["text"]))
        problems = _row_problems(row, seen)
        issues.extend(_issue(title, columns, number, key, message) for key, message in problems)
        if not problems:
            parsed.append(_Row(number, row.code, _resolve(row.target)[0], row.text))
    return parsed, issues


def _row_problems(row: _Row, seen: dict[str, int]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not row.code:
        problems.append(("code", _("Thiếu mã.")))
    elif row.code in seen:
        problems.append(
            ("code", _("Mã “%(c)s” trùng với dòng %(r)s.") % {"c": row.code, "r": seen[row.code]})
        )
    else:
        seen[row.code] = row.number
    if not row.text:
        problems.append(("text", _("Chưa nhập nội dung nhận xét.")))
    elif len(row.text) > COMMENT_MAX_LENGTH:
        problems.append(
            (
                "text",
                _("Nhận xét dài %(n)s ký tự, tối đa %(max)s.")
                % {"n": len(row.text), "max": COMMENT_MAX_LENGTH},
            )
        )
    if problem := _resolve(row.target)[1]:
        problems.append(("target", problem))
    return problems


def _resolve(text: str) -> tuple[str, str]:
    """The target code a label or code names ("" for none), and why not if it cannot be read."""
    if not text or normalise(text) in GENERAL_WORDS:
        return "", ""
    codes = _targets()[1].get(normalise(text), set())
    if len(codes) == 1:
        return next(iter(codes)), ""
    if codes:
        return "", _("“%(t)s” vừa là môn học vừa là năng lực; hãy ghi %(options)s.") % {
            "t": text,
            "options": _choices(codes),
        }
    return "", _(
        "Không có môn học, phẩm chất hay năng lực “%(t)s”; xem danh sách ở trang “%(sheet)s” "
        "của tệp tải về."
    ) % {"t": text, "sheet": GUIDE_SHEET}


def _choices(codes: set[str]) -> str:
    """“Môn Khoa học” hoặc “Năng lực Khoa học”."""
    quoted = [f"“{target_label(code)}”" for code in sorted(codes)]
    return _("%(first)s hoặc %(last)s") % {"first": ", ".join(quoted[:-1]), "last": quoted[-1]}


def _write(
    actor: Any, school: School, owner: Staff | None, rows: list[_Row], issue: Any
) -> CommentBankImportReport:
    """Create or update each entry through the comment bank's services (each one audited);
    every refusal is listed, and any refusal rolls the whole file back."""
    report = CommentBankImportReport()
    issues: list[AssessmentImportIssue] = []
    rules = comment_bank.current_rules()
    with transaction.atomic():
        existing = {entry.code.upper(): entry for entry in _entries(school, owner)}
        for row in rows:
            entry = existing.get(row.code)
            data = comment_bank.EntryData(code=row.code, text=row.text, target=row.target)
            try:
                if entry is None:
                    comment_bank.create_entry(
                        actor=actor, school=school, data=data, shared=owner is None, rules=rules
                    )
                    report.created.append(row.code)
                elif (entry.target, entry.text) != (row.target, row.text):
                    comment_bank.update_entry(
                        actor=actor, entry_id=entry.pk, data=data, rules=rules
                    )
                    report.updated.append(row.code)
                else:
                    report.unchanged += 1
            except PermissionRefused:
                raise
            except DomainError as error:
                key = error.field if error.field in ("code", "target", "text") else "code"
                issues.append(issue(row.number, key, error.message))
        if issues:
            raise AssessmentImportRejected(issues)
    return report
