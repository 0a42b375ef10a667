"""The class's locks page (issue 3 §6): active and past locks, "finished", lock, unlock.

Every change goes through :mod:`hocba.assessment.services` (``finish_class``, ``lock``,
``unlock``), which decide who may do what; refusals come back as the service's Vietnamese message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hocba.assessment import selectors, services
from hocba.assessment.models import Lock, Period
from hocba.assessment.rules import RuleSet
from hocba.common.errors import DomainError, PermissionRefused
from hocba.schools import access
from hocba.schools.models import SchoolClass


@dataclass(frozen=True)
class LockRow:
    lock: Lock
    scope: str
    period: str
    locked_by: str
    unlocked_by: str


def _person(user: Any) -> str:
    if user is None:
        return ""
    staff = getattr(user, "staff", None)
    return str(staff.full_name) if staff else str(user.get_username())


def _scope_label(lock: Lock, rules: RuleSet) -> str:
    if lock.is_class_finished:
        return _("Cả lớp (giáo viên chủ nhiệm xác nhận hoàn thành)")
    if not lock.subject:
        return _("Cả lớp")
    try:
        return rules.subject(lock.subject).label
    except KeyError:
        return lock.subject


def _rows(school_class: SchoolClass, rules: RuleSet) -> list[LockRow]:
    locks = Lock.objects.filter(school_class=school_class).select_related(
        "locked_by__staff", "unlocked_by__staff"
    )
    return [
        LockRow(
            lock=lock,
            scope=_scope_label(lock, rules),
            period=str(Period(lock.period).label) if lock.period else _("Mọi thời điểm"),
            locked_by=_person(lock.locked_by),
            unlocked_by=_person(lock.unlocked_by),
        )
        for lock in locks.order_by("-locked_at", "-id")
    ]


def _lockable(user: Any, school_class: SchoolClass, rules: RuleSet) -> list[tuple[str, str]]:
    """What this user may lock, as the service will check it: everything for managers."""
    manager = access.can_unlock(user, school_class)
    choices = []
    if manager or access.can_enter_homeroom(user, school_class):
        choices.append(("", _("Cả lớp (mọi môn, phẩm chất, năng lực)")))
    for code in selectors.class_subjects(school_class, rules):
        if manager or access.can_enter_subject(user, school_class, code):
            choices.append((code, rules.subject(code).label))
    return choices


def _context(request: HttpRequest, school_class: SchoolClass) -> dict[str, Any]:
    user = request.user
    rules = selectors.rules_for(school_class.school_year)
    rows = _rows(school_class, rules)
    active = [row for row in rows if row.lock.unlocked_at is None]
    finished = any(row.lock.is_class_finished for row in active)
    return {
        "school_class": school_class,
        "active": active,
        "past": [row for row in rows if row.lock.unlocked_at is not None],
        "can_finish": access.can_enter_homeroom(user, school_class) and not finished,
        "is_finished": finished,
        "lockable": _lockable(user, school_class, rules),
        "periods": Period.choices,
        "can_unlock": access.can_unlock(user, school_class),
    }


def _visible_class(request: HttpRequest, class_id: int) -> SchoolClass:
    classes = access.visible_classes(request.user).select_related(
        "school", "school_year", "homeroom_teacher"
    )
    return get_object_or_404(classes, pk=class_id)


def _refused(request: HttpRequest, school_class: SchoolClass, error: DomainError) -> HttpResponse:
    context = {**_context(request, school_class), "error": error.message}
    if error.field:
        context["error_field"] = error.field
    status = 403 if isinstance(error, PermissionRefused) else 400
    return render(request, "web/locks.html", context, status=status)


@login_required
def locks_page(request: HttpRequest, class_id: int) -> HttpResponse:
    school_class = _visible_class(request, class_id)
    return render(request, "web/locks.html", _context(request, school_class))


@login_required
@require_POST
def finish_class(request: HttpRequest, class_id: int) -> HttpResponse:
    school_class = _visible_class(request, class_id)
    try:
        services.finish_class(actor=request.user, school_class=school_class)
    except DomainError as error:
        return _refused(request, school_class, error)
    messages.success(request, _("Đã xác nhận hoàn thành lớp. Mọi ô của lớp đã được khoá."))
    return redirect("web:locks", class_id=school_class.pk)


@login_required
@require_POST
def create_lock(request: HttpRequest, class_id: int) -> HttpResponse:
    school_class = _visible_class(request, class_id)
    subject = request.POST.get("subject", "")
    rules = selectors.rules_for(school_class.school_year)
    try:
        if subject and subject not in selectors.class_subjects(school_class, rules):
            raise DomainError(_("Lớp này không học môn “%(s)s”.") % {"s": subject}, field="subject")
        services.lock(
            actor=request.user,
            school_class=school_class,
            subject=subject,
            period=request.POST.get("period", ""),
            reason=" ".join(request.POST.get("reason", "").split())[:255],
        )
    except DomainError as error:
        return _refused(request, school_class, error)
    messages.success(request, _("Đã khoá."))
    return redirect("web:locks", class_id=school_class.pk)


@login_required
@require_POST
def unlock(request: HttpRequest, class_id: int, lock_id: int) -> HttpResponse:
    school_class = _visible_class(request, class_id)
    target = get_object_or_404(Lock, pk=lock_id, school_class=school_class)
    try:
        services.unlock(
            actor=request.user, lock_id=target.pk, reason=request.POST.get("reason", "")[:255]
        )
    except DomainError as error:
        return _refused(request, school_class, error)
    messages.success(request, _("Đã mở khoá. Lý do đã được ghi vào nhật ký."))
    return redirect("web:locks", class_id=school_class.pk)
