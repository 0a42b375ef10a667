"""Test helper: store a pupil's end-of-year marks directly (the services are tested elsewhere)."""

from __future__ import annotations

from hocba.assessment.models import CompetencyMark, SubjectMark
from hocba.assessment.rules import END_OF_YEAR, RuleOptions, load_ruleset
from hocba.schools.models import Enrolment

RULES = load_ruleset("tt27-2020")


def fill_end_of_year(
    enrolment: Enrolment,
    *,
    levels: dict[str, str] | None = None,
    scores: dict[str, int] | None = None,
    skip: tuple[str, ...] = (),
) -> None:
    """Every required subject T with score 10, every quality and competency T, unless told."""
    options = RuleOptions()
    grade = enrolment.school_class.grade
    for rule in RULES.subjects_for(grade):
        if rule.grades[grade] != "required" or rule.code in skip:
            continue
        tested = RULES.is_tested(rule.code, grade, END_OF_YEAR, options)
        SubjectMark.objects.update_or_create(
            enrolment=enrolment,
            subject=rule.code,
            period=END_OF_YEAR,
            defaults={
                "level": (levels or {}).get(rule.code, "T"),
                "score": (scores or {}).get(rule.code, 10) if tested else None,
            },
        )
    for item in RULES.competency_items(grade, options):
        CompetencyMark.objects.update_or_create(
            enrolment=enrolment, item=item.code, period=END_OF_YEAR, defaults={"level": "T"}
        )
