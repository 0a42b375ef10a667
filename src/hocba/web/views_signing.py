"""Signing pages (issue 5 §2, §5, §6): my certificates, signing a class or a school, progress.

Thin views: permissions and every state change live in :mod:`hocba.signing.services` and
:mod:`hocba.signing.registry`; refusals come back as messages on the same page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from hocba.common import twofactor
from hocba.common.errors import DomainError
from hocba.schools import access
from hocba.schools.models import Role, School, SchoolClass, Staff
from hocba.schools.selectors import current_school_year
from hocba.signing import registry, selectors, services
from hocba.signing.models import (
    CertificatePurpose,
    ItemState,
    SigningBatch,
    SigningCertificate,
    SigningStep,
)

MAX_UPLOAD = registry.MAX_PKCS12_BYTES


class RegisterForm(forms.Form):
    purpose = forms.ChoiceField(
        choices=CertificatePurpose.choices,
        initial=CertificatePurpose.PERSONAL,
        widget=forms.HiddenInput,
    )
    file = forms.FileField(label=gettext_lazy("Tệp chứng thư số có khoá (.p12, .pfx)"))
    pin = forms.CharField(
        label=gettext_lazy("Mã PIN / mật khẩu của tệp"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )


class RemoteForm(forms.Form):
    base_url = forms.URLField(
        label=gettext_lazy("Địa chỉ dịch vụ ký số từ xa (CSC API)"),
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://…"}),
    )
    username = forms.CharField(label=gettext_lazy("Tên tài khoản ký số"))
    password = forms.CharField(
        label=gettext_lazy("Mật khẩu tài khoản ký số"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    credential_id = forms.CharField(
        label=gettext_lazy("Mã chứng thư (để trống nếu tài khoản chỉ có một)"), required=False
    )


class TokenForm(forms.Form):
    module_path = forms.ChoiceField(label=gettext_lazy("Thư viện PKCS#11 của thiết bị"))
    token_label = forms.CharField(label=gettext_lazy("Nhãn thiết bị (token)"))
    pin = forms.CharField(
        label=gettext_lazy("Mã PIN của thiết bị"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["module_path"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(path, path) for path in registry.allowed_pkcs11_modules()]


class SignForm(forms.Form):
    certificate = forms.ModelChoiceField(
        queryset=SigningCertificate.objects.none(),
        label=gettext_lazy("Chứng thư số"),
        empty_label=None,
    )
    password = forms.CharField(
        label=gettext_lazy("Mật khẩu đăng nhập (xác nhận lại)"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    pin = forms.CharField(
        label=gettext_lazy("Mã PIN của khoá ký"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    otp_code = forms.CharField(
        label=gettext_lazy("Mã xác thực hai bước (trong ứng dụng xác thực)"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(
        self, *args: Any, certificates: Any, second_factor: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if not second_factor:
            del self.fields["otp_code"]
        field = self.fields["certificate"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = certificates
        field.label_from_instance = _certificate_label  # type: ignore[method-assign,assignment]


class ResumeForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Mật khẩu đăng nhập (xác nhận lại)"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    pin = forms.CharField(
        label=gettext_lazy("Mã PIN của khoá ký"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    otp_code = forms.CharField(
        label=gettext_lazy("Mã xác thực hai bước (trong ứng dụng xác thực)"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, second_factor: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not second_factor:
            del self.fields["otp_code"]


def _certificate_label(certificate: SigningCertificate) -> str:
    return _("%(name)s · số hiệu %(serial)s · hiệu lực đến %(until)s · %(adapter)s") % {
        "name": certificate.subject_name,
        "serial": certificate.serial_hex[-8:],
        "until": certificate.not_after.strftime("%d/%m/%Y"),
        "adapter": certificate.get_adapter_display(),
    }


def _report_errors(request: HttpRequest, form: forms.Form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))


# --- certificates ---------------------------------------------------------------------------


def _my_school(request: HttpRequest) -> School | None:
    staff = access.staff_of(request.user)
    return staff.school if staff is not None else None


@login_required
def certificates(request: HttpRequest) -> HttpResponse:
    staff = access.staff_of(request.user)
    school = staff.school if staff is not None else None
    is_principal = bool(staff and Role.PRINCIPAL in staff.role_set)
    return render(
        request,
        "web/signing_certificates.html",
        {
            "school": school,
            "mine": selectors.certificates_of(request.user),
            "seals": selectors.seal_certificates(school) if school else [],
            "is_principal": is_principal,
            "personal_form": RegisterForm(initial={"purpose": CertificatePurpose.PERSONAL}),
            "seal_form": RegisterForm(initial={"purpose": CertificatePurpose.SEAL}),
            "remote_form": RemoteForm(),
            "token_form": TokenForm(),
            "batches": selectors.recent_batches(user=request.user),
        },
    )


@login_required
@require_POST
def certificate_register(request: HttpRequest) -> HttpResponse:
    form = RegisterForm(request.POST, request.FILES)
    staff = access.staff_of(request.user)
    if staff is None or staff.school is None:
        messages.error(request, _("Chỉ cán bộ của một trường mới đăng ký chứng thư số ở đây."))
        return redirect("web:signing_certificates")
    if not form.is_valid():
        _report_errors(request, form)
        return redirect("web:signing_certificates")
    upload = form.cleaned_data["file"]
    if upload.size > MAX_UPLOAD:
        messages.error(
            request, _("Tệp quá lớn (tối đa %(size)d KB).") % {"size": MAX_UPLOAD // 1024}
        )
        return redirect("web:signing_certificates")
    purpose = form.cleaned_data["purpose"]
    try:
        registered = registry.register_pkcs12(
            request.user,
            purpose=purpose,
            school=staff.school,
            staff=staff if purpose == CertificatePurpose.PERSONAL else None,
            p12=upload.read(),
            pin=form.cleaned_data["pin"],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Đã đăng ký chứng thư số “%(name)s”.") % {"name": registered.subject_name},
        )
    return redirect("web:signing_certificates")


def _register(
    request: HttpRequest,
    form: forms.Form,
    register: Callable[[Staff, School], SigningCertificate],
) -> HttpResponse:
    """Validate ``form``, run ``register`` for the user's staff record, report the outcome."""
    staff = access.staff_of(request.user)
    school = staff.school if staff is not None else None
    if staff is None or school is None:
        messages.error(request, _("Chỉ cán bộ của một trường mới đăng ký chứng thư số ở đây."))
    elif not form.is_valid():
        _report_errors(request, form)
    else:
        try:
            registered = register(staff, school)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Đã đăng ký chứng thư số “%(name)s”.") % {"name": registered.subject_name},
            )
    return redirect("web:signing_certificates")


@login_required
@require_POST
def certificate_register_remote(request: HttpRequest) -> HttpResponse:
    form = RemoteForm(request.POST)
    return _register(
        request,
        form,
        lambda staff, school: registry.register_remote(
            request.user, school=school, staff=staff, **form.cleaned_data
        ),
    )


@login_required
@require_POST
def certificate_register_token(request: HttpRequest) -> HttpResponse:
    """The school seal on a token or HSM attached to the server (principal only)."""
    form = TokenForm(request.POST)
    return _register(
        request,
        form,
        lambda _staff, school: registry.register_token(
            request.user,
            purpose=CertificatePurpose.SEAL,
            school=school,
            staff=None,
            **form.cleaned_data,
        ),
    )


@login_required
@require_POST
def certificate_retire(request: HttpRequest, certificate_id: int) -> HttpResponse:
    certificate = get_object_or_404(SigningCertificate, pk=certificate_id)
    try:
        registry.retire_certificate(request.user, certificate)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Đã ngừng sử dụng chứng thư số."))
    return redirect("web:signing_certificates")


# --- signing a class or a school ------------------------------------------------------------


def _sign_forms(
    request: HttpRequest, school: School, school_class: SchoolClass | None
) -> list[Any]:
    """The steps this user may start here, each with its form (or why it cannot)."""
    steps = [SigningStep.TEACHER] if school_class is not None else []
    steps += [SigningStep.PRINCIPAL, SigningStep.SEAL]
    offers = []
    for step in steps:
        if not services.may_sign(request.user, step, school=school, school_class=school_class):
            continue
        certificates = services.usable_certificates(request.user, step, school)
        year = school_class.school_year if school_class is not None else current_school_year()
        offers.append(
            {
                "step": step,
                "label": SigningStep(step).label,
                "form": SignForm(
                    certificates=certificates,
                    prefix=step,
                    second_factor=twofactor.has_second_factor(request.user),
                ),
                "has_certificate": certificates.exists(),
                "waiting": services.records_for(
                    step, school=school, school_class=school_class, school_year=year
                ).count(),
            }
        )
    return offers


@login_required
def class_signing(request: HttpRequest, class_id: int) -> HttpResponse:
    school_class = get_object_or_404(
        access.visible_classes(request.user).select_related("school", "school_year"), pk=class_id
    )
    return render(
        request,
        "web/signing_class.html",
        {
            "school_class": school_class,
            "rows": selectors.class_signing(school_class),
            "offers": _sign_forms(request, school_class.school, school_class),
            "batches": SigningBatch.objects.filter(school_class=school_class)[:10],
        },
    )


@login_required
def school_signing(request: HttpRequest, school_id: int) -> HttpResponse:
    school = get_object_or_404(access.visible_schools(request.user), pk=school_id)
    year = current_school_year()
    counts = selectors.counts_by_class(school, year) if year else {}
    classes = list(
        SchoolClass.objects.filter(school=school, school_year=year)
        .select_related("homeroom_teacher")
        .order_by("grade", "name")
    )
    return render(
        request,
        "web/signing_school.html",
        {
            "school": school,
            "year": year,
            "rows": [(c, counts.get(c.pk, selectors.StatusCounts())) for c in classes],
            "offers": _sign_forms(request, school, None),
            "batches": selectors.recent_batches(school=school)
            if access.is_school_manager(request.user, school)
            else [],
            "pipeline": [s.label for s in selectors.PIPELINE],
        },
    )


@login_required
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    step = request.POST.get("step", "")
    if step not in SigningStep.values:
        raise Http404
    school_class = school = None
    if request.POST.get("class_id"):
        school_class = get_object_or_404(
            access.visible_classes(request.user).select_related("school", "school_year"),
            pk=request.POST["class_id"],
        )
        back = redirect("web:signing_class", class_id=school_class.pk)
        owner = school_class.school
    else:
        school = get_object_or_404(
            access.visible_schools(request.user), pk=request.POST.get("school_id")
        )
        back = redirect("web:signing_school", school_id=school.pk)
        owner = school
    form = SignForm(
        request.POST,
        certificates=services.usable_certificates(request.user, step, owner),
        prefix=step,
        second_factor=twofactor.has_second_factor(request.user),
    )
    if not form.is_valid():
        _report_errors(request, form)
        return back
    try:
        batch = services.start_batch(
            request.user,
            step=step,
            certificate=form.cleaned_data["certificate"],
            password=form.cleaned_data["password"],
            pin=form.cleaned_data["pin"],
            otp_code=form.cleaned_data.get("otp_code", ""),
            school_class=school_class,
            school=school,
        )
    except DomainError as error:
        messages.error(request, error.message)
        return back
    return redirect("web:signing_batch", batch_id=batch.pk)


def _batch_or_404(request: HttpRequest, batch_id: int) -> SigningBatch:
    batch = get_object_or_404(
        SigningBatch.objects.select_related("school", "school_class", "certificate"), pk=batch_id
    )
    if not services.may_see_batch(request.user, batch):
        raise Http404
    return batch


@login_required
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch_or_404(request, batch_id)
    context = {
        "batch": batch,
        "failed": batch.items.filter(state=ItemState.FAILED).select_related("record__pupil"),
        "resume_form": ResumeForm(second_factor=twofactor.has_second_factor(request.user)),
        "is_owner": batch.requested_by_id == request.user.pk,
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "web/signing_progress.html", context)
    return render(request, "web/signing_batch.html", context)


@login_required
@require_POST
def batch_resume(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch_or_404(request, batch_id)
    form = ResumeForm(request.POST, second_factor=twofactor.has_second_factor(request.user))
    if form.is_valid():
        try:
            services.resume_batch(
                request.user,
                batch,
                password=form.cleaned_data["password"],
                pin=form.cleaned_data["pin"],
                otp_code=form.cleaned_data.get("otp_code", ""),
            )
        except DomainError as error:
            messages.error(request, error.message)
    else:
        messages.error(request, _("Hãy nhập lại mật khẩu đăng nhập."))
    return redirect("web:signing_batch", batch_id=batch.pk)


@login_required
@require_POST
def batch_cancel(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch_or_404(request, batch_id)
    try:
        services.cancel_batch(request.user, batch)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("web:signing_batch", batch_id=batch.pk)
