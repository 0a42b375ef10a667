"""Demo assessments for ``hocba demo``: every demo class, the whole year. DEMO, NOT FOR PRODUCTION.

:func:`hocba.assessment.demo_plan.plan_assessments` plans levels, scores, comments and facts
(pure, seeded); this module writes them. About 950 pupils × 8-12 subjects × 4 periods is ~40k
subject marks and ~55k competency marks, so they are written with ``bulk_create`` in the seed's
one transaction instead of ``services.apply_edits`` per cell (which would take minutes).

Seeded values therefore have no per-cell history (no ``CellChange`` rows): the single audit event
``assessment.demo.seeded`` records what was written instead. A handful of corrections in one class
then go through ``services.apply_edits`` like a teacher's, so the pupil's page shows a real
history; year-end results are computed with ``year_end.refresh_year_end`` and a few human
decisions (Học sinh Tiêu biểu, ad-hoc awards, the summer path) go through their services too.

Idempotent: a class that already has marks is skipped, and a school that already has a comment
bank keeps it, so a second run writes nothing.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch

from hocba.assessment import selectors, services, year_end
from hocba.assessment.cells import CellAddress
from hocba.assessment.demo_comments import (
    ADHOC_AWARDS,
    EXEMPLARY_REASONS,
    GENERAL_COMMENTS,
    OWN_COMMENTS,
    SUBJECT_COMMENTS,
    SUMMER_NOTES,
)
from hocba.assessment.demo_plan import (
    PERIODS,
    SEED,
    ClassAssessments,
    ClassSpec,
    SubjectSpec,
    plan_assessments,
)
from hocba.assessment.models import (
    CommentBankEntry,
    CompetencyMark,
    PromotionDecision,
    PupilYearFacts,
    SubjectMark,
    SummerOutcome,
    YearEndRecord,
)
from hocba.assessment.yearend import CHT, HTT
from hocba.audit.services import record_event
from hocba.schools.models import Enrolment, Role, School, SchoolClass, SchoolYear

CORRECTED_CLASS = ("01005101", "4A")  # where a few corrections leave a history
OWN_BANK_TEACHER = "gv.dichvonga.4a"


@dataclass(frozen=True)
class AssessmentSeedSummary:
    classes: int  # classes seeded by this run
    subject_marks: int
    competency_marks: int
    facts: int
    comment_bank_entries: int
    results: dict[str, int]  # stored year-end results of the whole year (HTXS … "" not computable)
    seconds: float


def class_spec(school_class: SchoolClass, enrolments: list[Enrolment]) -> ClassSpec:
    rules = selectors.rules_for(school_class.school_year)
    options = selectors.options_for(school_class.school_year)
    grade = school_class.grade
    subjects = tuple(
        SubjectSpec(code, tuple(p for p in PERIODS if rules.is_tested(code, grade, p, options)))
        for code in selectors.class_subjects(school_class, rules)
    )
    items = tuple(item.code for item in rules.competency_items(grade, options))
    pupils = sorted(enrolments, key=lambda e: e.pupil.ministry_code)
    return ClassSpec(
        key=(school_class.school.code, school_class.name),
        grade=grade,
        subjects=subjects,
        items=items,
        pupils=tuple((e.pk, e.pupil.sex) for e in pupils),
    )


def _write(plan: ClassAssessments) -> tuple[int, int, int]:
    subject_marks = SubjectMark.objects.bulk_create(
        SubjectMark(
            enrolment_id=c.enrolment_id,
            subject=c.subject,
            period=c.period,
            level=c.level,
            score=c.score,
            comment=c.comment,
        )
        for c in plan.subject_cells
    )
    competency_marks = CompetencyMark.objects.bulk_create(
        CompetencyMark(
            enrolment_id=c.enrolment_id,
            item=c.item,
            period=c.period,
            level=c.level,
            comment=c.comment,
        )
        for c in plan.competency_cells
    )
    facts = PupilYearFacts.objects.bulk_create(
        (
            PupilYearFacts(
                enrolment_id=f.enrolment_id,
                height_cm=f.height_cm,
                weight_kg=f.weight_kg,
                days_absent_excused=f.days_absent_excused,
                days_absent_unexcused=f.days_absent_unexcused,
            )
            for f in plan.facts
        ),
        ignore_conflicts=True,
    )
    return len(subject_marks), len(competency_marks), len(facts)


def _correct(school_class: SchoolClass) -> None:
    """A few corrections made like a teacher's, so the pupil's page shows a real history."""
    teacher = school_class.homeroom_teacher.user if school_class.homeroom_teacher else None
    roster = selectors.class_enrolments(school_class)
    if teacher is None or len(roster) < 3:
        return
    first, second, third = roster[0], roster[1], roster[2]
    score = SubjectMark.objects.get(enrolment=first, subject="toan", period="cn").score or 8
    weight = PupilYearFacts.objects.get(enrolment=third).weight_kg or 25
    toan, tieng_viet = SUBJECT_COMMENTS["toan"][1], SUBJECT_COMMENTS["tieng_viet"][1]
    edits = [
        (first, CellAddress("subject", "toan", "cn", "score"), min(score + 1, 10)),
        (first, CellAddress("subject", "toan", "cn", "comment"), toan["T"][0]),
        (second, CellAddress("subject", "tieng_viet", "ck1", "comment"), tieng_viet["H"][0]),
        (third, CellAddress("facts", "weight_kg", "", "value"), str(weight + 1).replace(".", ",")),
    ]
    for enrolment, address, value in edits:
        services.apply_edits(
            actor=teacher,
            school_class=school_class,
            edits=[services.CellEdit(enrolment.pk, address, value)],
        )


def _decide(school_class: SchoolClass, records: list[YearEndRecord], index: int) -> None:
    """Human decisions: one Học sinh Tiêu biểu, sometimes an ad-hoc award, the summer path."""
    teacher = school_class.homeroom_teacher.user if school_class.homeroom_teacher else None
    if teacher is None:
        return
    good = [r for r in records if r.result == HTT]
    if good:
        year_end.flag_exemplary(
            actor=teacher,
            enrolment=good[index % len(good)].enrolment,
            exemplary=True,
            reason=EXEMPLARY_REASONS[index % len(EXEMPLARY_REASONS)],
        )
    if index % 4 == 1 and len(good) > 1:
        award = ADHOC_AWARDS[(index // 4) % len(ADHOC_AWARDS)]
        year_end.set_adhoc_awards(actor=teacher, enrolment=good[-1].enrolment, text=award)


SUMMER_STATES = ("waiting", SummerOutcome.NOT_COMPLETED, "decided", SummerOutcome.COMPLETED)


def _summer(records: list[YearEndRecord]) -> None:
    """The CHT pupils in turn through every state of the summer path: waiting, assessed, decided."""
    for position, record in enumerate(records):
        enrolment = record.enrolment
        school_class = enrolment.school_class
        state = SUMMER_STATES[position % len(SUMMER_STATES)]
        if state == "waiting" or school_class.homeroom_teacher is None:
            continue
        outcome = SummerOutcome.COMPLETED if state == SummerOutcome.COMPLETED else "not_completed"
        year_end.record_summer_assessment(
            actor=school_class.homeroom_teacher.user,
            enrolment=enrolment,
            outcome=outcome,
            note=SUMMER_NOTES[outcome],
        )
        principal = school_class.school.staff.filter(roles__role=Role.PRINCIPAL).first()
        if state == "decided" and principal is not None:
            year_end.decide_promotion(
                actor=principal.user, enrolment=enrolment, decision=PromotionDecision.PROMOTED
            )


def _seed_bank(schools: list[School]) -> int:
    """The shared comment bank of each school (from the demo comments), and one teacher's own."""
    entries: list[CommentBankEntry] = []
    for school in schools:
        if CommentBankEntry.objects.filter(school=school).exists():
            continue
        for subject, (prefix, by_level) in SUBJECT_COMMENTS.items():
            texts = [text for level in ("T", "H", "C") for text in by_level[level]]
            entries += [
                CommentBankEntry(school=school, code=f"{prefix}{n}", target=subject, text=text)
                for n, text in enumerate(texts, start=1)
            ]
        entries += [CommentBankEntry(school=school, code=c, text=t) for c, t in GENERAL_COMMENTS]
        owner = school.staff.filter(user__username=OWN_BANK_TEACHER).first()
        if owner is not None:
            entries += [
                CommentBankEntry(school=school, owner=owner, code=c, target=t, text=text)
                for c, t, text in OWN_COMMENTS
            ]
    return len(CommentBankEntry.objects.bulk_create(entries))


def _classes(school_year: SchoolYear) -> list[SchoolClass]:
    current = Enrolment.objects.filter(left_on__isnull=True).select_related("pupil")
    return list(
        SchoolClass.objects.filter(school_year=school_year)
        .select_related("school", "school_year", "homeroom_teacher__user")
        .prefetch_related(Prefetch("enrolments", queryset=current, to_attr="current"))
        .order_by("school__code", "grade", "name")
    )


def seed_assessments(*, actor: Any, school_year: SchoolYear) -> AssessmentSeedSummary:
    """Fill the year of every class without marks; runs inside the seed's transaction."""
    started = time.perf_counter()
    classes = _classes(school_year)
    seeded = set(
        SubjectMark.objects.filter(enrolment__school_class__in=classes)
        .values_list("enrolment__school_class_id", flat=True)
        .distinct()
    )
    plans = plan_assessments([class_spec(c, c.current) for c in classes])  # type: ignore[attr-defined]
    todo = [(c, plan) for c, plan in zip(classes, plans, strict=True) if c.pk not in seeded]
    counts = [0, 0, 0]
    for school_class, plan in todo:
        for position, written in enumerate(_write(plan)):
            counts[position] += written
        if (school_class.school.code, school_class.name) == CORRECTED_CLASS:
            _correct(school_class)
    schools = list({c.school_id: c.school for c in classes}.values())
    bank = _seed_bank(schools)
    _year_end(actor, [c for c, _plan in todo])
    summary = AssessmentSeedSummary(
        classes=len(todo),
        subject_marks=counts[0],
        competency_marks=counts[1],
        facts=counts[2],
        comment_bank_entries=bank,
        results=_results(classes),
        seconds=time.perf_counter() - started,
    )
    if todo or bank:
        _audit(actor, summary)
    return summary


def _year_end(actor: Any, classes: list[SchoolClass]) -> None:
    weak: list[YearEndRecord] = []
    for index, school_class in enumerate(classes):
        stored = year_end.refresh_year_end(actor=actor, school_class=school_class)
        records = []
        for enrolment in selectors.class_enrolments(school_class):
            if record := stored.get(enrolment.pk):
                enrolment.school_class = school_class
                record.enrolment = enrolment
                records.append(record)
        _decide(school_class, records, index)
        weak += [r for r in records if r.result == CHT]
    _summer(weak)


def _results(classes: list[SchoolClass]) -> dict[str, int]:
    records = YearEndRecord.objects.filter(enrolment__school_class__in=classes)
    return dict(Counter(records.values_list("result", flat=True)))


def _audit(actor: Any, summary: AssessmentSeedSummary) -> None:
    record_event(
        actor=actor,
        action="assessment.demo.seeded",
        object_type="assessment.demo",
        object_id=str(SEED),
        object_label="Đánh giá demo, không dùng cho thực tế",
        changes={
            "seed": SEED,
            "classes": summary.classes,
            "subject_marks": summary.subject_marks,
            "competency_marks": summary.competency_marks,
            "facts": summary.facts,
            "comment_bank_entries": summary.comment_bank_entries,
            "cell_history": "không ghi lịch sử từng ô cho dữ liệu demo",
        },
    )
