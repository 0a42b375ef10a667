"""The receiving store's endpoint (issue 9 §2): ``POST /api/v1/exchange/record-sets``.

A school's (or a Department's) hocba pushes its issued records here with ``hocba exchange
sync``. Only an institution's API key with the ``exchange:push`` scope may call it
(``Authorization: Bearer <key>`` or ``X-API-Key``; made by ``hocba api-keys create --scope
exchange:push``); anonymous calls are refused. The body is ``{"record_sets": [...]}`` of
``hocba.record-set/1`` documents (docs/interchange.md) and the request must carry an
``Idempotency-Key`` header. Answers: 200 with one receipt per record version; 400 with the errors
(which record set, which record, which field, in Vietnamese), nothing stored; 409 when a
concurrent request stored the same data first (send again).
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Header, Router, Schema
from ninja.errors import HttpError

from hocba.api.models import ApiScope
from hocba.api.verification import Caller, KeyBearer, KeyHeader
from hocba.common import ratelimit
from hocba.exchange import receiving

router = Router(tags=["exchange"], auth=[KeyBearer(), KeyHeader()])


def _pusher(request: HttpRequest) -> Caller:
    caller: Caller = request.auth  # type: ignore[attr-defined]
    if caller.key is None or not caller.key.has_scope(ApiScope.EXCHANGE_PUSH):
        raise HttpError(
            403, _("Khoá API này không có quyền %(scope)s.") % {"scope": ApiScope.EXCHANGE_PUSH}
        )
    own = ratelimit.Limit(caller.key.rate_limit, 60) if caller.key.rate_limit else None
    ratelimit.hit("api_key", f"key:{caller.key.pk}", limit=own)
    return caller


def _json(status: int, payload: dict[str, Any]) -> HttpResponse:
    return HttpResponse(
        json.dumps(payload, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )


def _refuse_constant(name: str) -> Any:
    """NaN and Infinity are not JSON (Python's reader accepts them by default)."""
    raise ValueError(name)


class ErrorItem(Schema):
    index: int | None = Field(None, description="Bộ hồ sơ thứ mấy trong lô (từ 0).")
    ministry_code: Any = None
    record_id: Any = None
    version: Any = None
    field: str | None = Field(None, description="Trường bị lỗi (JSON Pointer).")
    message: str | None = Field(None, description="Mô tả lỗi bằng tiếng Việt.")


class ErrorOut(Schema):
    detail: str
    errors: list[ErrorItem] = []


class ReceiptOut(Schema):
    record_id: str
    version: int
    content_hash: str
    status: str
    receipt_id: str
    received_at: str
    outcome: str = Field(description="stored, duplicate hoặc updated.")


class ReceiptsOut(Schema):
    format: str
    receiver: str
    idempotency_key: str
    receipts: list[ReceiptOut]


class DetailOut(Schema):
    detail: Any


@router.post(
    "/exchange/record-sets",
    response={
        200: ReceiptsOut,
        400: ErrorOut,
        401: DetailOut,
        403: DetailOut,
        409: ErrorOut,
        422: DetailOut,
        429: DetailOut,
    },
    summary="Nhận một lô bộ hồ sơ học bạ (hocba.record-set/1)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def receive_record_sets(
    request: HttpRequest,
    idempotency_key: str = Header(
        "", alias="Idempotency-Key", description="Khoá chống gửi trùng của lô (bắt buộc)."
    ),
) -> HttpResponse:
    caller = _pusher(request)
    assert caller.key is not None
    try:
        body = json.loads(request.body, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError):
        return _json(400, {"detail": _("Nội dung yêu cầu không phải JSON hợp lệ."), "errors": []})
    try:
        response = receiving.receive_batch(
            api_key=caller.key,
            idempotency_key=idempotency_key,
            body=body,
        )
    except receiving.BatchConflict as error:
        return _json(409, {"detail": error.message, "errors": []})
    except receiving.BatchRefused as error:
        return _json(400, {"detail": error.message, "errors": error.errors})
    return _json(200, response)
