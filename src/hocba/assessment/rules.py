"""The Circular 27 rule set as data, one JSON file per version (DOMAIN §2).

A school year names its assessment scheme (``SchoolYear.assessment_scheme``); the matching file in
``rulesets/`` says which subjects each grade has, which are tested at which period, and which
qualities and competencies are rated. The open questions of DOMAIN §8 are :class:`RuleOptions`,
stored per school year (``assessment.AssessmentSettings``) with the documented defaults.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

RULESET_DIR = Path(__file__).resolve().parent / "rulesets"
END_OF_YEAR = "cn"


@dataclass(frozen=True)
class Item:
    code: str
    label: str


@dataclass(frozen=True)
class SubjectRule:
    code: str
    label: str
    grades: dict[int, str]  # grade -> "required" | "optional"
    tested: dict[int, tuple[str, ...]]  # grade -> periods with a periodic test (KTĐK)


@dataclass(frozen=True)
class RuleOptions:
    """Per-school-year answers to DOMAIN §8's open questions."""

    allow_zero_score: bool = False
    optional_subjects_count: bool = True  # "yes if the pupil studies it"
    single_score_tin_hoc_cong_nghe: bool = False  # one score for Tin học và Công nghệ
    specific_competencies_by_grade: dict[int, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleSet:
    version: str
    title: str
    periods: tuple[Item, ...]
    subject_levels: tuple[Item, ...]
    competency_levels: tuple[Item, ...]
    subjects: tuple[SubjectRule, ...]
    qualities: tuple[Item, ...]
    general_competencies: tuple[Item, ...]
    specific_competencies: tuple[tuple[Item, tuple[int, ...]], ...]

    def subjects_for(self, grade: int) -> list[SubjectRule]:
        """Subjects and activities of a grade (required and optional), in the form's row order."""
        return [s for s in self.subjects if grade in s.grades]

    def subject(self, code: str) -> SubjectRule:
        for rule in self.subjects:
            if rule.code == code:
                return rule
        raise KeyError(code)

    def is_optional(self, code: str, grade: int) -> bool:
        return self.subject(code).grades.get(grade) == "optional"

    def is_tested(self, code: str, grade: int, period: str, options: RuleOptions) -> bool:
        if options.single_score_tin_hoc_cong_nghe and code == "cong_nghe":
            return False
        return period in self.subject(code).tested.get(grade, ())

    def competency_items(self, grade: int, options: RuleOptions) -> list[Item]:
        """Qualities, general and specific competencies rated in a grade (DOMAIN §2.2)."""
        override = options.specific_competencies_by_grade.get(grade)
        specific = [
            item
            for item, grades in self.specific_competencies
            if (item.code in override if override is not None else grade in grades)
        ]
        return [*self.qualities, *self.general_competencies, *specific]

    def label(self, code: str) -> str:
        for item in (*self.qualities, *self.general_competencies, *self.periods):
            if item.code == code:
                return item.label
        for item, _grades in self.specific_competencies:
            if item.code == code:
                return item.label
        return self.subject(code).label

    def score_range(self, options: RuleOptions) -> range:
        return range(0 if options.allow_zero_score else 1, 11)


def _items(raw: list[dict[str, str]]) -> tuple[Item, ...]:
    return tuple(Item(code=entry["code"], label=entry["label"]) for entry in raw)


@cache
def load_ruleset(version: str) -> RuleSet:
    path = RULESET_DIR / f"{version}.json"
    if not path.is_file() or path.parent != RULESET_DIR:
        raise LookupError(f"Không có bộ quy tắc đánh giá “{version}”.")
    raw = json.loads(path.read_text(encoding="utf-8"))
    subjects = tuple(
        SubjectRule(
            code=entry["code"],
            label=entry["label"],
            grades={int(g): kind for g, kind in entry["grades"].items()},
            tested={int(g): tuple(periods) for g, periods in entry["tested"].items()},
        )
        for entry in raw["subjects"]
    )
    return RuleSet(
        version=raw["version"],
        title=raw["title"],
        periods=_items(raw["periods"]),
        subject_levels=_items(raw["subject_levels"]),
        competency_levels=_items(raw["competency_levels"]),
        subjects=subjects,
        qualities=_items(raw["qualities"]),
        general_competencies=_items(raw["general_competencies"]),
        specific_competencies=tuple(
            (Item(code=e["code"], label=e["label"]), tuple(e["grades"]))
            for e in raw["specific_competencies"]
        ),
    )


def available_versions() -> list[str]:
    return sorted(path.stem for path in RULESET_DIR.glob("*.json"))
