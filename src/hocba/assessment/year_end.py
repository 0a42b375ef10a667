"""Year-end results for a class from the stored marks, and the human decisions that follow.

The rule itself lives in :mod:`hocba.assessment.yearend` (pure); this module feeds it the
end-of-year marks and records results, the "Học sinh Tiêu biểu" flag, ad-hoc awards, the summer
supplementary assessment and the principal's promotion decision (DOMAIN §2.3-2.5).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hocba.assessment import selectors
from hocba.assessment.models import (
    CompetencyMark,
    Period,
    PromotionDecision,
    SubjectMark,
    SummerOutcome,
    YearEndRecord,
)
from hocba.assessment.yearend import CHT, HTT, Evaluation, PupilYear, evaluate
from hocba.audit.services import record_event
from hocba.common.errors import DomainError, PermissionRefused
from hocba.schools import access
from hocba.schools.models import Enrolment, SchoolClass


def _pupil_years(
    school_class: SchoolClass, enrolments: QuerySet[Enrolment]
) -> dict[int, PupilYear]:
    """End-of-year levels, scores and competency levels of some enrolments of one class."""
    rules = selectors.rules_for(school_class.school_year)
    subjects = selectors.class_subjects(school_class, rules)
    optional = frozenset(s for s in subjects if rules.is_optional(s, school_class.grade))
    years = {
        e.pk: PupilYear(school_class.grade, {}, {}, {}, optional_subjects=optional)
        for e in enrolments
    }
    for mark in SubjectMark.objects.filter(enrolment__in=enrolments, period=Period.CN):
        if mark.level:
            years[mark.enrolment_id].subject_levels[mark.subject] = mark.level
        if mark.score is not None:
            years[mark.enrolment_id].scores[mark.subject] = mark.score
    for cmark in CompetencyMark.objects.filter(enrolment__in=enrolments, period=Period.CN):
        if cmark.level:
            years[cmark.enrolment_id].competency_levels[cmark.item] = cmark.level
    return years


def class_pupil_years(school_class: SchoolClass) -> dict[int, PupilYear]:
    """Each current pupil's end-of-year levels, scores and competency levels."""
    enrolments = Enrolment.objects.filter(school_class=school_class, left_on__isnull=True)
    return _pupil_years(school_class, enrolments)


def evaluate_class(school_class: SchoolClass) -> dict[int, Evaluation]:
    rules = selectors.rules_for(school_class.school_year)
    options = selectors.options_for(school_class.school_year)
    return {
        enrolment_id: evaluate(pupil_year, rules, options)
        for enrolment_id, pupil_year in class_pupil_years(school_class).items()
    }


def evaluate_enrolment(enrolment: Enrolment) -> Evaluation:
    """One pupil's live year-end result with its reasons, also after leaving the class."""
    school_class = enrolment.school_class
    pupil_years = _pupil_years(school_class, Enrolment.objects.filter(pk=enrolment.pk))
    return evaluate(
        pupil_years[enrolment.pk],
        selectors.rules_for(school_class.school_year),
        selectors.options_for(school_class.school_year),
    )


def _completion(grade: int) -> str:
    if grade == 5:
        return _("Hoàn thành chương trình tiểu học")
    return _("Hoàn thành chương trình lớp %(g)s") % {"g": grade}


@transaction.atomic
def refresh_year_end(*, actor: Any, school_class: SchoolClass) -> dict[int, YearEndRecord]:
    """Compute and store every pupil's year-end result; human decisions are kept."""
    read_only = access.is_above_school(actor) and not access.is_system_admin(actor)
    if read_only or not access.can_view(actor, school_class):
        raise PermissionRefused(_("Bạn không có quyền với lớp này."))
    stored: dict[int, YearEndRecord] = {}
    now = timezone.now()
    for enrolment_id, evaluation in evaluate_class(school_class).items():
        record, _created = YearEndRecord.objects.select_for_update().get_or_create(
            enrolment_id=enrolment_id
        )
        record.result = evaluation.result or ""
        record.completion = evaluation.completion or ""
        if record.result == CHT and record.summer_outcome == SummerOutcome.COMPLETED:
            # The supplementary assessment's completion is a human decision: keep it.
            record.completion = _completion(school_class.grade)
        record.award = evaluation.award or ""
        record.reasons = evaluation.reasons
        record.missing = evaluation.missing
        record.computed_at = now
        record.save()
        stored[enrolment_id] = record
    results = Counter(record.result or "not_computable" for record in stored.values())
    record_event(
        actor=actor,
        action="assessment.year_end.computed",
        obj=school_class,
        school=school_class.school,
        changes={"results": dict(sorted(results.items()))},
    )
    return stored


def _record_for(actor: Any, enrolment: Enrolment, *, homeroom: bool) -> YearEndRecord:
    school_class = enrolment.school_class
    allowed = (
        access.can_enter_homeroom(actor, school_class)
        if homeroom
        else access.can_decide_promotion(actor, school_class)
    )
    if not allowed:
        raise PermissionRefused(_("Bạn không có quyền quyết định việc này."))
    record, _created = YearEndRecord.objects.select_for_update().get_or_create(enrolment=enrolment)
    return record


def _audit(actor: Any, action: str, enrolment: Enrolment, changes: dict[str, Any]) -> None:
    record_event(
        actor=actor,
        action=action,
        obj=enrolment.pupil,
        school=enrolment.school_class.school,
        changes=changes,
    )


@transaction.atomic
def flag_exemplary(*, actor: Any, enrolment: Enrolment, exemplary: bool, reason: str = "") -> None:
    """'Học sinh Tiêu biểu' is a human decision with a reason (Art. 13, DOMAIN §2.5)."""
    record = _record_for(actor, enrolment, homeroom=True)
    reason = reason.strip()
    if exemplary and record.result != HTT:
        raise DomainError(
            _("Chỉ học sinh được đánh giá Hoàn thành tốt mới được khen Học sinh Tiêu biểu.")
        )
    if exemplary and len(reason) < 10:
        raise DomainError(_("Cần ghi rõ lý do khen Học sinh Tiêu biểu."), field="reason")
    record.exemplary, record.exemplary_reason = exemplary, reason if exemplary else ""
    record.save(update_fields=["exemplary", "exemplary_reason"])
    _audit(
        actor,
        "assessment.year_end.exemplary_set",
        enrolment,
        {"exemplary": exemplary, "reason": reason},
    )


@transaction.atomic
def set_adhoc_awards(*, actor: Any, enrolment: Enrolment, text: str) -> None:
    record = _record_for(actor, enrolment, homeroom=True)
    record.adhoc_awards = text.strip()
    record.save(update_fields=["adhoc_awards"])
    _audit(
        actor,
        "assessment.year_end.adhoc_awards_set",
        enrolment,
        {"adhoc_awards": record.adhoc_awards},
    )


@transaction.atomic
def record_summer_assessment(*, actor: Any, enrolment: Enrolment, outcome: str, note: str) -> None:
    """The supplementary assessment after summer practice, for CHT pupils only (Art. 11)."""
    record = _record_for(actor, enrolment, homeroom=True)
    if record.result != CHT:
        raise DomainError(_("Chỉ học sinh chưa hoàn thành mới đánh giá bổ sung."))
    if outcome not in SummerOutcome.values:
        raise DomainError(_("Kết quả đánh giá bổ sung không hợp lệ."), field="outcome")
    if record.promotion:
        raise DomainError(_("Hiệu trưởng đã quyết định; không sửa được kết quả đánh giá bổ sung."))
    record.summer_outcome, record.summer_note = outcome, note.strip()
    record.completion = (
        _completion(enrolment.school_class.grade) if outcome == SummerOutcome.COMPLETED else ""
    )
    record.save(update_fields=["summer_outcome", "summer_note", "completion"])
    _audit(
        actor, "assessment.year_end.summer_assessed", enrolment, {"outcome": outcome, "note": note}
    )


@transaction.atomic
def decide_promotion(*, actor: Any, enrolment: Enrolment, decision: str) -> None:
    """After an unsuccessful supplementary assessment the principal decides (Art. 11)."""
    record = _record_for(actor, enrolment, homeroom=False)
    if record.result != CHT or record.summer_outcome != SummerOutcome.NOT_COMPLETED:
        raise DomainError(
            _("Hiệu trưởng chỉ quyết định lên lớp sau khi đánh giá bổ sung vẫn chưa hoàn thành.")
        )
    if decision not in PromotionDecision.values:
        raise DomainError(_("Quyết định không hợp lệ."), field="decision")
    record.promotion, record.promotion_decided_by = decision, actor
    record.save(update_fields=["promotion", "promotion_decided_by"])
    _audit(actor, "assessment.year_end.promotion_decided", enrolment, {"decision": decision})
