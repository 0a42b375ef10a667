"""The second-factor forms of the public portal (POSTed: nothing personal ever goes in a URL)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hocba.verification.access import Factor, parse_factor


class FactorForm(forms.Form):
    access_code = forms.CharField(
        label=_("Mã truy cập (in trên bản học bạ, dạng XXXXX-XXXXX)"),
        required=False,
        max_length=64,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "placeholder": "XXXXX-XXXXX",
            }
        ),
    )
    date_of_birth = forms.CharField(
        label=_("hoặc ngày sinh của học sinh (dd/mm/yyyy)"),
        required=False,
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "inputmode": "numeric", "placeholder": "dd/mm/yyyy"}
        ),
    )

    def factor(self) -> Factor:
        data = self.cleaned_data if self.is_valid() else {}
        return parse_factor(data.get("access_code", ""), data.get("date_of_birth", ""))


class LookupForm(FactorForm):
    ministry_code = forms.CharField(
        label=_("Mã học sinh (10 chữ số)"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    field_order = ["ministry_code", "access_code", "date_of_birth"]
