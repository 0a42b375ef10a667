"""What the entry grids show: columns, rows and current values with their row versions.

Read side only (issue 3 §2). Every editable cell carries the version of the row it belongs to
(pupil × subject × period mark, pupil × item × period mark, pupil's facts; 0 when the row does
not exist yet), which the page sends back so the service can refuse a stale edit.
"""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from hocba.assessment import selectors as assessment_selectors
from hocba.assessment.models import CompetencyMark, Lock, PupilYearFacts, SubjectMark
from hocba.assessment.rules import RuleOptions, RuleSet
from hocba.assessment.services import HOMEROOM_SCOPE
from hocba.assessment.yearend import Evaluation
from hocba.schools import selectors
from hocba.schools.models import Enrolment, SchoolClass

PERIOD_TABS: tuple[tuple[str, Promise], ...] = (
    ("gk1", _("Giữa HK I")),
    ("ck1", _("Cuối HK I")),
    ("gk2", _("Giữa HK II")),
    ("cn", _("Cuối năm")),
)
PERIODS = tuple(code for code, _label in PERIOD_TABS)
END_OF_YEAR = "cn"

# Short column headers for the class overview; the full label is the tooltip.
SHORT_SUBJECT_LABELS: dict[str, Promise] = {
    "tieng_viet": _("Tiếng Việt"),
    "toan": _("Toán"),
    "ngoai_ngu_1": _("Ngoại ngữ 1"),
    "lich_su_dia_li": _("LS và ĐL"),
    "khoa_hoc": _("Khoa học"),
    "tin_hoc": _("Tin học"),
    "cong_nghe": _("Công nghệ"),
    "dao_duc": _("Đạo đức"),
    "tu_nhien_xa_hoi": _("TN và XH"),
    "giao_duc_the_chat": _("GDTC"),
    "am_nhac": _("Âm nhạc"),
    "mi_thuat": _("Mĩ thuật"),
    "hoat_dong_trai_nghiem": _("HĐTN"),
    "tieng_dan_toc": _("Tiếng DT"),
}
COMPETENCY_GROUPS: tuple[tuple[str, Promise], ...] = (
    ("pc.", _("Phẩm chất chủ yếu")),
    ("nlc.", _("Năng lực chung")),
    ("nld.", _("Năng lực đặc thù")),
)
FACT_COLUMNS: tuple[tuple[str, Promise], ...] = (
    ("height_cm", _("Chiều cao (cm)")),
    ("weight_kg", _("Cân nặng (kg)")),
    ("days_absent_excused", _("Nghỉ có phép (ngày)")),
    ("days_absent_unexcused", _("Nghỉ không phép (ngày)")),
)


@dataclass(frozen=True)
class Column:
    key: str  # subject code, item code or fact name
    field: str  # level | score | comment | value
    kind: str  # level | clevel | score | comment | number | integer
    label: str
    group: str = ""


@dataclass(frozen=True)
class Cell:
    column: Column
    value: str
    version: int


@dataclass
class Row:
    number: int
    enrolment: Enrolment
    cells: list[Cell] = field(default_factory=list)
    evaluation: Evaluation | None = None  # live year-end result, where the grid shows it

    @property
    def name(self) -> str:
        return str(self.enrolment.pupil.full_name)


def display_value(value: object) -> str:
    """A stored value as the grid shows it: empty for none, decimal comma, no trailing ",0"."""
    if value is None:
        return ""
    if isinstance(value, decimal.Decimal):
        text = format(value, "f").replace(".", ",")
        return text[:-2] if text.endswith(",0") else text
    return str(value)


def default_period(today: datetime.date) -> str:
    """The assessment point teachers are most likely working on at this time of the year."""
    if today.month in (9, 10, 11):
        return "gk1"
    if today.month in (12, 1):
        return "ck1"
    if today.month in (2, 3):
        return "gk2"
    return "cn"


def subject_columns(
    rules: RuleSet, options: RuleOptions, school_class: SchoolClass, subject: str, period: str
) -> list[Column]:
    columns = [Column(subject, "level", "level", str(_("Mức đạt được")))]
    if rules.is_tested(subject, school_class.grade, period, options):
        columns.append(Column(subject, "score", "score", str(_("Điểm KTĐK"))))
    columns.append(Column(subject, "comment", "comment", str(_("Nhận xét"))))
    return columns


def competency_columns(
    rules: RuleSet, options: RuleOptions, school_class: SchoolClass, *, with_comments: bool
) -> list[Column]:
    columns = []
    for item in rules.competency_items(school_class.grade, options):
        group = next(
            str(label) for prefix, label in COMPETENCY_GROUPS if item.code.startswith(prefix)
        )
        columns.append(Column(item.code, "level", "clevel", item.label, group))
        if with_comments:
            label = str(_("Nhận xét: %(item)s")) % {"item": item.label}
            columns.append(Column(item.code, "comment", "comment", label, group))
    return columns


def fact_columns() -> list[Column]:
    return [
        Column(name, "value", "integer" if name.startswith("days") else "number", str(label))
        for name, label in FACT_COLUMNS
    ]


@dataclass(frozen=True)
class HeaderCell:
    label: str
    span: int
    css: str


def _runs(columns: list[Column], attribute: str) -> list[tuple[Column, int]]:
    """Consecutive columns sharing ``attribute``: (first column, how many)."""
    runs: list[tuple[Column, int]] = []
    for column in columns:
        if runs and getattr(runs[-1][0], attribute) == getattr(column, attribute):
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((column, 1))
    return runs


def header_rows(columns: list[Column], *, grouped: bool = False) -> list[list[HeaderCell]]:
    """The header rows above the cells: one row, or group / item / field for competencies."""
    if not grouped:
        return [[HeaderCell(c.label, 1, f"col-{c.kind}") for c in columns]]
    with_comments = any(c.field == "comment" for c in columns)
    item_css = "item" if with_comments else "item vertical"
    rows = [
        [HeaderCell(first.group, span, "group") for first, span in _runs(columns, "group")],
        [HeaderCell(first.label, span, item_css) for first, span in _runs(columns, "key")],
    ]
    if with_comments:
        rows.append(
            [
                HeaderCell(str(_("Mức")) if c.field == "level" else str(_("Nhận xét")), 1, "sub")
                for c in columns
            ]
        )
    return rows


def _rows(
    roster: list[Enrolment], columns: list[Column], lookup: dict[tuple[int, str], Any]
) -> list[Row]:
    rows = []
    for number, enrolment in enumerate(roster, start=1):
        row = Row(number, enrolment)
        for column in columns:
            stored = lookup.get((enrolment.pk, column.key))
            attribute = column.key if column.field == "value" else column.field
            value = getattr(stored, attribute) if stored else None
            row.cells.append(Cell(column, display_value(value), stored.version if stored else 0))
        rows.append(row)
    return rows


def subject_rows(
    roster: list[Enrolment], columns: list[Column], subject: str, period: str
) -> list[Row]:
    marks = SubjectMark.objects.filter(enrolment__in=roster, subject=subject, period=period)
    return _rows(roster, columns, {(m.enrolment_id, m.subject): m for m in marks})


def competency_rows(roster: list[Enrolment], columns: list[Column], period: str) -> list[Row]:
    codes = {column.key for column in columns}
    marks = CompetencyMark.objects.filter(enrolment__in=roster, item__in=codes, period=period)
    return _rows(roster, columns, {(m.enrolment_id, m.item): m for m in marks})


def fact_rows(roster: list[Enrolment], columns: list[Column]) -> list[Row]:
    facts = {f.enrolment_id: f for f in PupilYearFacts.objects.filter(enrolment__in=roster)}
    lookup = {(e.pk, c.key): facts[e.pk] for e in roster for c in columns if e.pk in facts}
    return _rows(roster, columns, lookup)


def roster(school_class: SchoolClass) -> list[Enrolment]:
    return selectors.class_roster(school_class)


def subject_lock(school_class: SchoolClass, subject: str, period: str) -> Lock | None:
    locks = assessment_selectors.active_locks(school_class)
    return assessment_selectors.lock_covering(locks, subject, period)


def homeroom_lock(school_class: SchoolClass, period: str) -> Lock | None:
    """Qualities, competencies (a period) and the facts (period "") answer to class locks."""
    locks = assessment_selectors.active_locks(school_class)
    return assessment_selectors.lock_covering(locks, HOMEROOM_SCOPE, period)
