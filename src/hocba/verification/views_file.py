"""Verify a file (issue 7 §2) on the web: upload a PDF, read the validation report, download it as
JSON or as a printable PDF. The work is in ``online.verify_pdf_online``; the last report is kept
in the visitor's session for the downloads (nothing about the file is stored server-side)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from hocba.common import ratelimit
from hocba.verification.online import max_bytes, verify_pdf_online
from hocba.verification.report import ValidationReport, VerificationError
from hocba.verification.report_pdf import render_report
from hocba.verification.views import _private, too_many_requests

SESSION_KEY = "verification_file_report"


def read_upload(request: HttpRequest) -> bytes:
    """The uploaded file's bytes, refused past the size limit without reading it all."""
    upload = request.FILES.get("file")
    if upload is None:
        raise VerificationError(_("Hãy chọn một tệp PDF để kiểm tra."))
    limit = max_bytes()
    if upload.size is not None and upload.size > limit:
        raise VerificationError(
            _("Tệp quá lớn: chỉ kiểm tra tệp tới %(limit)s MB.") % {"limit": limit // 1_000_000}
        )
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise VerificationError(
            _("Tệp quá lớn: chỉ kiểm tra tệp tới %(limit)s MB.") % {"limit": limit // 1_000_000}
        )
    return data


@require_http_methods(["GET", "POST"])
def verify_file(request: HttpRequest) -> HttpResponse:
    report, error, status = None, "", 200
    if request.method == "POST":
        try:
            ratelimit.hit("verify_upload", ratelimit.client_address(request))
            report = verify_pdf_online(read_upload(request))
        except ratelimit.RateLimited as limited:
            return too_many_requests(request, limited)
        except VerificationError as refused:
            error, status = refused.message, 400
        else:
            request.session[SESSION_KEY] = report.to_json()
    elif request.session.get(SESSION_KEY) and request.GET.get("bao-cao"):
        report = ValidationReport.from_json(request.session[SESSION_KEY])
    context = {"report": report, "error": error, "limit_mb": max_bytes() // 1_000_000}
    return _private(render(request, "verification/file.html", context, status=status))


def _kept(request: HttpRequest) -> ValidationReport:
    text = request.session.get(SESSION_KEY)
    if not text:
        raise Http404(_("Chưa có báo cáo nào: hãy tải tệp lên để kiểm tra."))
    return ValidationReport.from_json(text)


@require_GET
def report_json(request: HttpRequest) -> HttpResponse:
    report = _kept(request)
    response = HttpResponse(report.to_json(), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="bao-cao-kiem-tra-{report.file_sha256[:12]}.json"'
    )
    return _private(response)


@require_GET
def report_pdf(request: HttpRequest) -> HttpResponse:
    report = _kept(request)
    response = HttpResponse(render_report(report), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="bao-cao-kiem-tra-{report.file_sha256[:12]}.pdf"'
    )
    return _private(response)
