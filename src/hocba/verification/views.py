"""Public pages: a record's status by its code (the QR code's address), its details after the
second factor, its log proof, and the parent look-up. The work is in ``access`` and ``lookup``."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hocba.common import ratelimit
from hocba.common.errors import DomainError
from hocba.ledger.models import CopyPurpose
from hocba.records.codes import normalise_short_code
from hocba.records.models import YearRecord
from hocba.schools.access import log_personal_data_read
from hocba.verification import access, lookup
from hocba.verification.bundle import record_proof
from hocba.verification.details import record_details
from hocba.verification.forms import FactorForm, LookupForm
from hocba.verification.status import record_status

PDF = "application/pdf"


def _record_or_404(short_code: str) -> YearRecord:
    code = normalise_short_code(short_code)
    record = YearRecord.objects.filter(short_code=code).first() if code else None
    if record is None:
        raise Http404(_("Không tìm thấy học bạ có mã này."))
    return record


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def too_many_requests(request: HttpRequest, limited: ratelimit.RateLimited) -> HttpResponse:
    response = render(
        request, "verification/too_many.html", {"message": limited.message}, status=429
    )
    response["Retry-After"] = str(limited.retry_after)
    return _private(response)


def _actor(request: HttpRequest) -> Any:
    return request.user if request.user.is_authenticated else None


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=PDF)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _private(response)


@require_http_methods(["GET", "POST"])
def status_page(request: HttpRequest, short_code: str) -> HttpResponse:
    try:
        ratelimit.hit("verify_page", ratelimit.client_address(request))
        record = _record_or_404(short_code)
        form, error = FactorForm(request.POST or None), ""
        if request.method == "POST":
            factor = form.factor()
            if not factor.supplied:
                error = access.missing_factor_message()
            elif access.attempt(record, factor, client=ratelimit.client_address(request)):
                access.unlock_record(request.session, record)
                if request.user.is_authenticated:
                    log_personal_data_read(request.user, record.pupil)
                return redirect("verification:status", short_code=record.short_code)
            else:
                error = access.wrong_factor_message()
    except ratelimit.RateLimited as limited:
        return too_many_requests(request, limited)
    unlocked = access.is_unlocked(request.session, record)
    context = {
        "status": record_status(record),
        "details": record_details(record) if unlocked else None,
        "form": FactorForm() if error else form,
        "error": error,
    }
    return _private(render(request, "verification/status.html", context))


@require_GET
def record_pdf(request: HttpRequest, short_code: str) -> HttpResponse:
    """The issued PDF for a visitor who gave the second factor, logged as a copy (purpose "check",
    or "parent" from the parent look-up)."""
    record = _record_or_404(short_code)
    if not access.is_unlocked(request.session, record):
        raise Http404(_("Hãy nhập mã truy cập hoặc ngày sinh trước khi tải học bạ."))
    by_parent = access.unlocked_pupil(request.session) == record.pupil_id
    purpose = CopyPurpose.PARENT if by_parent else CopyPurpose.CHECK
    try:
        ratelimit.hit("portal_download", ratelimit.client_address(request))
        data = access.issued_pdf(record, actor=_actor(request), purpose=purpose)
    except ratelimit.RateLimited as limited:
        return too_many_requests(request, limited)
    except DomainError as refused:
        raise Http404(refused.message) from None
    return _pdf(data, f"hoc-ba-{record.short_code}.pdf")


@require_GET
def proof_bundle(request: HttpRequest, short_code: str) -> HttpResponse:
    """The record's c2sp.org/tlog-proof bundle, to check offline with the log's public key."""
    record = _record_or_404(short_code)
    # With the issued event as ``extra``: ``hocba verify --proof`` rebuilds the leaf from it.
    text = record_proof(record)
    if text is None:
        raise Http404(_("Học bạ này chưa có bằng chứng sổ cái."))
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{record.short_code}.tlog-proof"'
    return response


# --- Parent look-up ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def parent_lookup(request: HttpRequest) -> HttpResponse:
    form, error = LookupForm(request.POST or None), ""
    if request.method == "POST" and form.is_valid():
        code = lookup.normalise_ministry_code(form.cleaned_data["ministry_code"])
        factor = form.factor()
        if not code:
            error = lookup.invalid_code_message()
        elif not factor.supplied:
            error = access.missing_factor_message()
        else:
            try:
                pupil_id = lookup.find_child(code, factor, client=ratelimit.client_address(request))
            except ratelimit.RateLimited as limited:
                return too_many_requests(request, limited)
            if pupil_id is not None:
                request.session.cycle_key()
                access.unlock_pupil(request.session, pupil_id)
                return redirect("verification:lookup")
            error = access.wrong_factor_message()
    pupil_id = access.unlocked_pupil(request.session)
    context = {
        "form": LookupForm() if error else form,
        "error": error,
        "child": lookup.child(pupil_id) if pupil_id is not None else None,
    }
    return _private(render(request, "verification/lookup.html", context))


@require_POST
def lookup_leave(request: HttpRequest) -> HttpResponse:
    access.forget_pupil(request.session)
    return redirect("verification:lookup")


@require_GET
def lookup_booklet(request: HttpRequest) -> HttpResponse:
    pupil_id = access.unlocked_pupil(request.session)
    if pupil_id is None:
        return redirect("verification:lookup")
    try:
        ratelimit.hit("portal_download", ratelimit.client_address(request))
        data = lookup.booklet_pdf(lookup.child(pupil_id), actor=_actor(request))
    except ratelimit.RateLimited as limited:
        return too_many_requests(request, limited)
    except DomainError as refused:
        raise Http404(refused.message) from None
    return _pdf(data, "so-hoc-ba.pdf")
