"""What an assessment workbook holds: its identity, its sheets and columns, the stored values.

Four kinds of workbook (docs/assessment-excel.md): one class × one subject × one period
(``subject``), one class × qualities and competencies × one period (``competency``), one class's
header facts (``facts``), and the whole class at one period, one sheet per subject plus the
qualities and competencies (``class``). Titles and labels in the file are a file format and stay
Vietnamese in every interface language, as in the master-data import (docs/import.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from hocba.assessment import cells, selectors
from hocba.assessment.cells import CellAddress
from hocba.assessment.models import CompetencyMark, Period, PupilYearFacts, SubjectMark
from hocba.assessment.rules import RuleOptions, RuleSet
from hocba.common.errors import DomainError
from hocba.schools.models import Enrolment, SchoolClass

SUBJECT, COMPETENCY, FACTS, CLASS = "subject", "competency", "facts", "class"
KINDS = (SUBJECT, COMPETENCY, FACTS, CLASS)
FORMAT_NAME = "hocba-assessment-excel"
FORMAT_VERSION = 1
HIDDEN_SHEET = "_hocba"

# Rows of every data sheet: a heading, the identity lines (label in B, value in C), a note,
# then the table (an optional group row above the header row).
HEADING_ROW = 1
FIRST_IDENTITY_ROW = 2
NOTE_ROW = 8
TABLE_TOP = 10
FIXED_TITLES = ("STT", "Mã học sinh", "Họ và tên", "Ngày sinh")
CODE_COLUMN, NAME_COLUMN = 2, 3
FIRST_VALUE_COLUMN = len(FIXED_TITLES) + 1
MAX_SHEET_ROWS = 1_000  # blank rows included; a class has a few dozen pupils
MAX_PUPIL_ROWS = 200
EXTRA_COLUMNS = 10  # read this far to the right of the table to find stray values

FACT_TITLES = {
    "height_cm": "Chiều cao (cm)",
    "weight_kg": "Cân nặng (kg)",
    "days_absent_excused": "Nghỉ có phép (ngày)",
    "days_absent_unexcused": "Nghỉ không phép (ngày)",
}
FIELD_TITLES = {"level": "Mức đạt được", "score": "Điểm KTĐK", "comment": "Nhận xét"}
COMPETENCY_FIELD_TITLES = {"level": "Mức", "comment": "Nhận xét"}
COMPETENCY_SHEET_NAME = "Phẩm chất, năng lực"
FACTS_SHEET_NAME = "Thông tin chung"
INVALID_SHEET_CHARACTERS = str.maketrans({c: " " for c in "[]:*?/\\"})


@dataclass(frozen=True)
class Identity:
    """Which grid a workbook belongs to; stored in the hidden sheet and shown at the top."""

    kind: str
    school_code: str
    school_year: str
    class_id: int
    class_name: str
    subject: str = ""
    period: str = ""


@dataclass(frozen=True)
class GridColumn:
    index: int  # 1-based, as Excel counts
    title: str  # in the header row
    group: str  # above the header row (a competency item), "" otherwise
    address: CellAddress

    @property
    def letter(self) -> str:
        return get_column_letter(self.index)

    @property
    def display_title(self) -> str:
        return f"{self.group} – {self.title}" if self.group else self.title

    @property
    def row_key(self) -> str:
        """The stored row this cell belongs to (one version per row)."""
        return "facts" if self.address.sheet == "facts" else self.address.key


@dataclass(frozen=True)
class GridSheet:
    name: str
    kind: str  # subject | competency | facts
    subject: str  # subject code for subject sheets
    heading: str
    identity_lines: tuple[tuple[str, str, bool], ...]  # label, value, checked on upload
    columns: tuple[GridColumn, ...]

    @property
    def has_group_row(self) -> bool:
        return any(column.group for column in self.columns)

    @property
    def header_row(self) -> int:
        return TABLE_TOP + 1 if self.has_group_row else TABLE_TOP

    @property
    def fixed_title_row(self) -> int:
        """Where STT, Mã học sinh, Họ và tên, Ngày sinh are written (merged down to the header)."""
        return TABLE_TOP

    @property
    def first_data_row(self) -> int:
        return self.header_row + 1

    def groups(self) -> list[tuple[GridColumn, GridColumn]]:
        """First and last column of each run under one group label (a competency item)."""
        runs: list[tuple[GridColumn, GridColumn]] = []
        for column in self.columns:
            if not column.group:
                continue
            if runs and runs[-1][0].address.key == column.address.key:
                runs[-1] = (runs[-1][0], column)
            else:
                runs.append((column, column))
        return runs

    @property
    def last_column(self) -> int:
        return self.columns[-1].index if self.columns else len(FIXED_TITLES)


def short_subject_name(label: str) -> str:
    """A sheet name for a subject: "Tin học và Công nghệ (Tin học)" → "Tin học"."""
    if label.endswith(")") and "(" in label:
        label = label[label.rindex("(") + 1 : -1]
    return label.translate(INVALID_SHEET_CHARACTERS)[:31]


def period_label(rules: RuleSet, period: str) -> str:
    return next((item.label for item in rules.periods if item.code == period), period)


def _identity_lines(
    school_class: SchoolClass, rules: RuleSet, subject: str, period: str
) -> tuple[tuple[str, str, bool], ...]:
    lines = [
        ("Trường", school_class.school.name, False),
        ("Mã trường", school_class.school.code, True),
        ("Lớp", school_class.name, True),
        ("Năm học", school_class.school_year.name, True),
    ]
    if subject:
        lines.append(("Môn học", rules.subject(subject).label, True))
    if period:
        lines.append(("Thời điểm", period_label(rules, period), True))
    return tuple(lines)


def _subject_sheet(
    school_class: SchoolClass, rules: RuleSet, options: RuleOptions, subject: str, period: str
) -> GridSheet:
    fields = ["level", "comment"]
    if rules.is_tested(subject, school_class.grade, period, options):
        fields.insert(1, "score")
    columns = tuple(
        GridColumn(
            FIRST_VALUE_COLUMN + offset,
            FIELD_TITLES[field],
            "",
            CellAddress("subject", subject, period, field),
        )
        for offset, field in enumerate(fields)
    )
    label = rules.subject(subject).label
    return GridSheet(
        name=short_subject_name(label),
        kind=SUBJECT,
        subject=subject,
        heading=f"ĐÁNH GIÁ MÔN {label.upper()}",
        identity_lines=_identity_lines(school_class, rules, subject, period),
        columns=columns,
    )


def _competency_sheet(
    school_class: SchoolClass, rules: RuleSet, options: RuleOptions, period: str
) -> GridSheet:
    columns = []
    index = FIRST_VALUE_COLUMN
    for item in rules.competency_items(school_class.grade, options):
        for field, title in COMPETENCY_FIELD_TITLES.items():
            address = CellAddress("competency", item.code, period, field)
            columns.append(GridColumn(index, title, item.label, address))
            index += 1
    return GridSheet(
        name=COMPETENCY_SHEET_NAME,
        kind=COMPETENCY,
        subject="",
        heading="ĐÁNH GIÁ PHẨM CHẤT, NĂNG LỰC",
        identity_lines=_identity_lines(school_class, rules, "", period),
        columns=tuple(columns),
    )


def _facts_sheet(school_class: SchoolClass, rules: RuleSet) -> GridSheet:
    columns = tuple(
        GridColumn(FIRST_VALUE_COLUMN + offset, title, "", CellAddress("facts", name, "", "value"))
        for offset, (name, title) in enumerate(FACT_TITLES.items())
    )
    return GridSheet(
        name=FACTS_SHEET_NAME,
        kind=FACTS,
        subject="",
        heading="CHIỀU CAO, CÂN NẶNG, SỐ NGÀY NGHỈ",
        identity_lines=_identity_lines(school_class, rules, "", ""),
        columns=columns,
    )


def grid_sheets(
    school_class: SchoolClass, rules: RuleSet, options: RuleOptions, identity: Identity
) -> list[GridSheet]:
    """The sheets of a workbook of this identity, in order."""
    if identity.kind == SUBJECT:
        return [_subject_sheet(school_class, rules, options, identity.subject, identity.period)]
    if identity.kind == COMPETENCY:
        return [_competency_sheet(school_class, rules, options, identity.period)]
    if identity.kind == FACTS:
        return [_facts_sheet(school_class, rules)]
    sheets = [
        _subject_sheet(school_class, rules, options, subject, identity.period)
        for subject in selectors.class_subjects(school_class, rules)
    ]
    return [*sheets, _competency_sheet(school_class, rules, options, identity.period)]


StoredRows = dict[tuple[int, str, str], Any]  # (enrolment id, sheet, row key) -> model row


def stored_rows(enrolment_ids: list[int], sheets: list[GridSheet], period: str) -> StoredRows:
    """The stored rows behind every cell of the sheets, in three queries at most."""
    subjects = {c.address.key for s in sheets for c in s.columns if c.address.sheet == "subject"}
    items = {c.address.key for s in sheets for c in s.columns if c.address.sheet == "competency"}
    rows: StoredRows = {}
    if subjects:
        for mark in SubjectMark.objects.filter(
            enrolment_id__in=enrolment_ids, period=period, subject__in=subjects
        ):
            rows[(mark.enrolment_id, "subject", mark.subject)] = mark
    if items:
        for cmark in CompetencyMark.objects.filter(
            enrolment_id__in=enrolment_ids, period=period, item__in=items
        ):
            rows[(cmark.enrolment_id, "competency", cmark.item)] = cmark
    if any(s.kind == FACTS for s in sheets):
        for facts in PupilYearFacts.objects.filter(enrolment_id__in=enrolment_ids):
            rows[(facts.enrolment_id, "facts", "facts")] = facts
    return rows


def stored_value(rows: StoredRows, enrolment: Enrolment, column: GridColumn) -> Any:
    row = rows.get((enrolment.pk, column.address.sheet, column.row_key))
    if row is None:
        return None
    name = column.address.key if column.address.sheet == "facts" else column.address.field
    return getattr(row, name)


def stored_version(rows: StoredRows, enrolment_id: int, sheet: str, row_key: str) -> int:
    row = rows.get((enrolment_id, sheet, row_key))
    return row.version if row is not None else 0


def as_text(value: Any) -> str:
    """A value as the cell history stores it (``services._as_text``)."""
    return "" if value is None else str(value)


def parse_value(address: CellAddress, raw: Any, rules: RuleSet, options: RuleOptions) -> Any:
    """What the service would store for a raw cell value; raises ``DomainError`` if refused."""
    if address.sheet == "facts":
        return cells.parse_fact(address.key, raw)
    if address.field == "comment":
        return cells.parse_comment(raw)
    if address.field == "score":
        return cells.parse_score(raw, options, rules)
    if address.sheet == "subject":
        return cells.parse_subject_level(raw)
    return cells.parse_competency_level(raw)


def grid_identity(school_class: SchoolClass, kind: str, period: str, subject: str) -> Identity:
    """The identity of the grid a page offers; ``DomainError`` if there is no such grid."""
    rules = selectors.rules_for(school_class.school_year)
    if kind not in KINDS:
        raise DomainError(_("Không có bảng này."))
    if kind == FACTS:
        period, subject = "", ""
    elif period not in Period.values:
        raise DomainError(_("Thời điểm đánh giá không hợp lệ."))
    if kind != SUBJECT:
        subject = ""
    elif subject not in selectors.class_subjects(school_class, rules):
        raise DomainError(_("Lớp này không học môn “%(s)s”.") % {"s": subject})
    return Identity(
        kind=kind,
        school_code=school_class.school.code,
        school_year=school_class.school_year.name,
        class_id=school_class.pk,
        class_name=school_class.name,
        subject=subject,
        period=period,
    )
