from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hocba.web import throttle


def client_address(request: Any) -> str:
    return str(request.META.get("REMOTE_ADDR", "unknown"))


class ThrottledLoginForm(AuthenticationForm):
    """Django's login form with a lock after repeated failures (STYLE §13)."""

    username = forms.CharField(
        label=gettext_lazy("Tên đăng nhập"),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=gettext_lazy("Mật khẩu"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean(self) -> dict[str, Any]:
        username = self.data.get("username", "")
        address = client_address(self.request)
        if throttle.is_locked(username, address):
            minutes = settings.LOGIN_FAILURE_WINDOW_SECONDS // 60
            raise forms.ValidationError(
                _("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau %(m)s phút.") % {"m": minutes},
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttle.record_failure(username, address)
            raise
        throttle.clear(username, address)
        return cleaned

    def get_invalid_login_error(self) -> forms.ValidationError:
        return forms.ValidationError(
            _("Tên đăng nhập hoặc mật khẩu không đúng."), code="invalid_login"
        )
