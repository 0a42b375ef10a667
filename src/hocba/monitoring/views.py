"""Rollout dashboards (issue 9 §3). Thin: access checks, then reports, charts and exports.

Anonymous users are sent to the login page; users who may see no dashboard get 403; a place
outside the user's scope is 404, as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hocba.monitoring import access, charts, deadlines, exports, reports, selectors
from hocba.monitoring.reports import Report
from hocba.schools.models import District, Province, School, SchoolClass, SchoolYear

FORMATS = ("csv", "xlsx")


def _require_monitor(request: HttpRequest) -> None:
    if not access.can_monitor(request.user):
        raise PermissionDenied(_("Bạn không có quyền xem trang theo dõi triển khai."))


def _year(request: HttpRequest) -> SchoolYear:
    year = selectors.selected_school_year(request.GET.get("nam_hoc"))
    if year is None:
        raise Http404(_("Chưa có năm học nào."))
    return year


def _query(year: SchoolYear) -> str:
    return "?" + urlencode({"nam_hoc": year.name})


@login_required
def index(request: HttpRequest) -> HttpResponse:
    target = access.entry_point(request.user)
    if target is None:
        raise PermissionDenied(_("Bạn không có quyền xem trang theo dõi triển khai."))
    kind, pk = target
    url = reverse(f"monitoring:{kind}", args=[] if pk is None else [pk])
    query = request.GET.get("nam_hoc")
    return redirect(url + ("?" + urlencode({"nam_hoc": query}) if query else ""))


@login_required
def country(request: HttpRequest, fmt: str = "") -> HttpResponse:
    _require_monitor(request)
    if not access.can_see_country(request.user):
        raise Http404
    return _respond(request, reports.country_report(_year(request)), fmt)


@login_required
def province(request: HttpRequest, province_id: int, fmt: str = "") -> HttpResponse:
    _require_monitor(request)
    place = get_object_or_404(Province, pk=province_id)
    if not access.can_see_province(request.user, place):
        raise Http404
    return _respond(request, reports.province_report(place, _year(request)), fmt)


@login_required
def district(request: HttpRequest, district_id: int, fmt: str = "") -> HttpResponse:
    _require_monitor(request)
    place = get_object_or_404(District.objects.select_related("province"), pk=district_id)
    if not access.can_see_district(request.user, place):
        raise Http404
    return _respond(request, reports.district_report(place, _year(request)), fmt)


@login_required
def school(request: HttpRequest, school_id: int, fmt: str = "") -> HttpResponse:
    _require_monitor(request)
    place = get_object_or_404(School.objects.select_related("province", "district"), pk=school_id)
    if not access.can_see_school(request.user, place):
        raise Http404
    return _respond(request, reports.school_report(place, _year(request)), fmt)


@login_required
def school_class(request: HttpRequest, class_id: int, fmt: str = "") -> HttpResponse:
    _require_monitor(request)
    place = get_object_or_404(
        SchoolClass.objects.select_related(
            "school__province", "school__district", "school_year", "homeroom_teacher"
        ),
        pk=class_id,
    )
    if not access.can_see_class(request.user, place):
        raise Http404
    report = reports.class_report(place)
    filename = f"theo-doi-lop-{place.pk}-{place.school_year.name}"
    if fmt:
        return _download(exports.class_table(report), fmt, filename, place.name)
    context = {
        "report": report,
        "title": _("Lớp %(name)s") % {"name": place.name},
        "crumbs": _crumbs(request.user, place),
        "cells": report.cells,
        "pipeline_svg": charts.pipeline_chart([_class_row(report)], _("Tiến độ học bạ của lớp")),
        "exports": _export_urls("school_class", place.pk, place.school_year),
    }
    return render(request, "monitoring/class.html", context)


def _class_row(report: reports.ClassReport) -> selectors.Row:
    return selectors.Row(
        "class", report.school_class.pk, report.school_class.name, "", report.figures
    )


def _respond(request: HttpRequest, report: Report, fmt: str) -> HttpResponse:
    place = report.place
    title = str(place) if place is not None else _("Toàn quốc")
    if fmt:
        filename = f"theo-doi-{report.level}-{place.pk if place else 'all'}-{report.year.name}"
        return _download(exports.report_table(report), fmt, filename, title)
    today = timezone.localdate()
    statuses = deadlines.milestone_statuses(
        deadlines.deadlines_for(report.year, report.province), report.total, today
    )
    query = _query(report.year)
    context = {
        "report": report,
        "title": title,
        "rows": [(row, cells, _row_url(row) + query) for row, cells in report.table],
        "crumbs": _crumbs(request.user, place),
        "years": SchoolYear.objects.all(),
        "statuses": statuses,
        "timeline_svg": charts.timeline_chart(statuses, today),
        "pipeline_svg": charts.pipeline_chart(
            report.rows,
            _("Tiến độ học bạ theo %(unit)s") % {"unit": report.child_heading.lower()},
        ),
        "exports": _export_urls(report.level, place.pk if place else None, report.year),
    }
    return render(request, "monitoring/dashboard.html", context)


def _download(table: exports.Table, fmt: str, filename: str, title: str) -> HttpResponse:
    if fmt == "csv":
        body, content_type = exports.to_csv(table), exports.CSV_TYPE
    elif fmt == "xlsx":
        body, content_type = exports.to_xlsx(table, title), exports.XLSX_TYPE
    else:
        raise Http404
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


def _row_url(row: selectors.Row) -> str:
    name = {"class": "school_class"}.get(row.kind, row.kind)
    return reverse(f"monitoring:{name}", args=[row.pk])


def _export_urls(level: str, pk: int | None, year: SchoolYear) -> dict[str, str]:
    name = {"class": "school_class"}.get(level, level)
    args: list[Any] = [] if pk is None else [pk]
    return {
        fmt: reverse(f"monitoring:{name}_export", args=[*args, fmt]) + _query(year)
        for fmt in FORMATS
    }


def _crumbs(user: Any, place: Any) -> list[tuple[str, str | None]]:
    """The path from the top to ``place``; links only where the user may look."""
    chain: list[Any] = []
    while place is not None:
        chain.insert(0, place)
        if isinstance(place, SchoolClass):
            place = place.school
        elif isinstance(place, School):
            place = place.district or place.province
        elif isinstance(place, District):
            place = place.province
        else:
            place = None
    crumbs: list[tuple[str, str | None]] = []
    if access.can_see_country(user):
        crumbs.append((_("Toàn quốc"), reverse("monitoring:country")))
    for item in chain:
        crumbs.append((_place_label(item), _place_url(user, item)))
    return crumbs


def _place_label(place: Any) -> str:
    if isinstance(place, SchoolClass):
        return _("Lớp %(name)s") % {"name": place.name}
    return str(place)


def _place_url(user: Any, place: Any) -> str | None:
    checks: dict[type, tuple[str, Callable[[Any, Any], bool]]] = {
        Province: ("province", access.can_see_province),
        District: ("district", access.can_see_district),
        School: ("school", access.can_see_school),
        SchoolClass: ("school_class", access.can_see_class),
    }
    name, allowed = checks[type(place)]
    return reverse(f"monitoring:{name}", args=[place.pk]) if allowed(user, place) else None
