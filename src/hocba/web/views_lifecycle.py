"""A year record's life for staff (issue 6 §5-6): its versions and ledger entries; the
principal's correction and revocation; copies of the issued version handed out with a purpose.

Thin: every change goes through ``records.corrections``, ``ledger.issuing`` or ``ledger.copies``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hocba.common.errors import DomainError
from hocba.ledger import copies, issuing
from hocba.ledger.models import CopyChannel, CopyIssued, CopyPurpose, LogLeaf
from hocba.records import corrections, export, selectors
from hocba.records.codes import normalise_short_code
from hocba.records.models import Correction, CorrectionStatus, YearRecord, YearRecordStatus
from hocba.schools import access
from hocba.signing.batch import current_pdf
from hocba.verification.status import record_status
from hocba.web.views_records import PDF, attachment_headers


def _record_or_404(request: HttpRequest, short_code: str) -> YearRecord:
    code = normalise_short_code(short_code)
    record = (
        YearRecord.objects.filter(short_code=code)
        .select_related("pupil", "school", "school_year", "enrolment__school_class")
        .first()
        if code
        else None
    )
    if record is None or not access.can_view(request.user, record.enrolment.school_class):
        raise Http404(_("Không tìm thấy học bạ."))
    return record


@login_required
def record_detail(request: HttpRequest, short_code: str) -> HttpResponse:
    record = _record_or_404(request, short_code)
    access.log_personal_data_read(request.user, record.pupil)
    versions = list(selectors.versions_of(record.enrolment))
    leaves = LogLeaf.objects.filter(record__in=versions).order_by("index")
    context = {
        "record": record,
        "status": record_status(record),
        "versions": versions,
        "leaves": leaves,
        "copies": CopyIssued.objects.filter(record__in=versions).select_related("issued_by")[:50],
        "correction": Correction.objects.filter(enrolment=record.enrolment)
        .select_related("requested_by", "replacement")
        .first(),
        "is_principal": corrections.is_principal(request.user, record.school),
        "purposes": CopyPurpose.choices,
        "school_class": record.enrolment.school_class,
        "OPEN": CorrectionStatus.OPEN,
        "ISSUED": YearRecordStatus.ISSUED,
    }
    return render(request, "web/record_detail.html", context)


def _run(
    request: HttpRequest, record: YearRecord, action: Callable[[], object], success: str
) -> HttpResponse:
    try:
        action()
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("web:record_detail", short_code=record.short_code)


@login_required
@require_POST
def request_correction(request: HttpRequest, short_code: str) -> HttpResponse:
    record = _record_or_404(request, short_code)
    return _run(
        request,
        record,
        lambda: corrections.request_correction(
            actor=request.user, record=record, reason=request.POST.get("reason", "")
        ),
        _(
            "Đã mở yêu cầu đính chính. Sửa dữ liệu (mở khoá lớp nếu cần), tổng hợp lại học bạ "
            "của lớp, rồi ký và đóng dấu phiên bản mới."
        ),
    )


@login_required
@require_POST
def cancel_correction(request: HttpRequest, short_code: str) -> HttpResponse:
    record = _record_or_404(request, short_code)
    correction = Correction.objects.filter(
        enrolment=record.enrolment, status=CorrectionStatus.OPEN
    ).first()
    if correction is None:
        raise Http404(_("Không có yêu cầu đính chính đang mở."))
    return _run(
        request,
        record,
        lambda: corrections.cancel_correction(
            actor=request.user, correction=correction, reason=request.POST.get("reason", "")
        ),
        _("Đã huỷ yêu cầu đính chính."),
    )


@login_required
@require_POST
def revoke(request: HttpRequest, short_code: str) -> HttpResponse:
    record = _record_or_404(request, short_code)
    return _run(
        request,
        record,
        lambda: issuing.revoke(
            actor=request.user, record=record, reason=request.POST.get("reason", "")
        ),
        _("Đã thu hồi học bạ. Trang xác thực của học bạ này nay báo đã thu hồi."),
    )


@login_required
@require_POST
def issued_copy(request: HttpRequest, short_code: str) -> HttpResponse:
    """The issued PDF as a logged copy, with the purpose the staff member chose."""
    record = _record_or_404(request, short_code)
    if record.status != YearRecordStatus.ISSUED:
        raise Http404(_("Chỉ cấp bản sao của học bạ đang có hiệu lực."))
    purpose = request.POST.get("purpose", "")
    if purpose not in CopyPurpose.values:
        messages.error(request, _("Hãy chọn mục đích cấp bản sao."))
        return redirect("web:record_detail", short_code=record.short_code)
    access.log_personal_data_read(request.user, record.pupil)
    (copy,) = copies.record_copies(
        actor=request.user,
        records=[record],
        channel=CopyChannel.DOWNLOAD,
        purpose=purpose,
        note=request.POST.get("note", "").strip(),
    )
    response = HttpResponse(current_pdf(record), content_type=PDF)
    filename = export.safe_component(
        f"{record.pupil.full_name} - {record.short_code} - bản sao {str(copy.copy_id)[:8]}"
    )
    attachment_headers(response, f"{filename}.pdf", inline=False)
    return response
