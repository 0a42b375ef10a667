"""Staff pages. Thin: they ask hocba.schools.access and call selectors and services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from hocba.assessment import history, year_end
from hocba.assessment.models import SummerOutcome, YearEndRecord
from hocba.assessment.yearend import CHT, Evaluation
from hocba.audit.models import AuditEvent
from hocba.schools import access, selectors
from hocba.schools.models import Enrolment, Pupil, Role
from hocba.web.forms import ThrottledLoginForm


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = ThrottledLoginForm
    redirect_authenticated_user = True


def _role_labels(user: Any) -> list[str]:
    staff = access.staff_of(user)
    if staff is None:
        return ["Quản trị hệ thống"] if user.is_superuser else []
    return [str(label) for value, label in Role.choices if value in staff.role_set]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """One page per audience: authorities see schools, school staff see classes."""
    user = request.user
    year = selectors.current_school_year()
    context: dict[str, Any] = {"roles": _role_labels(user), "school_year": year}
    if access.is_above_school(user):
        context["schools"] = (
            access.visible_schools(user)
            .select_related("district")
            .annotate(class_count=Count("classes", filter=Q(classes__school_year=year)))
            .order_by("district__name", "name")
        )
    else:
        context["classes"] = (
            access.visible_classes(user)
            .filter(school_year=year)
            .select_related("school", "homeroom_teacher")
            .order_by("grade", "name")
        )
        staff = access.staff_of(user)
        context["school"] = staff.school if staff else None
        context["is_manager"] = bool(
            staff and staff.school and access.can_change(user, staff.school)
        )
    return render(request, "web/home.html", context)


@login_required
def school_detail(request: HttpRequest, school_id: int) -> HttpResponse:
    school = get_object_or_404(access.visible_schools(request.user), pk=school_id)
    year_name = request.GET.get("nam_hoc")
    classes = selectors.classes_of_school(request.user, school, year_name=year_name)
    return render(
        request,
        "web/school_detail.html",
        {
            "school": school,
            "classes": classes,
            "can_change": access.can_change(request.user, school),
        },
    )


@login_required
def class_detail(request: HttpRequest, class_id: int) -> HttpResponse:
    school_class = get_object_or_404(
        access.visible_classes(request.user).select_related("school", "school_year"), pk=class_id
    )
    return render(
        request,
        "web/class_detail.html",
        {"school_class": school_class, "roster": selectors.class_roster(school_class)},
    )


@dataclass(frozen=True)
class YearResult:
    """One enrolment's year-end explanation on the pupil's page (issue 3 §7)."""

    enrolment: Enrolment
    evaluation: Evaluation
    record: YearEndRecord | None
    can_open_class: bool

    @property
    def completion(self) -> str:
        record = self.record
        if record and record.result == CHT and record.summer_outcome == SummerOutcome.COMPLETED:
            return record.completion
        return self.evaluation.completion or ""


def _year_results(user: Any, enrolments: list[Enrolment]) -> list[YearResult]:
    year = selectors.current_school_year()
    this_year = [e for e in enrolments if year is not None and e.school_year_id == year.pk]
    records = {r.enrolment_id: r for r in YearEndRecord.objects.filter(enrolment__in=this_year)}
    return [
        YearResult(
            enrolment=e,
            evaluation=year_end.evaluate_enrolment(e),
            record=records.get(e.pk),
            can_open_class=access.can_view(user, e.school_class),
        )
        for e in this_year
    ]


@login_required
def pupil_detail(request: HttpRequest, pupil_id: int) -> HttpResponse:
    pupil = get_object_or_404(access.visible_pupils(request.user), pk=pupil_id)
    access.log_personal_data_read(request.user, pupil)
    enrolments = list(
        pupil.enrolments.select_related("school_class__school", "school_year").order_by("joined_on")
    )
    context = {
        "pupil": pupil,
        "enrolments": enrolments,
        "school_year": selectors.current_school_year(),
        "year_results": _year_results(request.user, enrolments),
        "history": history.cell_history(enrolments),
        **_transfer_context(request.user, pupil, enrolments),
    }
    return render(request, "web/pupil_detail.html", context)


def _transfer_context(user: Any, pupil: Pupil, enrolments: list[Enrolment]) -> dict[str, Any]:
    """The pupil's transfers, the records received with them, and whether to offer a release."""
    active = [e for e in enrolments if e.left_on is None]
    return {
        "transfers": list(pupil.transfers.select_related("school").order_by("-at")),
        "transferred_records": list(pupil.transferred_records.order_by("start_year", "pk")),
        "prior_studies": list(pupil.prior_studies.order_by("start_year", "joined_on")),
        "can_release": any(access.can_change(user, e.school_class.school) for e in active),
        "managed_school_ids": {
            e.school_class.school_id
            for e in enrolments
            if access.can_change(user, e.school_class.school)
        },
    }


@login_required
def school_audit(request: HttpRequest, school_id: int) -> HttpResponse:
    """The school's own audit trail, including reads of its pupils' data from above."""
    school = get_object_or_404(access.visible_schools(request.user), pk=school_id)
    if not access.can_change(request.user, school):
        raise PermissionDenied("Chỉ ban giám hiệu và quản trị nhà trường xem được nhật ký.")
    events = AuditEvent.objects.filter(school=school).select_related("actor")[:200]
    return render(request, "web/school_audit.html", {"school": school, "events": events})


@login_required
def pupil_search(request: HttpRequest, school_id: int) -> HttpResponse:
    """htmx partial: live search of a school's pupils by name or code."""
    school = get_object_or_404(access.visible_schools(request.user), pk=school_id)
    query = request.GET.get("q", "")
    results = selectors.search_pupils(request.user, school, query)
    return render(request, "web/_pupil_results.html", {"results": results, "query": query})


def privacy(request: HttpRequest) -> HttpResponse:
    """What the system keeps about pupils and staff, why, who sees it, for how long (public)."""
    return render(request, "web/privacy.html")
