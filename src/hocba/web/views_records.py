"""Year records of a class: list, compile, PDF preview, class zip, pupil booklet (issue 4 §6-7).

Every PDF is rendered on the fly from the record's stored canonical JSON (the exact bytes are
embedded, so the attachment hashes to ``content_hash``); nothing comes from live assessment data.
Permissions come from :mod:`hocba.schools.access` (view) and ``records.selectors.can_compile``;
what cannot be seen is a 404. Reads of a pupil's record from above the school are audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hocba.common.errors import DomainError
from hocba.ledger import copies
from hocba.ledger.models import CopyChannel
from hocba.records import export, selectors
from hocba.records.codes import normalise_short_code
from hocba.records.models import YearRecord
from hocba.records.services import COMPILED, RECOMPILED, SKIPPED, UNCHANGED, compile_class
from hocba.schools import access
from hocba.schools.models import Pupil, SchoolClass
from hocba.signing.batch import current_pdf

PDF = "application/pdf"


def _session_key(school_class: SchoolClass) -> str:
    return f"records_skipped_{school_class.pk}"


def _class_or_404(request: HttpRequest, class_id: int) -> SchoolClass:
    return get_object_or_404(
        access.visible_classes(request.user).select_related("school", "school_year"), pk=class_id
    )


def attachment_headers(response: HttpResponse, filename: str, *, inline: bool) -> None:
    """Content-Disposition with an ASCII ``filename=`` and the UTF-8 ``filename*=`` (RFC 6266)."""
    kind = "inline" if inline else "attachment"
    fallback = export.ascii_fallback(filename)
    response["Content-Disposition"] = (
        f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    )


@dataclass(frozen=True)
class RecordRow:
    position: int
    pupil: Pupil
    record: YearRecord | None
    reasons: list[str]

    @property
    def short_hash(self) -> str:
        return self.record.content_hash[:12] if self.record else ""


@login_required
def class_records(request: HttpRequest, class_id: int) -> HttpResponse:
    school_class = _class_or_404(request, class_id)
    last_skipped: dict[str, list[str]] = request.session.get(_session_key(school_class), {})
    rows = []
    for entry in export.class_entries(school_class):
        reasons: list[str] = []
        if entry.record is None:
            reasons = last_skipped.get(str(entry.enrolment.pk)) or [_("Chưa tổng hợp")]
        rows.append(RecordRow(entry.position, entry.pupil, entry.record, reasons))
    return render(
        request,
        "web/records_class.html",
        {
            "school_class": school_class,
            "rows": rows,
            "record_count": sum(1 for row in rows if row.record),
            "can_compile": selectors.can_compile(request.user, school_class),
            "is_locked": selectors.class_is_locked(school_class),
        },
    )


@login_required
@require_POST
def class_records_compile(request: HttpRequest, class_id: int) -> HttpResponse:
    school_class = _class_or_404(request, class_id)
    if not selectors.can_compile(request.user, school_class):
        messages.error(request, _("Bạn không có quyền tổng hợp học bạ của lớp này."))
        return redirect("web:records_class", class_id=school_class.pk)
    try:
        report = compile_class(actor=request.user, school_class=school_class)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("web:records_class", class_id=school_class.pk)
    messages.success(
        request,
        _(
            "Đã tổng hợp học bạ: %(compiled)d mới, %(recompiled)d tổng hợp lại, "
            "%(unchanged)d không đổi, %(skipped)d bỏ qua."
        )
        % {
            "compiled": report.count(COMPILED),
            "recompiled": report.count(RECOMPILED),
            "unchanged": report.count(UNCHANGED),
            "skipped": report.count(SKIPPED),
        },
    )
    skipped: dict[str, list[str]] = {}
    for outcome in report.outcomes:
        if outcome.outcome != SKIPPED:
            continue
        skipped[str(outcome.enrolment_id)] = list(outcome.reasons)
        messages.warning(
            request,
            _("Bỏ qua %(name)s (%(code)s): %(reasons)s")
            % {
                "name": outcome.full_name,
                "code": outcome.ministry_code,
                "reasons": "; ".join(outcome.reasons),
            },
        )
    request.session[_session_key(school_class)] = skipped
    return redirect("web:records_class", class_id=school_class.pk)


@login_required
def record_pdf(request: HttpRequest, short_code: str) -> HttpResponse:
    code = normalise_short_code(short_code)
    record = (
        YearRecord.objects.filter(short_code=code)
        .select_related("pupil", "enrolment__school_class")
        .first()
        if code
        else None
    )
    # The record's own class decides: a school the pupil left does not see the new school's record.
    if record is None or not access.can_view(request.user, record.enrolment.school_class):
        raise Http404(_("Không tìm thấy học bạ."))
    access.log_personal_data_read(request.user, record.pupil)
    # The PDF as it stands after its last signature, or freshly rendered when nobody signed yet.
    response = HttpResponse(current_pdf(record), content_type=PDF)
    # Viewing an issued record hands out a copy of it: logged (the record page asks the purpose).
    copies.record_copies(actor=request.user, records=[record], channel=CopyChannel.DOWNLOAD)
    filename = (
        f"{record.enrolment.school_class.name} - {record.pupil.full_name} - "
        f"{record.pupil.ministry_code}.pdf"
    )
    attachment_headers(response, export.safe_component(filename), inline=True)
    return response


@login_required
def class_records_zip(request: HttpRequest, class_id: int) -> HttpResponse:
    school_class = _class_or_404(request, class_id)
    response = HttpResponse(
        export.class_zip(school_class, user=request.user), content_type="application/zip"
    )
    filename = export.safe_component(
        f"{school_class.school.code} - {school_class.name} - {school_class.school_year.name}"
    )
    attachment_headers(response, f"{filename}.zip", inline=False)
    return response


@login_required
def pupil_booklet(request: HttpRequest, pupil_id: int) -> HttpResponse:
    pupil = get_object_or_404(access.visible_pupils(request.user), pk=pupil_id)
    # The whole booklet belongs to the pupil's current school (and the authorities above it).
    current = pupil.enrolments.filter(left_on__isnull=True).order_by("-joined_on").first()
    if current is None or not access.can_view(request.user, current.school_class):
        raise Http404(_("Không tìm thấy học bạ."))
    records = export.booklet_records(pupil)
    if not records:
        return render(
            request,
            "web/records_missing.html",
            {
                "pupil": pupil,
                "message": _("Học sinh này chưa có học bạ năm học nào đã tổng hợp."),
            },
            status=404,
        )
    access.log_personal_data_read(request.user, pupil)
    response = HttpResponse(export.render_pupil_booklet(records), content_type=PDF)
    copies.record_copies(actor=request.user, records=records, channel=CopyChannel.BOOKLET)
    filename = export.safe_component(f"Sổ học bạ - {pupil.full_name} - {pupil.ministry_code}")
    attachment_headers(response, f"{filename}.pdf", inline=True)
    return response
