"""Excel pages: download and upload each assessment grid, the class summary, the comment bank.

Thin: access checks and the work are in :mod:`hocba.assessment.excel`. Anyone who may view a
class downloads its workbooks; only those who enter a grid's cells may upload it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hocba.assessment import excel, selectors
from hocba.assessment.models import Period
from hocba.common.errors import DomainError, PermissionRefused
from hocba.schools import access
from hocba.schools.models import School, SchoolClass, Staff

# URL word -> workbook kind
KIND_SLUGS = {
    "mon": excel.SUBJECT,
    "pham-chat-nang-luc": excel.COMPETENCY,
    "thong-tin-chung": excel.FACTS,
    "ca-lop": excel.CLASS,
}
SHARED, OWN = "chung", "cua-toi"


class WorkbookForm(forms.Form):
    workbook = forms.FileField(label=gettext_lazy("Tệp Excel (.xlsx)"))


def _class(request: HttpRequest, class_id: int) -> SchoolClass:
    classes = access.visible_classes(request.user).select_related(
        "school", "school_year", "homeroom_teacher"
    )
    return get_object_or_404(classes, pk=class_id)


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=excel.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename) or ""
    return response


def _kind(slug: str) -> str:
    if slug not in KIND_SLUGS:
        raise Http404
    return KIND_SLUGS[slug]


def _grid_title(school_class: SchoolClass, kind: str, period: str, subject: str) -> str:
    rules = selectors.rules_for(school_class.school_year)
    period_text = dict(Period.choices).get(period, "")
    if kind == excel.SUBJECT:
        what = rules.subject(subject).label
    elif kind == excel.COMPETENCY:
        what = _("Phẩm chất, năng lực")
    elif kind == excel.FACTS:
        what = _("Chiều cao, cân nặng, số ngày nghỉ")
    else:
        what = _("Cả lớp, mọi môn học")
    return " · ".join(str(part) for part in (what, period_text) if part)


@login_required
def class_excel(request: HttpRequest, class_id: int) -> HttpResponse:
    """Every workbook of a class, with upload links where the user enters the cells."""
    school_class = _class(request, class_id)
    rules = selectors.rules_for(school_class.school_year)
    user = request.user
    subjects = [
        {
            "code": code,
            "label": rules.subject(code).label,
            "can_upload": excel.can_import_grid(user, school_class, excel.SUBJECT, code),
        }
        for code in selectors.class_subjects(school_class, rules)
    ]
    context = {
        "school_class": school_class,
        "periods": Period.choices,
        "subjects": subjects,
        "can_upload_homeroom": excel.can_import_grid(user, school_class, excel.COMPETENCY),
        "can_upload_class": excel.can_import_grid(user, school_class, excel.CLASS),
    }
    return render(request, "web/excel_class.html", context)


@login_required
def grid_download(
    request: HttpRequest, class_id: int, kind_slug: str, period: str = "", subject: str = ""
) -> HttpResponse:
    school_class = _class(request, class_id)
    kind = _kind(kind_slug)
    try:
        data = excel.grid_workbook(
            actor=request.user, school_class=school_class, kind=kind, period=period, subject=subject
        )
    except PermissionRefused as refused:
        raise PermissionDenied(refused.message) from refused
    except DomainError as error:
        raise Http404(error.message) from error
    parts = [school_class.name, kind_slug if kind != excel.SUBJECT else subject, period]
    return _xlsx(data, slugify("-".join(p for p in parts if p)) + ".xlsx")


@login_required
def grid_upload(
    request: HttpRequest, class_id: int, kind_slug: str, period: str = "", subject: str = ""
) -> HttpResponse:
    school_class = _class(request, class_id)
    kind = _kind(kind_slug)
    try:
        excel.grid_identity(school_class, kind, period, subject)
    except DomainError as error:
        raise Http404(error.message) from error
    if not excel.can_import_grid(request.user, school_class, kind, subject):
        raise PermissionDenied(_("Bạn không được phân công nhập bảng này."))
    kwargs = {"class_id": school_class.pk, "period": period, "subject": subject}
    context: dict[str, Any] = {
        "title": _grid_title(school_class, kind, period, subject),
        "school_class": school_class,
        "school": school_class.school,
        "download_url": reverse(
            f"web:excel_{kind}_download", kwargs={k: v for k, v in kwargs.items() if v}
        ),
        "intro": _(
            "Tải tệp Excel đã điền sẵn dữ liệu hiện có, sửa các ô nền trắng, rồi tải lên. Chỉ "
            "các ô đã sửa được lưu; nếu tệp có lỗi, không ô nào được lưu và mọi lỗi được liệt "
            "kê theo trang, dòng và cột."
        ),
    }

    def run(upload: Any) -> str:
        report = excel.import_grid_workbook(
            actor=request.user,
            school_class=school_class,
            kind=kind,
            period=period,
            subject=subject,
            file=upload,
        )
        return report.summary()

    return _upload_page(request, context, run)


def _upload_page(request: HttpRequest, context: dict[str, Any], run: Any) -> HttpResponse:
    if request.method == "POST":
        form = WorkbookForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                context["report"] = run(form.cleaned_data["workbook"])
            except excel.AssessmentImportRejected as rejected:
                context["rejected"] = rejected
            except PermissionRefused as refused:
                raise PermissionDenied(refused.message) from refused
            except DomainError as error:
                context["error"] = error.message
    else:
        form = WorkbookForm()
    context["form"] = form
    status = 400 if "rejected" in context or "error" in context else 200
    return render(request, "web/excel_upload.html", context, status=status)


@login_required
def summary_download(request: HttpRequest, class_id: int, period: str) -> HttpResponse:
    school_class = _class(request, class_id)
    if period not in Period.values:
        raise Http404
    data = excel.summary_workbook(actor=request.user, school_class=school_class, period=period)
    return _xlsx(data, slugify(f"tong-hop-{school_class.name}-{period}") + ".xlsx")


def _bank(request: HttpRequest, school_id: int, scope: str) -> tuple[School, Staff | None]:
    school = get_object_or_404(access.visible_schools(request.user), pk=school_id)
    if scope == SHARED:
        return school, None
    staff = access.staff_of(request.user)
    if scope != OWN or staff is None or staff.school_id != school.pk:
        raise Http404
    return school, staff


@login_required
def comment_bank_download(request: HttpRequest, school_id: int, scope: str) -> HttpResponse:
    school, owner = _bank(request, school_id, scope)
    if not excel.can_use_comment_bank(request.user, school, owner, writing=False):
        raise PermissionDenied
    data = excel.export_comment_bank(actor=request.user, school=school, owner=owner)
    return _xlsx(data, f"ma-nhan-xet-{scope}-{slugify(school.code)}.xlsx")


@login_required
def comment_bank_upload(request: HttpRequest, school_id: int, scope: str) -> HttpResponse:
    school, owner = _bank(request, school_id, scope)
    if not excel.can_use_comment_bank(request.user, school, owner, writing=True):
        raise PermissionDenied(_("Bạn không được sửa bảng mã nhận xét này."))
    context: dict[str, Any] = {
        "title": _("Bảng mã nhận xét chung của trường")
        if owner is None
        else _("Bảng mã nhận xét của tôi"),
        "school": school,
        "download_url": reverse("web:excel_comments_download", args=[school.pk, scope]),
        "intro": _(
            "Tải bảng mã hiện có, thêm hoặc sửa các dòng (Mã, Môn học/Phẩm chất/Năng lực, Nội "
            "dung), rồi tải lên. Mã đã có được sửa theo tệp, mã mới được thêm, mã không có trong "
            "tệp được giữ nguyên. Nếu tệp có lỗi, không mã nào được lưu."
        ),
    }

    def run(upload: Any) -> str:
        report = excel.import_comment_bank(
            actor=request.user, school=school, owner=owner, file=upload
        )
        return report.summary()

    return _upload_page(request, context, run)
