"""Read-side helpers: the rules and options in force for a class, its marks, its locks."""

from __future__ import annotations

from hocba.assessment.models import AssessmentSettings, Lock
from hocba.assessment.rules import RuleOptions, RuleSet, load_ruleset
from hocba.schools.models import Enrolment, SchoolClass, SchoolYear, TeachingAssignment


def options_for(school_year: SchoolYear) -> RuleOptions:
    stored = AssessmentSettings.objects.filter(school_year=school_year).first()
    if stored is None:
        return RuleOptions()
    return RuleOptions(
        allow_zero_score=stored.allow_zero_score,
        optional_subjects_count=stored.optional_subjects_count,
        single_score_tin_hoc_cong_nghe=stored.single_score_tin_hoc_cong_nghe,
        specific_competencies_by_grade={
            int(grade): tuple(codes)
            for grade, codes in (stored.specific_competencies_by_grade or {}).items()
        },
    )


def rules_for(school_year: SchoolYear) -> RuleSet:
    return load_ruleset(school_year.assessment_scheme)


def class_subjects(school_class: SchoolClass, rules: RuleSet) -> list[str]:
    """The class's subjects in form order: every required one, optional ones it is taught."""
    taught = set(
        TeachingAssignment.objects.filter(school_class=school_class).values_list(
            "subject", flat=True
        )
    )
    return [
        rule.code
        for rule in rules.subjects_for(school_class.grade)
        if rule.grades[school_class.grade] == "required" or rule.code in taught
    ]


def active_locks(school_class: SchoolClass) -> list[Lock]:
    return list(Lock.objects.filter(school_class=school_class, unlocked_at__isnull=True))


def lock_covering(locks: list[Lock], subject: str, period: str) -> Lock | None:
    return next((lock for lock in locks if lock.covers(subject, period)), None)


def class_enrolments(school_class: SchoolClass) -> list[Enrolment]:
    from hocba.schools.selectors import class_roster

    return class_roster(school_class)
