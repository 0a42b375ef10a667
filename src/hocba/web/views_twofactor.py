"""Second factor at login, its setup, recovery codes (issue 10 §2); services in
:mod:`hocba.common.twofactor`.

:class:`SecondFactorMiddleware` stands after django-otp's ``OTPMiddleware``: a signed-in user who
has an authenticator but has not given a code in this session, or who must set one up, is sent to
the page that asks for it before any other staff page. Public pages (verification, look-up,
guide), the probes, static files and logging out stay reachable.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import segno
from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login

from hocba.common import twofactor
from hocba.common.errors import DomainError

OPEN_PREFIXES = (
    "/tai-khoan/xac-thuc-hai-buoc/",
    "/dang-xuat/",
    "/dang-nhap/",
    "/static/",
    "/i18n/",
    "/healthz",
    "/readyz",
    "/huong-dan/",
    "/xac-thuc/",
    "/tra-cuu/",
    "/kiem-tra-tep/",
    "/so-cai/",
    "/pki/",
    "/quyen-rieng-tu/",
)


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not request.path.startswith(OPEN_PREFIXES):
            target = _where_to(user)
            if target is not None:
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"detail": _("Cần xác thực hai bước trước khi dùng API.")}, status=403
                    )
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse(target)}?{query}")
        return self.get_response(request)


def _verified(user: Any) -> bool:
    """Whether this session gave the second factor (set by django-otp's middleware)."""
    return bool(getattr(user, "is_verified", lambda: False)())


def _where_to(user: Any) -> str | None:
    if twofactor.has_second_factor(user):
        return None if _verified(user) else "web:twofactor_verify"
    if twofactor.must_set_up(user):
        return "web:twofactor_setup"
    return None


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("web:home")


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Mã xác thực"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """Ask for the code of the authenticator (or a recovery code) after the password."""
    if not twofactor.has_second_factor(request.user):
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = twofactor.verify(request.user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next(request))
        form.add_error("code", _("Mã không đúng hoặc đã dùng. Hãy thử lại với mã mới."))
    return render(
        request,
        "web/twofactor_verify.html",
        {"form": form, "next": _next(request)},
        status=400 if form.errors else 200,
    )


@login_required
def setup(request: HttpRequest) -> HttpResponse:
    """Scan the QR code with an authenticator app, confirm with its first code."""
    if twofactor.has_second_factor(request.user) and not _verified(request.user):
        return redirect(f"{reverse('web:twofactor_verify')}?{urlencode({'next': request.path})}")
    device = twofactor.pending_device(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            confirmed, codes = twofactor.confirm_device(request.user, form.cleaned_data["code"])
        except DomainError as error:
            form.add_error("code", error.message)
        else:
            otp_login(request, confirmed)
            return render(
                request, "web/twofactor_codes.html", {"codes": codes, "next": _next(request)}
            )
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "web/twofactor_setup.html",
        {
            "form": form,
            "qr_src": qr.svg_data_uri(scale=5, border=2),
            "secret": base64.b32encode(device.bin_key).decode().rstrip("="),
            "required": twofactor.must_set_up(request.user),
            "next": _next(request),
        },
        status=400 if form.errors else 200,
    )


@login_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working), after a fresh code."""
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = twofactor.new_recovery_codes(request.user, form.cleaned_data["code"])
        except DomainError as error:
            form.add_error("code", error.message)
        else:
            return render(
                request, "web/twofactor_codes.html", {"codes": codes, "next": reverse("web:home")}
            )
    return render(
        request,
        "web/twofactor_recovery.html",
        {"form": form, "has_device": twofactor.has_second_factor(request.user)},
        status=400 if form.errors else 200,
    )
