"""Web download of a ``hocba.export/1`` file for school managers and Department staff.

``GET /trao-doi/xuat?school=CODE&year=2024-2025`` (or ``province=CODE``): the same permission,
audit event and content as ``hocba interchange export``, streamed as it is built.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

from hocba.common.errors import PermissionRefused
from hocba.exchange.export import ExportScope, ExportSummary, export_chunks, start_export
from hocba.schools.models import Province, School, SchoolYear


def _scope(request: HttpRequest) -> ExportScope:
    if code := request.GET.get("school", "").strip():
        school = School.objects.filter(code=code).first()
        if school is None:
            raise Http404(_("Không có trường mã “%(c)s”.") % {"c": code})
        return ExportScope(school=school)
    if code := request.GET.get("province", "").strip():
        province = Province.objects.filter(code=code).first()
        if province is None:
            raise Http404(_("Không có tỉnh/thành phố mã “%(c)s”.") % {"c": code})
        return ExportScope(province=province)
    raise Http404(_("Chọn một trường hoặc một tỉnh/thành phố."))


@login_required
def export_download(request: HttpRequest) -> HttpResponseBase:
    scope = _scope(request)
    school_year = SchoolYear.objects.filter(name=request.GET.get("year", "").strip()).first()
    if school_year is None:
        raise Http404(_("Không có năm học này."))
    try:
        start_export(actor=request.user, scope=scope, school_year=school_year)
    except PermissionRefused as error:
        raise PermissionDenied(error.message) from error

    def body() -> Iterator[bytes]:
        summary = ExportSummary()
        for chunk in export_chunks(
            actor=request.user, scope=scope, school_year=school_year, summary=summary
        ):
            yield chunk.encode()

    response = StreamingHttpResponse(body(), content_type="application/json; charset=utf-8")
    code = scope.describe()["code"]
    filename = f"hocba-export-{scope.kind}-{code}-{school_year.name}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
