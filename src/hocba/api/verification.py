"""The verification API (issue 7 §5): a record's status and facts by its code, for receiving
schools, universities and other systems.

Anonymous calls are allowed under a per-address limit; an institution's key
(``Authorization: Bearer <key>`` or ``X-API-Key: <key>``, made by ``hocba api-keys``) gets its own,
higher limit and must carry the ``verify:read`` scope. Full facts need the record's second
factor (access code or date of birth) in a header or a POST body, never in the query string.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Literal

from django.http import HttpRequest
from django.urls import register_converter, reverse
from django.utils.translation import gettext as _
from ninja import Field, File, Header, Path, Router, Schema, UploadedFile
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyHeader, HttpBearer

from hocba.api import keys
from hocba.api.errors import NOT_VALID, ErrorOut
from hocba.api.models import ApiKey, ApiScope
from hocba.common import ratelimit
from hocba.records.codes import normalise_short_code
from hocba.records.models import YearRecord
from hocba.verification import access
from hocba.verification.details import record_details
from hocba.verification.online import max_bytes, verify_pdf_online
from hocba.verification.status import RecordStatus, record_status


class ShortCodeConverter:
    """A record's short code in a path (any case, dashes optional), so that fixed words such as
    ``/verify/file`` never read as a code."""

    regex = "[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ShortCodeConverter, "shortcode")


@dataclass(frozen=True)
class Caller:
    key: ApiKey | None
    address: str


def _key_caller(request: HttpRequest, raw_key: str | None) -> Caller | None:
    if not raw_key:
        return None
    key = keys.key_for(raw_key)
    if key is None:
        raise AuthenticationError(message=_("Khoá API không hợp lệ hoặc đã bị thu hồi."))
    return Caller(key=key, address=ratelimit.client_address(request))


class KeyBearer(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Caller | None:
        return _key_caller(request, token.strip())


class KeyHeader(APIKeyHeader):
    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        return _key_caller(request, key)


def anonymous(request: HttpRequest) -> Caller:
    return Caller(key=None, address=ratelimit.client_address(request))


router = Router(tags=["verification"], auth=[KeyBearer(), KeyHeader(), anonymous])


def _admit(request: HttpRequest, scope: str = ApiScope.VERIFY_READ) -> Caller:
    """The caller, once its scope and its rate limit allow this call."""
    caller: Caller = request.auth  # type: ignore[attr-defined]
    if caller.key is None:
        ratelimit.hit("api_anonymous", caller.address)
        return caller
    if not caller.key.has_scope(scope):
        raise HttpError(403, _("Khoá API này không có quyền %(scope)s.") % {"scope": scope})
    own = ratelimit.Limit(caller.key.rate_limit, 60) if caller.key.rate_limit else None
    ratelimit.hit("api_key", f"key:{caller.key.pk}", limit=own)
    return caller


def _record(short_code: str) -> YearRecord:
    code = normalise_short_code(short_code)
    record = YearRecord.objects.filter(short_code=code).first() if code else None
    if record is None:
        raise HttpError(404, _("Không tìm thấy học bạ có mã này."))
    return record


# --- Schemas ---------------------------------------------------------------------------------

State = Literal["valid", "superseded", "revoked", "not_issued"]


class StatusOut(Schema):
    short_code: str
    state: State
    message: str = Field(description="Kết luận bằng tiếng Việt.")
    current_code: str | None = Field(None, description="Mã của phiên bản thay thế (superseded).")
    superseded_at: datetime.datetime | None = None
    correction_reason: str | None = None
    revocation_reason: str | None = None
    revoked_at: datetime.datetime | None = None


class SignerOut(Schema):
    role: str
    name: str
    title: str
    signed_at: datetime.datetime


class AssessmentOut(Schema):
    label: str
    level: str
    score: int | None = None


class DetailsOut(Schema):
    full_name: str
    date_of_birth: datetime.date | None
    sex: str
    ministry_code: str
    school: str
    school_year: str
    class_name: str
    result: str
    completion: str
    subjects: list[AssessmentOut]
    competencies: list[AssessmentOut]
    qualities: list[AssessmentOut]


class VerifyOut(StatusOut):
    school: str
    school_year: str
    class_name: str
    version: int
    pupil_initials: str = Field(description="Tên học sinh được che: chữ cái đầu.")
    birth_year: str
    signers: list[SignerOut]
    issued_at: datetime.datetime | None = None
    log_index: int | None = None
    proof_url: str | None = Field(None, description="Bằng chứng sổ cái (c2sp.org/tlog-proof).")
    details: DetailsOut | None = Field(
        None, description="Chỉ có khi gửi đúng mã truy cập hoặc ngày sinh."
    )


class FactorIn(Schema):
    access_code: str = Field("", max_length=64, description="Mã truy cập dạng XXXXX-XXXXX.")
    date_of_birth: str = Field("", max_length=32, description="Ngày sinh dd/mm/yyyy (hoặc ISO).")


def _status_out(status: RecordStatus) -> dict[str, Any]:
    return {
        "short_code": status.record.short_code,
        "state": status.state,
        "message": status.headline,
        "current_code": status.replacement.short_code if status.replacement else None,
        "superseded_at": status.superseded_at,
        "correction_reason": status.correction_reason or None,
        "revocation_reason": status.revocation.reason if status.revocation else None,
        "revoked_at": status.revocation.at if status.revocation else None,
    }


def _verify_out(request: HttpRequest, status: RecordStatus, unlocked: bool) -> dict[str, Any]:
    proof = reverse("verification:proof", args=[status.record.short_code])
    return _status_out(status) | {
        "school": status.school,
        "school_year": status.school_year,
        "class_name": status.class_name,
        "version": status.record.version,
        "pupil_initials": status.pupil_initials,
        "birth_year": status.birth_year,
        "signers": [vars(signer) for signer in status.signers],
        "issued_at": status.issued_at,
        "log_index": status.log_index,
        "proof_url": request.build_absolute_uri(proof) if status.bundle else None,
        "details": record_details(status.record) if unlocked else None,
    }


def _verify(request: HttpRequest, short_code: str, access_code: str, birth: str) -> dict[str, Any]:
    caller = _admit(request)
    record = _record(short_code)
    factor = access.parse_factor(access_code, birth)
    unlocked = False
    if factor.supplied:
        scope = None if caller.key else "verify_factor"
        unlocked = access.attempt(record, factor, client=caller.address, client_scope=scope)
        if not unlocked:
            raise HttpError(403, access.wrong_factor_message())
    return _verify_out(request, record_status(record), unlocked)


# --- Operations ------------------------------------------------------------------------------

ERRORS: dict[int, Any] = {
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    429: ErrorOut,
    **NOT_VALID,
}
# Anonymous calls are allowed (``anonymous`` above): an empty requirement, added to the keys'
# (django-ninja appends lists of ``openapi_extra``), says so in the schema.
ANONYMOUS_TOO: dict[str, Any] = {"security": [{}]}
# The path converter's pattern, in the schema too: other strings never reach these operations.
SHORT_CODE = Path(
    ...,
    pattern=f"^{ShortCodeConverter.regex}$",
    description="Mã tra cứu in trên học bạ (XXXX-XXXX-XXXX, không phân biệt hoa thường).",
)


@router.get(
    "/verify/{shortcode:short_code}/status",
    response={200: StatusOut, **ERRORS},
    summary="Trạng thái học bạ theo mã",
    openapi_extra=ANONYMOUS_TOO,
)
def record_state(request: HttpRequest, short_code: str = SHORT_CODE) -> dict[str, Any]:
    """Chỉ trạng thái: valid, superseded (kèm mã phiên bản hiện hành), revoked (kèm lý do),
    not_issued. Không có thông tin cá nhân."""
    _admit(request)
    return _status_out(record_status(_record(short_code)))


@router.get(
    "/verify/{shortcode:short_code}",
    response={200: VerifyOut, **ERRORS},
    summary="Xác thực học bạ theo mã",
    openapi_extra=ANONYMOUS_TOO,
)
def verify_record(
    request: HttpRequest,
    short_code: str = SHORT_CODE,
    access_code: str = Header("", alias="X-Access-Code", max_length=64),
    date_of_birth: str = Header("", alias="X-Date-Of-Birth", max_length=32),
) -> dict[str, Any]:
    """Trạng thái và thông tin được che; gửi kèm mã truy cập (``X-Access-Code``) hoặc ngày sinh
    (``X-Date-Of-Birth``) để có đầy đủ thông tin. Sai mã hoặc ngày sinh: 403."""
    return _verify(request, short_code, access_code, date_of_birth)


@router.post(
    "/verify/{shortcode:short_code}",
    response={200: VerifyOut, 400: ErrorOut, **ERRORS},
    summary="Xác thực học bạ theo mã, kèm mã truy cập hoặc ngày sinh",
    openapi_extra=ANONYMOUS_TOO,
)
def verify_record_with_factor(
    request: HttpRequest, factor: FactorIn, short_code: str = SHORT_CODE
) -> dict[str, Any]:
    """Như GET, với mã truy cập hoặc ngày sinh trong thân yêu cầu (JSON)."""
    return _verify(request, short_code, factor.access_code, factor.date_of_birth)


@router.post(
    "/verify/file",
    response={200: dict[str, Any], 400: ErrorOut, **ERRORS},
    summary="Kiểm tra một tệp PDF học bạ",
    openapi_extra=ANONYMOUS_TOO,
)
def verify_file(request: HttpRequest, file: UploadedFile = File(...)) -> dict[str, Any]:  # noqa: B008
    """Báo cáo kiểm tra tệp (lược đồ ``hocba.verification-report/1``, xem docs/verification.md):
    từng chữ ký, chuỗi tin cậy, dấu thời gian, sửa đổi sau khi ký, đối chiếu sổ cái, trạng thái
    hiện tại; kết luận theo ETSI EN 319 102-1. Cần quyền ``verify:file`` nếu dùng khoá API."""
    _admit(request, ApiScope.VERIFY_FILE)
    ratelimit.hit("verify_upload", request.auth.address)  # type: ignore[attr-defined]
    limit = max_bytes()
    data = file.read(limit + 1)
    if len(data) > limit:
        raise HttpError(
            400,
            _("Tệp quá lớn: chỉ kiểm tra tệp tới %(limit)s MB.") % {"limit": limit // 1_000_000},
        )
    report: dict[str, Any] = verify_pdf_online(data).to_dict()
    return report
