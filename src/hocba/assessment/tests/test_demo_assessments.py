"""Demo assessments (``hocba demo``): a realistic, valid, deterministic year for every class.

The whole demo is planned in memory (fast) to check the shape: every value passes the cell
parsers, levels and scores agree, a few CHT and several HTXS pupils, one class with gaps. Writing
is checked on the small test world: counts, year-end records, idempotency, the audit event.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator

import pytest
from django.utils import translation

from hocba.assessment import cells, demo_plan
from hocba.assessment.demo import seed_assessments
from hocba.assessment.demo_plan import ClassAssessments, ClassSpec, SubjectSpec
from hocba.assessment.models import (
    CellChange,
    CommentBankEntry,
    CompetencyMark,
    PupilYearFacts,
    SubjectMark,
    YearEndRecord,
)
from hocba.assessment.rules import RuleOptions, load_ruleset
from hocba.assessment.yearend import PupilYear, evaluate
from hocba.audit.models import AuditEvent
from hocba.conftest import World
from hocba.schools.demo_plan import build_plan

RULES = load_ruleset("tt27-2020")
OPTIONS = RuleOptions()
PERIODS = ("gk1", "ck1", "gk2", "cn")


@pytest.fixture(autouse=True)
def vietnamese() -> Iterator[None]:
    with translation.override("vi"):
        yield


def demo_specs() -> list[ClassSpec]:
    """The demo's 30 classes as the seeder sees them (every required subject is taught)."""
    specs, ids = [], itertools.count(1)
    for school in build_plan().schools:
        for plan in school.classes:
            grade = plan.grade
            subjects = tuple(
                SubjectSpec(
                    rule.code,
                    tuple(p for p in PERIODS if RULES.is_tested(rule.code, grade, p, OPTIONS)),
                )
                for rule in RULES.subjects_for(grade)
                if rule.grades[grade] == "required"
            )
            items = tuple(item.code for item in RULES.competency_items(grade, OPTIONS))
            pupils = sorted(plan.pupils, key=lambda p: p.data.ministry_code)
            specs.append(
                ClassSpec(
                    key=(school.spec.code, plan.name),
                    grade=grade,
                    subjects=subjects,
                    items=items,
                    pupils=tuple((next(ids), p.data.sex) for p in pupils),
                )
            )
    return specs


@pytest.fixture(scope="module")
def planned() -> list[tuple[ClassSpec, ClassAssessments]]:
    specs = demo_specs()
    return list(zip(specs, demo_plan.plan_assessments(specs), strict=True))


def results(spec: ClassSpec, plan: ClassAssessments) -> dict[int, str | None]:
    years = {enrolment_id: PupilYear(spec.grade, {}, {}, {}) for enrolment_id, _sex in spec.pupils}
    for cell in plan.subject_cells:
        if cell.period == "cn":
            years[cell.enrolment_id].subject_levels[cell.subject] = cell.level
            if cell.score is not None:
                years[cell.enrolment_id].scores[cell.subject] = cell.score
    for ccell in plan.competency_cells:
        if ccell.period == "cn":
            years[ccell.enrolment_id].competency_levels[ccell.item] = ccell.level
    return {pk: evaluate(year, RULES, OPTIONS).result for pk, year in years.items()}


def test_plan_is_deterministic(planned: list[tuple[ClassSpec, ClassAssessments]]) -> None:
    again = demo_plan.plan_assessments([spec for spec, _plan in planned])
    assert again == [plan for _spec, plan in planned]


def test_every_class_is_filled_for_the_whole_year(
    planned: list[tuple[ClassSpec, ClassAssessments]],
) -> None:
    assert len(planned) == 30
    for spec, plan in planned:
        pupils = len(spec.pupils)
        expected = pupils * len(spec.subjects) * 4
        gaps = 5 if spec.key == demo_plan.INCOMPLETE_CLASS else 0
        assert len(plan.subject_cells) == expected - gaps
        assert len(plan.competency_cells) == pupils * len(spec.items) * 4 - (2 if gaps else 0)
        assert len(plan.facts) == pupils
    subject_total = sum(len(plan.subject_cells) for _spec, plan in planned)
    assert 35_000 < subject_total < 45_000


def test_every_value_is_valid_and_consistent(
    planned: list[tuple[ClassSpec, ClassAssessments]],
) -> None:
    for spec, plan in planned:
        tested = {s.code: s.tested for s in spec.subjects}
        for cell in plan.subject_cells:
            assert cells.parse_subject_level(cell.level) == cell.level
            assert cells.parse_comment(cell.comment) == cell.comment and cell.comment
            if cell.score is None:
                assert cell.period not in tested[cell.subject] or spec.key == (
                    demo_plan.INCOMPLETE_CLASS
                )
                continue
            assert cell.period in tested[cell.subject]
            assert cells.parse_score(str(cell.score), OPTIONS, RULES) == cell.score
            low, high = {"T": (7, 10), "H": (5, 9), "C": (3, 5)}[cell.level]
            assert low <= cell.score <= high, cell
        for ccell in plan.competency_cells:
            assert cells.parse_competency_level(ccell.level) == ccell.level and ccell.comment
        for facts in plan.facts:
            for name in cells.FACT_LIMITS:
                value = getattr(facts, name)
                assert cells.parse_fact(name, str(value)) == value


def test_levels_and_scores_look_like_a_real_year(
    planned: list[tuple[ClassSpec, ClassAssessments]],
) -> None:
    levels = Counter(c.level for _s, plan in planned for c in plan.subject_cells)
    total = sum(levels.values())
    assert levels["T"] / total > 0.4 and levels["H"] / total > 0.3 and levels["C"] / total < 0.02
    scores = Counter(c.score for _s, plan in planned for c in plan.subject_cells if c.score)
    common = sum(scores[s] for s in (7, 8, 9)) / sum(scores.values())
    rare = sum(scores[s] for s in (3, 4)) / sum(scores.values())
    assert common > 0.6 and 0 < rare < 0.02
    competency = Counter(c.level for _s, plan in planned for c in plan.competency_cells)
    assert competency["C"] / sum(competency.values()) < 0.02
    grade_1 = [f for spec, plan in planned if spec.grade == 1 for f in plan.facts]
    grade_5 = [f for spec, plan in planned if spec.grade == 5 for f in plan.facts]
    assert 110 < sum(f.height_cm for f in grade_1) / len(grade_1) < 125
    assert 130 < sum(f.height_cm for f in grade_5) / len(grade_5) < 148


def test_a_few_cht_several_htxs_and_one_class_not_computable(
    planned: list[tuple[ClassSpec, ClassAssessments]],
) -> None:
    cht_per_school: Counter[str] = Counter()
    for spec, plan in planned:
        outcome = Counter(results(spec, plan).values())
        cht_per_school[spec.key[0]] += outcome["CHT"]
        assert outcome["HTXS"] >= 2, spec.key
        if spec.key == demo_plan.INCOMPLETE_CLASS:
            assert 3 <= outcome[None] <= 8
        else:
            assert outcome[None] == 0, spec.key
    assert len(cht_per_school) == 3
    assert all(2 <= count <= 4 for count in cht_per_school.values()), cht_per_school


def test_seed_writes_marks_results_and_one_audit_event(world: World) -> None:
    admin = world.users["system_admin"]
    summary = seed_assessments(actor=admin, school_year=world.year)
    assert summary.classes == 4
    enrolments = 12
    subjects = len([r for r in RULES.subjects_for(4) if r.grades[4] == "required"])
    items = len(RULES.competency_items(4, OPTIONS))
    assert SubjectMark.objects.count() == summary.subject_marks == enrolments * subjects * 4
    assert CompetencyMark.objects.count() == summary.competency_marks == enrolments * items * 4
    assert PupilYearFacts.objects.count() == summary.facts == enrolments
    assert YearEndRecord.objects.filter(computed_at__isnull=False).count() == enrolments
    assert sum(summary.results.values()) == enrolments and summary.results.get("CHT", 0) >= 2
    assert not CellChange.objects.exists()  # seeded values: the audit event stands for them
    event = AuditEvent.objects.get(action="assessment.demo.seeded")
    assert event.changes["subject_marks"] == summary.subject_marks
    assert event.changes["classes"] == 4
    assert (
        CommentBankEntry.objects.filter(owner__isnull=True).count() == summary.comment_bank_entries
    )
    assert summary.comment_bank_entries > 2 * 50  # both schools get a shared bank


def test_second_seed_writes_nothing(world: World) -> None:
    admin = world.users["system_admin"]
    seed_assessments(actor=admin, school_year=world.year)
    counts = [
        model.objects.count()
        for model in (SubjectMark, CompetencyMark, PupilYearFacts, YearEndRecord, AuditEvent)
    ]
    again = seed_assessments(actor=admin, school_year=world.year)
    assert (again.classes, again.subject_marks, again.comment_bank_entries) == (0, 0, 0)
    assert counts == [
        model.objects.count()
        for model in (SubjectMark, CompetencyMark, PupilYearFacts, YearEndRecord, AuditEvent)
    ]
