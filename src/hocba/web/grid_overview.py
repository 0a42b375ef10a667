"""The class at a glance (issue 3 §2): every subject and the qualities and competencies at one
period, what is still missing, and at the end of the year the live year-end result."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hocba.assessment import selectors as assessment_selectors
from hocba.assessment import year_end
from hocba.assessment.models import CompetencyMark, SubjectMark
from hocba.assessment.rules import Item, RuleOptions, RuleSet
from hocba.assessment.yearend import RESULT_LABELS, Evaluation
from hocba.schools import selectors
from hocba.schools.models import Enrolment, SchoolClass
from hocba.web.grid_data import COMPETENCY_GROUPS, END_OF_YEAR, SHORT_SUBJECT_LABELS

GROUP_SHORT_LABELS = {
    "pc.": gettext_lazy("Phẩm chất"),
    "nlc.": gettext_lazy("NL chung"),
    "nld.": gettext_lazy("NL đặc thù"),
}


@dataclass(frozen=True)
class Heading:
    code: str
    short: str
    label: str


@dataclass(frozen=True)
class SummaryCell:
    text: str
    title: str
    missing: bool


@dataclass
class OverviewRow:
    number: int
    enrolment: Enrolment
    subjects: list[SummaryCell] = field(default_factory=list)
    groups: list[SummaryCell] = field(default_factory=list)
    evaluation: Evaluation | None = None


@dataclass
class Overview:
    subjects: list[Heading]
    groups: list[Heading]
    rows: list[OverviewRow]
    missing_per_subject: list[int]
    missing_per_group: list[int]
    results: list[tuple[str, int]]  # (result label, pupils) at the end of the year
    complete: int  # pupils whose year-end result is computable

    @property
    def missing_cells(self) -> int:
        return sum(self.missing_per_subject) + sum(self.missing_per_group)


def _subject_cell(mark: SubjectMark | None, tested: bool, label: str) -> SummaryCell:
    level = mark.level if mark else ""
    score = mark.score if mark else None
    missing = not level or (tested and score is None)
    text = level or "–"
    if tested:
        text += " " + (str(score) if score is not None else "–")
    lacks = []
    if not level:
        lacks.append(_("thiếu mức đạt được"))
    if tested and score is None:
        lacks.append(_("thiếu điểm KTĐK"))
    title = f"{label}: {', '.join(lacks)}" if lacks else label
    return SummaryCell(text, title, missing)


def _group_cell(items: list[Item], levels: dict[str, str]) -> SummaryCell:
    letters = "".join(levels.get(item.code) or "·" for item in items)
    title = "; ".join(f"{item.label}: {levels.get(item.code) or _('chưa có')}" for item in items)
    return SummaryCell(letters, title, any(not levels.get(item.code) for item in items))


def _groups(rules: RuleSet, options: RuleOptions, grade: int) -> list[tuple[Heading, list[Item]]]:
    """The rated items of a grade by group (qualities, general, specific competencies)."""
    items = rules.competency_items(grade, options)
    groups = []
    for prefix, label in COMPETENCY_GROUPS:
        members = [item for item in items if item.code.startswith(prefix)]
        if members:
            groups.append((Heading(prefix, str(GROUP_SHORT_LABELS[prefix]), str(label)), members))
    return groups


def _period_marks(
    roster: list[Enrolment], period: str
) -> tuple[dict[tuple[int, str], SubjectMark], dict[int, dict[str, str]]]:
    marks = {
        (m.enrolment_id, m.subject): m
        for m in SubjectMark.objects.filter(enrolment__in=roster, period=period)
    }
    levels: dict[int, dict[str, str]] = {}
    for cmark in CompetencyMark.objects.filter(enrolment__in=roster, period=period):
        levels.setdefault(cmark.enrolment_id, {})[cmark.item] = cmark.level
    return marks, levels


def class_overview(school_class: SchoolClass, period: str) -> Overview:
    rules = assessment_selectors.rules_for(school_class.school_year)
    options = assessment_selectors.options_for(school_class.school_year)
    subjects = [
        Heading(code, str(SHORT_SUBJECT_LABELS.get(code, label)), label)
        for code in assessment_selectors.class_subjects(school_class, rules)
        for label in [rules.subject(code).label]
    ]
    groups = _groups(rules, options, school_class.grade)
    roster = selectors.class_roster(school_class)
    marks, levels = _period_marks(roster, period)
    evaluations = year_end.evaluate_class(school_class) if period == END_OF_YEAR else {}
    rows = []
    for number, enrolment in enumerate(roster, start=1):
        row = OverviewRow(number, enrolment, evaluation=evaluations.get(enrolment.pk))
        for heading in subjects:
            tested = rules.is_tested(heading.code, school_class.grade, period, options)
            mark = marks.get((enrolment.pk, heading.code))
            row.subjects.append(_subject_cell(mark, tested, heading.label))
        for _heading, members in groups:
            row.groups.append(_group_cell(members, levels.get(enrolment.pk, {})))
        rows.append(row)
    counts = Counter(e.result for e in evaluations.values() if e.result)
    return Overview(
        subjects=subjects,
        groups=[heading for heading, _members in groups],
        rows=rows,
        missing_per_subject=[
            sum(r.subjects[i].missing for r in rows) for i in range(len(subjects))
        ],
        missing_per_group=[sum(r.groups[i].missing for r in rows) for i in range(len(groups))],
        results=[(label, counts[code]) for code, label in RESULT_LABELS.items()],
        complete=sum(counts.values()),
    )
