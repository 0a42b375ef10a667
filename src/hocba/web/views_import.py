"""Excel import of master data: download the template, upload a filled workbook."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _

from hocba.common.errors import DomainError
from hocba.schools import access, importer, selectors
from hocba.schools.models import School, SchoolYear

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportForm(forms.Form):
    school_year = forms.ModelChoiceField(
        label=_("Năm học"), queryset=SchoolYear.objects.all(), empty_label=None
    )
    workbook = forms.FileField(label=_("Tệp Excel (.xlsx)"))
    layout = forms.ChoiceField(
        label=_("Loại tệp"),
        choices=[
            (importer.LAYOUT_AUTO, _("Tự nhận biết")),
            (importer.LAYOUT_TEMPLATE, _("Tệp mẫu của hệ thống")),
            (importer.LAYOUT_SECTOR, _("Danh sách xuất từ cơ sở dữ liệu ngành (CSDL ngành)")),
        ],
        initial=importer.LAYOUT_AUTO,
        required=False,
    )


def _managed_school(request: HttpRequest, school_id: int) -> School:
    school = get_object_or_404(access.visible_schools(request.user), pk=school_id)
    if not access.can_change(request.user, school):
        raise PermissionDenied(_("Chỉ ban giám hiệu và quản trị nhà trường được nhập dữ liệu."))
    return school


@login_required
def import_template(request: HttpRequest, school_id: int) -> HttpResponse:
    _managed_school(request, school_id)
    response = HttpResponse(importer.build_template(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = 'attachment; filename="mau-nhap-du-lieu-hocba.xlsx"'
    return response


@login_required
def import_upload(request: HttpRequest, school_id: int) -> HttpResponse:
    school = _managed_school(request, school_id)
    context: dict[str, object] = {"school": school}
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                context["report"] = importer.import_workbook(
                    actor=request.user,
                    school=school,
                    school_year=form.cleaned_data["school_year"],
                    file=form.cleaned_data["workbook"],
                    layout=form.cleaned_data["layout"] or importer.LAYOUT_AUTO,
                )
            except importer.ImportRejected as rejected:
                context["rejected"] = rejected
            except DomainError as error:
                context["error"] = error.message
    else:
        form = ImportForm(initial={"school_year": selectors.current_school_year()})
    context["form"] = form
    status = 400 if "rejected" in context or "error" in context else 200
    return render(request, "web/import.html", context, status=status)
