"""The demo assessments' plan (``hocba demo``): levels, scores, comments and facts as pure data.

Everything comes from one ``random.Random(20242025)`` over the classes in a fixed order, so the
plan is the same on every run. Each pupil gets a profile that fixes the end-of-year picture:

* ``htxs``: T everywhere, end-of-year scores 9-10 (several per class);
* ``htt``: T everywhere, end-of-year scores 7-10 with at least one below 9;
* ``ht``: a mix of T and H, T and Đ, scores consistent with the levels (T → 7-10, H → 5-9);
* ``cht``: 2-4 pupils per school with one or two subjects C at the end of the year (scores 3-4).

Earlier periods drift a little below the end of the year, with a rare C. One class
(:data:`INCOMPLETE_CLASS`) has end-of-year entries missing, so "not computable" shows.
"""

from __future__ import annotations

import decimal
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from hocba.assessment.demo_comments import COMPETENCY_COMMENTS, SUBJECT_COMMENTS
from hocba.schools.demo_people import Weighted

SEED = 20242025
PERIODS = ("gk1", "ck1", "gk2", "cn")
END = "cn"
INCOMPLETE_CLASS = ("01005101", "3B")  # (school code, class name)
PROFILES = Weighted([("htxs", 18), ("htt", 30), ("ht", 52)])
SCORES = {
    "T": Weighted([("7", 12), ("8", 30), ("9", 35), ("10", 23)]),
    "H": Weighted([("5", 8), ("6", 22), ("7", 38), ("8", 27), ("9", 5)]),
    "C": Weighted([("3", 35), ("4", 45), ("5", 20)]),
}
EXCELLENT_SCORES = Weighted([("9", 55), ("10", 45)])
# End-of-year level → how the same subject or item looked at an earlier period.
EARLIER_SUBJECT = {
    "T": Weighted([("T", 80), ("H", 20)]),
    "H": Weighted([("H", 85), ("T", 10), ("C", 5)]),
    "C": Weighted([("C", 60), ("H", 40)]),
}
EARLIER_COMPETENCY = {
    "T": Weighted([("T", 85), ("Đ", 15)]),
    "Đ": Weighted([("Đ", 85), ("T", 10), ("C", 5)]),
    "C": Weighted([("C", 60), ("Đ", 40)]),
}
EXCUSED_DAYS = Weighted([(str(n), w) for n, w in enumerate((40, 20, 15, 10, 6, 4, 2, 1, 1, 1))])
UNEXCUSED_DAYS = Weighted([("0", 92), ("1", 6), ("2", 2)])


@dataclass(frozen=True)
class SubjectSpec:
    code: str
    tested: tuple[str, ...]  # periods with a periodic test


@dataclass(frozen=True)
class ClassSpec:
    """What planning needs to know about a class; pupils in a stable order (Ministry code)."""

    key: tuple[str, str]  # (school code, class name)
    grade: int
    subjects: tuple[SubjectSpec, ...]
    items: tuple[str, ...]  # qualities and competencies rated in the grade
    pupils: tuple[tuple[int, str], ...]  # (enrolment id, sex)


@dataclass(frozen=True)
class SubjectCell:
    enrolment_id: int
    subject: str
    period: str
    level: str
    score: int | None
    comment: str


@dataclass(frozen=True)
class CompetencyCell:
    enrolment_id: int
    item: str
    period: str
    level: str
    comment: str


@dataclass(frozen=True)
class FactsPlan:
    enrolment_id: int
    height_cm: decimal.Decimal
    weight_kg: decimal.Decimal
    days_absent_excused: int
    days_absent_unexcused: int


@dataclass
class ClassAssessments:
    key: tuple[str, str]
    subject_cells: list[SubjectCell] = field(default_factory=list)
    competency_cells: list[CompetencyCell] = field(default_factory=list)
    facts: list[FactsPlan] = field(default_factory=list)
    profiles: dict[int, str] = field(default_factory=dict)  # enrolment id → profile


def _choose_weak(rng: random.Random, classes: Sequence[ClassSpec]) -> set[int]:
    """2-4 CHT pupils per school, never in the incomplete class (they must stay computable)."""
    weak: set[int] = set()
    schools = sorted({spec.key[0] for spec in classes})
    for school in schools:
        candidates = [
            enrolment_id
            for spec in classes
            if spec.key[0] == school and spec.key != INCOMPLETE_CLASS
            for enrolment_id, _sex in spec.pupils
        ]
        weak.update(rng.sample(candidates, min(len(candidates), rng.randint(2, 4))))
    return weak


def _end_levels(
    rng: random.Random, profile: str, spec: ClassSpec
) -> tuple[dict[str, str], dict[str, str]]:
    """End-of-year subject and competency levels for a profile."""
    subjects = [s.code for s in spec.subjects]
    if profile in ("htxs", "htt"):
        return dict.fromkeys(subjects, "T"), dict.fromkeys(spec.items, "T")
    levels = {code: "T" if rng.random() < 0.45 else "H" for code in subjects}
    if "H" not in levels.values() and subjects:
        levels[rng.choice(subjects)] = "H"
    competencies = {item: "T" if rng.random() < 0.55 else "Đ" for item in spec.items}
    if profile == "cht":
        core = [code for code in ("tieng_viet", "toan") if code in levels] or subjects
        for code in rng.sample(core, min(len(core), rng.choice((1, 1, 2)))):
            levels[code] = "C"
        competencies[rng.choice(spec.items)] = "C"
    return levels, competencies


def _end_scores(
    rng: random.Random, profile: str, spec: ClassSpec, levels: dict[str, str]
) -> dict[str, int]:
    tested = [s.code for s in spec.subjects if END in s.tested]
    if profile == "htxs":
        return {code: int(EXCELLENT_SCORES.draw(rng)) for code in tested}
    scores = {code: int(SCORES[levels[code]].draw(rng)) for code in tested}
    if levels and profile == "cht":
        scores = {c: min(s, 4) if levels[c] == "C" else s for c, s in scores.items()}
    if profile == "htt" and tested and min(scores.values()) >= 9:
        scores[rng.choice(tested)] = rng.choice((7, 8))
    return scores


def _facts(rng: random.Random, enrolment_id: int, grade: int, sex: str) -> FactsPlan:
    """Height and weight around the WHO medians for the age, a few days absent."""
    age = grade + 5.5
    height = rng.gauss(116 + 5.6 * (age - 6) - (0.5 if sex == "nu" else 0), 5)
    weight = (20.5 + 2.8 * (age - 6)) * rng.lognormvariate(0, 0.13)
    return FactsPlan(
        enrolment_id=enrolment_id,
        height_cm=decimal.Decimal(round(height * 2) / 2).quantize(decimal.Decimal("0.1")),
        weight_kg=decimal.Decimal(round(weight, 1)).quantize(decimal.Decimal("0.1")),
        days_absent_excused=int(EXCUSED_DAYS.draw(rng)),
        days_absent_unexcused=int(UNEXCUSED_DAYS.draw(rng)),
    )


def _plan_pupil(
    rng: random.Random, spec: ClassSpec, enrolment_id: int, profile: str, plan: ClassAssessments
) -> None:
    levels, competencies = _end_levels(rng, profile, spec)
    end_scores = _end_scores(rng, profile, spec, levels)
    for subject in spec.subjects:
        comments = SUBJECT_COMMENTS[subject.code][1]
        for period in PERIODS:
            level = levels[subject.code]
            if period != END:
                level = EARLIER_SUBJECT[level].draw(rng)
            score = None
            if period in subject.tested:
                score = end_scores[subject.code] if period == END else int(SCORES[level].draw(rng))
            comment = rng.choice(comments[level])
            plan.subject_cells.append(
                SubjectCell(enrolment_id, subject.code, period, level, score, comment)
            )
    for item in spec.items:
        for period in PERIODS:
            level = competencies[item]
            if period != END:
                level = EARLIER_COMPETENCY[level].draw(rng)
            comment = rng.choice(COMPETENCY_COMMENTS[item][level])
            plan.competency_cells.append(CompetencyCell(enrolment_id, item, period, level, comment))


def _leave_gaps(rng: random.Random, plan: ClassAssessments) -> None:
    """Some end-of-year entries not made yet: the English teacher's, a competency, a score."""
    pupils = list(plan.profiles)  # class order
    no_english = set(rng.sample(pupils, min(5, len(pupils))))
    no_competency = set(rng.sample(pupils, min(2, len(pupils))))
    no_score = set(rng.sample(pupils, min(1, len(pupils))))
    plan.subject_cells = [
        SubjectCell(c.enrolment_id, c.subject, c.period, c.level, None, c.comment)
        if c.period == END and c.subject == "toan" and c.enrolment_id in no_score
        else c
        for c in plan.subject_cells
        if not (c.period == END and c.subject == "ngoai_ngu_1" and c.enrolment_id in no_english)
    ]
    plan.competency_cells = [
        c
        for c in plan.competency_cells
        if not (
            c.period == END
            and c.item == "nlc.giai_quyet_van_de"
            and c.enrolment_id in no_competency
        )
    ]


def plan_class(rng: random.Random, spec: ClassSpec, weak: set[int]) -> ClassAssessments:
    plan = ClassAssessments(spec.key)
    for enrolment_id, sex in spec.pupils:
        profile = "cht" if enrolment_id in weak else PROFILES.draw(rng)
        plan.profiles[enrolment_id] = profile
        _plan_pupil(rng, spec, enrolment_id, profile, plan)
        plan.facts.append(_facts(rng, enrolment_id, spec.grade, sex))
    if spec.key == INCOMPLETE_CLASS:
        _leave_gaps(rng, plan)
    return plan


def plan_assessments(classes: Sequence[ClassSpec]) -> list[ClassAssessments]:
    """The whole year's assessments of every class, the same on every call."""
    rng = random.Random(SEED)  # noqa: S311  (reproducible demo data, not secrets)
    weak = _choose_weak(rng, classes)
    return [plan_class(rng, spec, weak) for spec in classes]
