"""The comment bank page (bảng mã nhận xét, issue 3 §4): shared and own entries of a school.

Everyone at the school sees the shared entries and keeps their own; the school's managers keep the
shared ones. Changes go through :mod:`hocba.assessment.comment_bank`, which checks and audits them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hocba.assessment import comment_bank
from hocba.assessment.comment_bank import EntryData
from hocba.assessment.models import CommentBankEntry
from hocba.assessment.rules import RuleSet
from hocba.common.errors import DomainError, PermissionRefused
from hocba.schools import access
from hocba.schools.models import School, Staff

SHARED, OWN = "shared", "own"
FILTER, GENERAL = "danh_cho", "chung"  # ?danh_cho=toan, ?danh_cho=chung


def target_groups(rules: RuleSet) -> list[tuple[str, Any]]:
    """Targets for a select: general first, then subjects, qualities and competencies."""
    specific = [(item.code, item.label) for item, _grades in rules.specific_competencies]
    return [
        ("", _("Chung (mọi môn, phẩm chất, năng lực)")),
        (_("Môn học và hoạt động"), [(s.code, s.label) for s in rules.subjects]),
        (_("Phẩm chất"), [(i.code, i.label) for i in rules.qualities]),
        (_("Năng lực chung"), [(i.code, i.label) for i in rules.general_competencies]),
        (_("Năng lực đặc thù"), specific),
    ]


class EntryForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Mã"), max_length=21)
    target = forms.ChoiceField(label=gettext_lazy("Dành cho"), required=False)
    text = forms.CharField(
        label=gettext_lazy("Nội dung nhận xét"), widget=forms.Textarea(attrs={"rows": 3})
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("Thuộc bảng mã"),
        choices=[
            (SHARED, gettext_lazy("Dùng chung cho cả trường")),
            (OWN, gettext_lazy("Của riêng tôi")),
        ],
        widget=forms.RadioSelect,
        required=False,
    )

    def __init__(self, *args: Any, rules: RuleSet, scopes: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = target_groups(rules)  # type: ignore[attr-defined]
        if len(scopes) < 2:
            del self.fields["scope"]

    def data_for_service(self) -> EntryData:
        cleaned = self.cleaned_data
        return EntryData(code=cleaned["code"], text=cleaned["text"], target=cleaned["target"])


@dataclass(frozen=True)
class EntryRow:
    entry: CommentBankEntry
    target: str
    editable: bool


def _school(request: HttpRequest, school_id: int) -> School:
    return get_object_or_404(access.visible_schools(request.user), pk=school_id)


def _own_staff(user: Any, school: School) -> Staff | None:
    staff = access.staff_of(user)
    return staff if staff is not None and staff.school_id == school.pk else None


def _scopes(user: Any, school: School) -> list[str]:
    """Which banks the user keeps at this school: shared (managers), own (its staff)."""
    scopes = [SHARED] if access.can_change(user, school) else []
    return scopes + ([OWN] if _own_staff(user, school) else [])


def _rows(entries: QuerySet[CommentBankEntry], rules: RuleSet, editable: bool) -> list[EntryRow]:
    order = {code: index for index, (code, _label) in enumerate(comment_bank.target_choices(rules))}
    rows = [EntryRow(e, comment_bank.target_label(rules, e.target), editable) for e in entries]
    return sorted(rows, key=lambda r: (order.get(r.entry.target, -1), r.entry.code))


def _filter_groups(rules: RuleSet) -> list[tuple[str, list[tuple[str, str]]]]:
    """(group label or "", options) for the filter's select; "chung" stands for general."""
    groups = target_groups(rules)
    general = [(GENERAL, str(groups[0][1]))]
    return [("", general), *((str(label), options) for label, options in groups[1:])]


def _filtered(request: HttpRequest, school: School) -> tuple[QuerySet[CommentBankEntry], str]:
    """The school's entries, narrowed by ``?danh_cho=`` (a target code, or "chung")."""
    entries = CommentBankEntry.objects.filter(school=school)
    wanted = request.GET.get(FILTER, "")
    if wanted:
        entries = entries.filter(target="" if wanted == GENERAL else wanted)
    return entries, wanted


def _context(request: HttpRequest, school: School) -> dict[str, Any]:
    rules = comment_bank.current_rules()
    scopes = _scopes(request.user, school)
    staff = _own_staff(request.user, school)
    entries, wanted = _filtered(request, school)
    own = entries.filter(owner=staff) if staff else entries.none()
    form = EntryForm(rules=rules, scopes=scopes, initial={"scope": scopes[0]}) if scopes else None
    return {
        "school": school,
        "shared": _rows(entries.filter(owner__isnull=True), rules, SHARED in scopes),
        "own": _rows(own, rules, True),
        "has_own": staff is not None,
        "form": form,
        "filter_name": FILTER,
        "filter_value": wanted,
        "filter_groups": _filter_groups(rules),
    }


def _report(form: EntryForm, error: DomainError) -> int:
    """Put a refused change on the form; the HTTP status that goes with it."""
    form.add_error(error.field if error.field in form.fields else None, error.message)
    return 403 if isinstance(error, PermissionRefused) else 400


@login_required
def comment_bank_page(request: HttpRequest, school_id: int) -> HttpResponse:
    school = _school(request, school_id)
    if request.method != "POST":
        return render(request, "web/comment_bank.html", _context(request, school))
    scopes = _scopes(request.user, school)
    form = EntryForm(request.POST, rules=comment_bank.current_rules(), scopes=scopes)
    status = 400
    if form.is_valid():
        # The bank asked for, else the user's only one; the service refuses what is not theirs.
        shared = (request.POST.get("scope") or (scopes or [OWN])[0]) == SHARED
        try:
            entry = comment_bank.create_entry(
                actor=request.user, school=school, data=form.data_for_service(), shared=shared
            )
        except DomainError as error:
            status = _report(form, error)
        else:
            messages.success(request, _("Đã thêm mã %(c)s.") % {"c": entry.code})
            return redirect("web:comment_bank", school_id=school.pk)
    context = {**_context(request, school), "form": form}
    return render(request, "web/comment_bank.html", context, status=status)


def _entry(request: HttpRequest, school: School, entry_id: int) -> CommentBankEntry:
    """An entry the user can see at this school: shared, or their own."""
    entry = get_object_or_404(CommentBankEntry, pk=entry_id, school=school)
    staff = _own_staff(request.user, school)
    if entry.owner_id is not None and (staff is None or entry.owner_id != staff.pk):
        raise Http404
    return entry


@login_required
def comment_bank_edit(request: HttpRequest, school_id: int, entry_id: int) -> HttpResponse:
    school = _school(request, school_id)
    entry = _entry(request, school, entry_id)
    initial = {"code": entry.code, "target": entry.target, "text": entry.text}
    rules = comment_bank.current_rules()
    form = EntryForm(request.POST or None, rules=rules, scopes=[], initial=initial)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            comment_bank.update_entry(
                actor=request.user, entry_id=entry.pk, data=form.data_for_service()
            )
        except DomainError as error:
            status = _report(form, error)
        else:
            messages.success(request, _("Đã lưu mã %(c)s.") % {"c": form.cleaned_data["code"]})
            return redirect("web:comment_bank", school_id=school.pk)
    context = {"school": school, "entry": entry, "form": form, "mode": "edit"}
    return render(request, "web/comment_bank_edit.html", context, status=status)


@login_required
def comment_bank_delete(request: HttpRequest, school_id: int, entry_id: int) -> HttpResponse:
    school = _school(request, school_id)
    entry = _entry(request, school, entry_id)
    context: dict[str, Any] = {"school": school, "entry": entry, "mode": "delete"}
    if request.method == "POST":
        try:
            comment_bank.delete_entry(actor=request.user, entry_id=entry.pk)
        except DomainError as error:
            context["error"] = error.message
            status = 403 if isinstance(error, PermissionRefused) else 400
            return render(request, "web/comment_bank_edit.html", context, status=status)
        messages.success(request, _("Đã xoá mã %(c)s.") % {"c": entry.code})
        return redirect("web:comment_bank", school_id=school.pk)
    return render(request, "web/comment_bank_edit.html", context)
