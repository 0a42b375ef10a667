"""The class's year-end page (issue 3 §3): live results, stored decisions, the summer path.

Every pupil is listed with the live result of :func:`hocba.assessment.year_end.evaluate_class`
next to what is stored (:class:`~hocba.assessment.models.YearEndRecord`). Pending states (not
computable, waiting for the supplementary assessment, waiting for the principal) are badges on the
pupil's row, never a blocker for the rest of the class. The small forms post to one URL per
decision; with htmx the pupil's rows are swapped in place, without it the page reloads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hocba.assessment import year_end
from hocba.assessment.models import PromotionDecision, SummerOutcome, YearEndRecord
from hocba.assessment.yearend import CHT, HTT, RESULT_LABELS, Evaluation
from hocba.common.errors import DomainError, PermissionRefused
from hocba.schools import access, selectors
from hocba.schools.models import Enrolment, SchoolClass

MISSING_SHOWN = 3  # missing fields named on the badge; the rest in the explanation


@dataclass(frozen=True)
class Badge:
    kind: str  # css modifier: wait | missing | ok | stale | award
    text: str


@dataclass
class PupilRow:
    number: int
    enrolment: Enrolment
    evaluation: Evaluation
    record: YearEndRecord | None
    badges: list[Badge] = field(default_factory=list)
    error: str = ""

    @property
    def stored_result(self) -> str:
        return self.record.result if self.record else ""

    @property
    def is_stale(self) -> bool:
        """The stored result is missing or no longer what the marks give."""
        if self.record is None or self.record.computed_at is None:
            return True
        return (self.record.result, self.record.missing) != (
            self.evaluation.result or "",
            self.evaluation.missing,
        )

    @property
    def completion(self) -> str:
        """The live completion text, or the one the supplementary assessment gave."""
        record = self.record
        if record and record.result == CHT and record.summer_outcome == SummerOutcome.COMPLETED:
            return record.completion
        return self.evaluation.completion or ""

    @property
    def may_be_exemplary(self) -> bool:
        return self.stored_result == HTT

    @property
    def is_cht(self) -> bool:
        return self.stored_result == CHT

    @property
    def awaits_principal(self) -> bool:
        record = self.record
        return bool(
            record
            and record.result == CHT
            and record.summer_outcome == SummerOutcome.NOT_COMPLETED
            and not record.promotion
        )


def _summer_badge(record: YearEndRecord) -> Badge:
    if record.promotion:
        return Badge("ok", str(PromotionDecision(record.promotion).label))
    if record.summer_outcome == SummerOutcome.COMPLETED:
        return Badge("ok", _("Hoàn thành sau đánh giá bổ sung"))
    if record.summer_outcome == SummerOutcome.NOT_COMPLETED:
        return Badge("wait", _("Chờ hiệu trưởng quyết định"))
    return Badge("wait", _("Chờ đánh giá bổ sung"))


def _badges(row: PupilRow) -> list[Badge]:
    badges = []
    missing = row.evaluation.missing
    if missing:
        shown = "; ".join(missing[:MISSING_SHOWN])
        more = len(missing) - MISSING_SHOWN
        if more > 0:
            shown += " " + _("và %(n)s mục khác") % {"n": more}
        badges.append(Badge("missing", _("Chưa đủ dữ liệu: %(fields)s") % {"fields": shown}))
    record = row.record
    if record and record.result == CHT:
        badges.append(_summer_badge(record))
    if row.is_stale:
        badges.append(Badge("stale", _("Chưa lưu kết quả mới nhất")))
    return badges


def _rows(school_class: SchoolClass, only: int | None = None) -> list[PupilRow]:
    roster = selectors.class_roster(school_class)
    evaluations = year_end.evaluate_class(school_class)
    records = {
        r.enrolment_id: r
        for r in YearEndRecord.objects.filter(enrolment__in=roster).select_related(
            "promotion_decided_by__staff"
        )
    }
    rows = []
    for number, enrolment in enumerate(roster, start=1):
        if only is not None and enrolment.pk != only:
            continue
        row = PupilRow(number, enrolment, evaluations[enrolment.pk], records.get(enrolment.pk))
        row.badges = _badges(row)
        rows.append(row)
    return rows


def _visible_class(request: HttpRequest, class_id: int) -> SchoolClass:
    classes = access.visible_classes(request.user).select_related(
        "school", "school_year", "homeroom_teacher"
    )
    return get_object_or_404(classes, pk=class_id)


def _can_refresh(user: Any, school_class: SchoolClass) -> bool:
    """Mirrors year_end.refresh_year_end: anyone at the school who sees the class."""
    return access.is_system_admin(user) or not access.is_above_school(user)


def _page_context(request: HttpRequest, school_class: SchoolClass) -> dict[str, Any]:
    user = request.user
    rows = _rows(school_class)
    counts = Counter(row.evaluation.result or "" for row in rows)
    computed = [r.record.computed_at for r in rows if r.record and r.record.computed_at]
    return {
        "school_class": school_class,
        "rows": rows,
        "result_counts": [(code, label, counts[code]) for code, label in RESULT_LABELS.items()],
        "not_computable": counts[""],
        "stale": sum(row.is_stale for row in rows),
        "computed_at": max(computed) if computed else None,
        **_roles(user, school_class),
    }


def _roles(user: Any, school_class: SchoolClass) -> dict[str, Any]:
    return {
        "can_refresh": _can_refresh(user, school_class),
        "is_homeroom": access.can_enter_homeroom(user, school_class),
        "can_decide": access.can_decide_promotion(user, school_class),
        "summer_outcomes": SummerOutcome.choices,
        "promotion_choices": PromotionDecision.choices,
    }


@login_required
def year_end_page(request: HttpRequest, class_id: int) -> HttpResponse:
    school_class = _visible_class(request, class_id)
    return render(request, "web/year_end_page.html", _page_context(request, school_class))


@login_required
@require_POST
def year_end_refresh(request: HttpRequest, class_id: int) -> HttpResponse:
    school_class = _visible_class(request, class_id)
    try:
        stored = year_end.refresh_year_end(actor=request.user, school_class=school_class)
    except DomainError as error:
        return _page_with_error(request, school_class, error)
    messages.success(
        request, _("Đã tính và lưu kết quả cuối năm của %(n)s học sinh.") % {"n": len(stored)}
    )
    return redirect("web:year_end", class_id=school_class.pk)


def _page_with_error(
    request: HttpRequest, school_class: SchoolClass, error: DomainError
) -> HttpResponse:
    context = {**_page_context(request, school_class), "error": error.message}
    status = 403 if isinstance(error, PermissionRefused) else 400
    return render(request, "web/year_end_page.html", context, status=status)


def _pupil_action(
    request: HttpRequest,
    class_id: int,
    enrolment_id: int,
    action: Callable[[Enrolment], None],
    done: str,
    form_name: str,
) -> HttpResponse:
    """Run one decision for one pupil; answer with the pupil's rows (htmx) or the whole page."""
    school_class = _visible_class(request, class_id)
    enrolment = get_object_or_404(
        Enrolment.objects.select_related("pupil", "school_class__school"),
        pk=enrolment_id,
        school_class=school_class,
        left_on__isnull=True,
    )
    error: DomainError | None = None
    try:
        action(enrolment)
    except DomainError as refused:
        error = refused
    if request.headers.get("HX-Request"):
        row = _rows(school_class, only=enrolment.pk)[0]
        row.error = error.message if error else ""
        context = {"row": row, "school_class": school_class, **_roles(request.user, school_class)}
        context["saved"] = "" if error else done
        if error:  # give the refused form back as typed
            context.update(posted=request.POST, posted_form=form_name)
        return render(request, "web/year_end_row.html", context)
    if error is not None:
        return _page_with_error(request, school_class, error)
    messages.success(request, f"{enrolment.pupil.full_name}: {done}")
    return redirect("web:year_end", class_id=school_class.pk)


@login_required
@require_POST
def set_exemplary(request: HttpRequest, class_id: int, enrolment_id: int) -> HttpResponse:
    def action(enrolment: Enrolment) -> None:
        year_end.flag_exemplary(
            actor=request.user,
            enrolment=enrolment,
            exemplary=request.POST.get("exemplary") == "on",
            reason=request.POST.get("reason", ""),
        )

    return _pupil_action(
        request, class_id, enrolment_id, action, _("Đã lưu khen thưởng."), "exemplary"
    )


@login_required
@require_POST
def set_adhoc_awards(request: HttpRequest, class_id: int, enrolment_id: int) -> HttpResponse:
    def action(enrolment: Enrolment) -> None:
        text = request.POST.get("adhoc_awards", "")
        year_end.set_adhoc_awards(actor=request.user, enrolment=enrolment, text=text)

    done = _("Đã lưu khen thưởng đột xuất.")
    return _pupil_action(request, class_id, enrolment_id, action, done, "adhoc")


@login_required
@require_POST
def record_summer(request: HttpRequest, class_id: int, enrolment_id: int) -> HttpResponse:
    def action(enrolment: Enrolment) -> None:
        year_end.record_summer_assessment(
            actor=request.user,
            enrolment=enrolment,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
        )

    return _pupil_action(
        request, class_id, enrolment_id, action, _("Đã lưu đánh giá bổ sung."), "summer"
    )


@login_required
@require_POST
def decide_promotion(request: HttpRequest, class_id: int, enrolment_id: int) -> HttpResponse:
    def action(enrolment: Enrolment) -> None:
        year_end.decide_promotion(
            actor=request.user, enrolment=enrolment, decision=request.POST.get("decision", "")
        )

    return _pupil_action(
        request, class_id, enrolment_id, action, _("Đã lưu quyết định."), "promotion"
    )
