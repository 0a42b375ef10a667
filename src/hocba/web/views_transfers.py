"""Transfers between schools from the web (issue 9 §1): release a pupil, accept a package.

Thin: :mod:`hocba.records.transfers` checks and writes; these views only collect the form.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hocba.common.errors import DomainError
from hocba.records import transfers
from hocba.records.models import Transfer, TransferDirection, TransferredRecord
from hocba.schools import access
from hocba.schools.models import Enrolment, School, SchoolClass

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]


class ReleaseForm(forms.Form):
    destination = forms.CharField(label=gettext_lazy("Chuyển đến trường"), max_length=200)
    on = forms.DateField(
        label=gettext_lazy("Ngày chuyển đi (dd/mm/yyyy)"), input_formats=DATE_FORMATS
    )
    reason = forms.CharField(label=gettext_lazy("Lý do"), max_length=200, required=False)


class ClassChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: SchoolClass) -> str:
        return f"{obj.name} ({obj.school_year.name})"


class ReceiveForm(forms.Form):
    package = forms.FileField(label=gettext_lazy("Gói hồ sơ chuyển trường (.zip)"))
    school_class = ClassChoice(
        label=gettext_lazy("Vào lớp"), queryset=SchoolClass.objects.none(), empty_label=None
    )
    joined_on = forms.DateField(
        label=gettext_lazy("Ngày chuyển đến (dd/mm/yyyy)"), input_formats=DATE_FORMATS
    )

    def __init__(self, *args: object, school: School, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["school_class"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            SchoolClass.objects.filter(school=school)
            .select_related("school_year")
            .order_by("-school_year__start_year", "grade", "name")
        )


def _active_enrolment(request: HttpRequest, pupil_id: int) -> Enrolment:
    pupil = get_object_or_404(access.visible_pupils(request.user), pk=pupil_id)
    enrolment = (
        Enrolment.objects.filter(pupil=pupil, left_on__isnull=True)
        .select_related("school_class__school", "school_year", "pupil")
        .order_by("-school_year__start_year")
        .first()
    )
    if enrolment is None:
        raise Http404(_("Học sinh không đang học ở lớp nào."))
    if not access.can_change(request.user, enrolment.school_class.school):
        raise PermissionDenied(_("Chỉ cán bộ quản lý của trường mới cho học sinh chuyển đi."))
    return enrolment


@login_required
def release(request: HttpRequest, pupil_id: int) -> HttpResponse:
    enrolment = _active_enrolment(request, pupil_id)
    form = ReleaseForm(request.POST or None, initial={"on": dt.date.today()})
    if request.method == "POST" and form.is_valid():
        try:
            transfer = transfers.release_pupil(
                actor=request.user,
                enrolment=enrolment,
                destination=form.cleaned_data["destination"],
                on=form.cleaned_data["on"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(
                request,
                _(
                    "Học sinh đã được chuyển đi. Hãy tải gói hồ sơ và gửi cho trường mới "
                    "(%(n)s học bạ đã phát hành)."
                )
                % {"n": transfer.records},
            )
            return redirect("web:pupil", pupil_id=enrolment.pupil_id)
    return render(
        request,
        "web/transfer_release.html",
        {"form": form, "enrolment": enrolment, "pupil": enrolment.pupil},
        status=400 if form.errors else 200,
    )


@login_required
def package(request: HttpRequest, transfer_id: int) -> HttpResponse:
    transfer = get_object_or_404(
        Transfer.objects.select_related("school", "pupil"),
        pk=transfer_id,
        direction=TransferDirection.OUT,
    )
    if not access.is_system_admin(request.user) and not access.is_school_manager(
        request.user, transfer.school
    ):
        raise Http404  # like every object of another school: not even its existence is told
    try:
        data = transfers.package_bytes(transfer)
    except DomainError as error:
        raise Http404(error.message) from error
    response = HttpResponse(data, content_type="application/zip")
    name = f"chuyen-truong-{transfer.pupil.ministry_code}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def receive(request: HttpRequest, school_id: int) -> HttpResponse:
    school = get_object_or_404(access.visible_schools(request.user), pk=school_id)
    if not access.can_change(request.user, school):
        raise PermissionDenied(_("Chỉ cán bộ quản lý của trường mới nhận học sinh chuyển đến."))
    form = ReceiveForm(
        request.POST or None,
        request.FILES or None,
        school=school,
        initial={"joined_on": dt.date.today()},
    )
    error = ""
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["package"]
        if upload.size > transfers.MAX_PACKAGE_BYTES:
            error = _("Tệp lớn hơn giới hạn cho phép.")
        else:
            try:
                transfer = transfers.receive_package(
                    actor=request.user,
                    data=upload.read(),
                    school_class=form.cleaned_data["school_class"],
                    joined_on=form.cleaned_data["joined_on"],
                )
            except DomainError as refused:
                error = refused.message
            else:
                values = {
                    "name": transfer.pupil.full_name,
                    "n": transfer.records,
                    "m": transfer.carried_marks,
                }
                if transfer.records:
                    text = _(
                        "Đã nhận học sinh %(name)s: %(n)s học bạ đã được kiểm tra hợp lệ, "
                        "%(m)s ô đánh giá trong năm được mang theo."
                    )
                else:
                    text = _(
                        "Đã nhận học sinh %(name)s (chưa có học bạ nào đã phát hành); %(m)s ô "
                        "đánh giá trong năm được mang theo."
                    )
                messages.success(request, text % values)
                return redirect(reverse("web:pupil", args=[transfer.pupil_id]))
    return render(
        request,
        "web/transfer_receive.html",
        {"form": form, "school": school, "error": error},
        status=400 if error or form.errors else 200,
    )


@login_required
def received_pdf(request: HttpRequest, record_id: int) -> HttpResponse:
    record = get_object_or_404(TransferredRecord.objects.select_related("pupil"), pk=record_id)
    if not access.visible_pupils(request.user).filter(pk=record.pupil_id).exists():
        raise Http404
    access.log_personal_data_read(request.user, record.pupil)
    try:
        data = transfers.received_pdf(record)
    except DomainError as error:
        raise Http404(error.message) from error
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{record.short_code}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
