"""Assessment entry grids (issue 3 §2): subject, qualities and competencies, header facts, and
the class overview.

Pages are readable by whoever may see the class (access.can_view: others get 404) and editable
only by who may enter that part (subject teacher, homeroom teacher) while no lock covers it. The
grids save through :mod:`hocba.web.views_grid_save`, i.e. ``services.apply_edits``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hocba.assessment import cells, comment_bank, year_end
from hocba.assessment import selectors as assessment_selectors
from hocba.assessment.models import Lock
from hocba.schools import access
from hocba.schools.models import SchoolClass
from hocba.web import grid_data
from hocba.web.grid_data import END_OF_YEAR, PERIOD_TABS, PERIODS
from hocba.web.grid_overview import class_overview


def _visible_class(request: HttpRequest, class_id: int) -> SchoolClass:
    classes = access.visible_classes(request.user).select_related(
        "school", "school_year", "homeroom_teacher"
    )
    return get_object_or_404(classes, pk=class_id)


def _person(user: Any) -> str:
    staff = getattr(user, "staff", None)
    return str(staff.full_name) if staff else str(user.get_username())


def _lock_context(lock: Lock | None) -> dict[str, str] | None:
    if lock is None:
        return None
    return {
        "by": _person(lock.locked_by),
        "at": timezone.localtime(lock.locked_at).strftime("%d/%m/%Y %H:%M"),
        "reason": lock.reason or _("đã hoàn thành nhập"),
    }


def _messages() -> dict[str, str]:
    """Client-side refusals use the service's own wording (cells.py) so both sides agree."""
    return {
        "subjectLevel": _("Mức đạt được “%(v)s” không hợp lệ: chỉ nhập T, H hoặc C."),
        "competencyLevel": _("Mức đánh giá “%(v)s” không hợp lệ: chỉ nhập T, Đ (hoặc D) hoặc C."),
        "scoreNotInteger": _(
            "Điểm “%(v)s” không hợp lệ: điểm kiểm tra là số nguyên, không có phần thập phân."
        ),
        "scoreRange": _("Điểm %(v)s ngoài thang điểm: chỉ nhập từ %(lo)s đến 10."),
        "commentLength": _("Nhận xét dài %(n)s ký tự, tối đa %(max)s."),
        "notNumber": _("“%(v)s” không phải là số."),
        "daysInteger": _("Số ngày nghỉ phải là số nguyên."),
        "factRange": _("Giá trị %(v)s ngoài khoảng hợp lý (%(lo)s đến %(hi)s)."),
        "saving": _("Đang lưu…"),
        "savedAt": _("Đã lưu lúc %(time)s"),
        "error": _("Lỗi: %(message)s"),
        "unsaved": _("Có thay đổi chưa lưu."),
        "offline": _("không kết nối được máy chủ, sẽ tự thử lại sau ít giây"),
        "expired": _("phiên đăng nhập đã hết hạn: hãy đăng nhập lại trong một thẻ khác rồi sửa ô"),
        "refusedCells": _("%(n)s ô chưa lưu được, xem danh sách dưới bảng"),
        "pasteRefused": _("Không dán được, chưa ô nào thay đổi."),
        "pasteCell": _("Dòng %(row)s, cột “%(column)s”: %(message)s"),
        "pasteClipped": _("Đã bỏ qua %(n)s giá trị nằm ngoài bảng."),
        "incomplete": _("Chưa đủ dữ liệu"),
    }


def _config(
    school_class: SchoolClass, *, editable: bool, bank: dict[str, dict[str, str]]
) -> dict[str, Any]:
    options = assessment_selectors.options_for(school_class.school_year)
    rules = assessment_selectors.rules_for(school_class.school_year)
    return {
        "saveUrl": reverse("web:grid_save", args=[school_class.pk]),
        "editable": editable,
        "scoreMin": rules.score_range(options).start,
        "scoreMax": 10,
        "commentMax": cells.COMMENT_MAX_LENGTH,
        "factLimits": {
            name: [float(low), float(high), integer_only]
            for name, (low, high, integer_only) in cells.FACT_LIMITS.items()
        },
        "bank": bank,
        "messages": _messages(),
    }


def _period_tabs(url_name: str, args: list[Any], period: str) -> list[dict[str, Any]]:
    return [
        {"label": label, "url": reverse(url_name, args=[*args, code]), "active": code == period}
        for code, label in PERIOD_TABS
    ]


def _bank_listing(bank: dict[str, dict[str, str]], labels: dict[str, str]) -> list[Any]:
    """(heading, [(code, text)]) for the help box; entries every target shares are listed once."""
    tables = [set(entries.items()) for entries in bank.values()]
    shared = set.intersection(*tables) if len(tables) > 1 else set()
    listing: list[Any] = [(_("Dùng cho mọi mục"), sorted(shared))] if shared else []
    for target, entries in bank.items():
        own = sorted(set(entries.items()) - shared)
        if own:
            listing.append((labels.get(target, target), own))
    return listing


def _grid_page(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    context["config"] = _config(
        context["school_class"], editable=context["editable"], bank=context.get("bank", {})
    )
    return render(request, "web/grid_page.html", context)


@login_required
def subject_grid_default(request: HttpRequest, class_id: int, subject: str) -> HttpResponse:
    _visible_class(request, class_id)
    period = grid_data.default_period(timezone.localdate())
    return redirect("web:grid_subject", class_id, subject, period)


@login_required
def subject_grid(request: HttpRequest, class_id: int, subject: str, period: str) -> HttpResponse:
    school_class = _visible_class(request, class_id)
    rules = assessment_selectors.rules_for(school_class.school_year)
    options = assessment_selectors.options_for(school_class.school_year)
    subjects = assessment_selectors.class_subjects(school_class, rules)
    if subject not in subjects or period not in PERIODS:
        raise Http404
    lock = grid_data.subject_lock(school_class, subject, period)
    may_enter = access.can_enter_subject(request.user, school_class, subject)
    editable = may_enter and lock is None
    columns = grid_data.subject_columns(rules, options, school_class, subject, period)
    bank = {}
    if editable:
        staff = access.staff_of(request.user)
        bank = {subject: comment_bank.entries_for(school_class.school, staff, subject)}
    label = rules.subject(subject).label
    pickers = [
        {
            "label": rules.subject(code).label,
            "url": reverse("web:grid_subject", args=[class_id, code, period]),
            "active": code == subject,
            "mine": access.can_enter_subject(request.user, school_class, code),
        }
        for code in subjects
    ]
    return _grid_page(
        request,
        {
            "school_class": school_class,
            "title": label,
            "period_label": dict(PERIOD_TABS)[period],
            "tabs": _period_tabs("web:grid_subject", [class_id, subject], period),
            "pickers": pickers,
            "sheet": "subject",
            "period": period,
            "columns": columns,
            "header_rows": grid_data.header_rows(columns),
            "rows": grid_data.subject_rows(
                grid_data.roster(school_class), columns, subject, period
            ),
            "editable": editable,
            "lock": _lock_context(lock),
            "read_only_reason": ""
            if may_enter
            else _("Bạn chỉ xem được bảng này: môn này do giáo viên được phân công nhập."),
            "bank": bank,
            "bank_listing": _bank_listing(bank, {subject: label}),
        },
    )


@login_required
def homeroom_grid_default(request: HttpRequest, class_id: int) -> HttpResponse:
    _visible_class(request, class_id)
    period = grid_data.default_period(timezone.localdate())
    return redirect("web:grid_homeroom", class_id, period)


@login_required
def homeroom_grid(request: HttpRequest, class_id: int, period: str) -> HttpResponse:
    school_class = _visible_class(request, class_id)
    if period not in PERIODS:
        raise Http404
    rules = assessment_selectors.rules_for(school_class.school_year)
    options = assessment_selectors.options_for(school_class.school_year)
    compact = request.GET.get("thu-gon") == "1"
    lock = grid_data.homeroom_lock(school_class, period)
    may_enter = access.can_enter_homeroom(request.user, school_class)
    editable = may_enter and lock is None
    columns = grid_data.competency_columns(rules, options, school_class, with_comments=not compact)
    items = rules.competency_items(school_class.grade, options)
    bank: dict[str, dict[str, str]] = {}
    if editable:
        staff = access.staff_of(request.user)
        for item in items:
            bank[item.code] = comment_bank.entries_for(school_class.school, staff, item.code)
    rows = grid_data.competency_rows(grid_data.roster(school_class), columns, period)
    show_year_end = period == END_OF_YEAR
    if show_year_end:
        evaluations = year_end.evaluate_class(school_class)
        for row in rows:
            row.evaluation = evaluations.get(row.enrolment.pk)
    return _grid_page(
        request,
        {
            "school_class": school_class,
            "title": _("Phẩm chất, năng lực"),
            "period_label": dict(PERIOD_TABS)[period],
            "tabs": _period_tabs("web:grid_homeroom", [class_id], period),
            "sheet": "competency",
            "period": period,
            "columns": columns,
            "header_rows": grid_data.header_rows(columns, grouped=True),
            "rows": rows,
            "compact": compact,
            "editable": editable,
            "lock": _lock_context(lock),
            "read_only_reason": ""
            if may_enter
            else _("Bạn chỉ xem được bảng này: phẩm chất, năng lực do giáo viên chủ nhiệm nhập."),
            "bank": bank,
            "bank_listing": _bank_listing(bank, {i.code: i.label for i in items}),
            "show_year_end": show_year_end,
        },
    )


@login_required
def facts_grid(request: HttpRequest, class_id: int) -> HttpResponse:
    school_class = _visible_class(request, class_id)
    lock = grid_data.homeroom_lock(school_class, "")
    may_enter = access.can_enter_homeroom(request.user, school_class)
    columns = grid_data.fact_columns()
    return _grid_page(
        request,
        {
            "school_class": school_class,
            "title": _("Thông tin chung"),
            "period_label": _("Cả năm học"),
            "sheet": "facts",
            "period": "",
            "columns": columns,
            "header_rows": grid_data.header_rows(columns),
            "rows": grid_data.fact_rows(grid_data.roster(school_class), columns),
            "editable": may_enter and lock is None,
            "lock": _lock_context(lock),
            "read_only_reason": ""
            if may_enter
            else _("Bạn chỉ xem được bảng này: thông tin chung do giáo viên chủ nhiệm nhập."),
        },
    )


@login_required
def overview(request: HttpRequest, class_id: int) -> HttpResponse:
    school_class = _visible_class(request, class_id)
    period = request.GET.get("thoi-diem", END_OF_YEAR)
    if period not in PERIODS:
        period = END_OF_YEAR
    data = class_overview(school_class, period)
    base = reverse("web:class_overview", args=[class_id])
    tabs = [
        {"label": label, "url": f"{base}?thoi-diem={code}", "active": code == period}
        for code, label in PERIOD_TABS
    ]
    return render(
        request,
        "web/grid_overview.html",
        {
            "school_class": school_class,
            "overview": data,
            "period": period,
            "period_label": dict(PERIOD_TABS)[period],
            "tabs": tabs,
            "is_end_of_year": period == END_OF_YEAR,
        },
    )


def enterable_subjects(user: Any, school_class: SchoolClass) -> list[tuple[str, str]]:
    """(code, label) of the class's subjects this user enters, for the class page's links."""
    rules = assessment_selectors.rules_for(school_class.school_year)
    return [
        (code, rules.subject(code).label)
        for code in assessment_selectors.class_subjects(school_class, rules)
        if access.can_enter_subject(user, school_class, code)
    ]
