"""Public pages: a record's status by its code (the QR code's address) and its log proof."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from hocba.records.codes import normalise_short_code
from hocba.records.models import YearRecord
from hocba.verification.status import record_status


def _record_or_404(short_code: str) -> YearRecord:
    code = normalise_short_code(short_code)
    record = YearRecord.objects.filter(short_code=code).first() if code else None
    if record is None:
        raise Http404(_("Không tìm thấy học bạ có mã này."))
    return record


@require_GET
def status_page(request: HttpRequest, short_code: str) -> HttpResponse:
    status = record_status(_record_or_404(short_code))
    response = render(request, "verification/status.html", {"status": status})
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def proof_bundle(request: HttpRequest, short_code: str) -> HttpResponse:
    """The record's c2sp.org/tlog-proof bundle, to check offline with the log's public key."""
    record = _record_or_404(short_code)
    status = record_status(record)
    if status.bundle is None:
        raise Http404(_("Học bạ này chưa có bằng chứng sổ cái."))
    response = HttpResponse(status.bundle.text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{record.short_code}.tlog-proof"'
    return response
