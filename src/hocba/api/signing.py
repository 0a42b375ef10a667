"""The API of ``hocba sign-agent`` (issue 5 §3 "agent"): log in, fetch digests, upload signatures.

The agent runs on a teacher's computer, with no browser, so it cannot use the staff session and
its CSRF cookie. It logs in with username and password (throttled like the web login) and gets a
short-lived bearer token (:func:`hocba.signing.agent.issue_token`); every other route here takes
``Authorization: Bearer <token>`` and nothing else. The work itself is the signing app's services
(:mod:`hocba.signing.agent`), as for the web UI and the worker (STYLE §2).
"""

from __future__ import annotations

import base64
import binascii
import datetime
from typing import Any

from asn1crypto import x509 as asn1_x509
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer

from hocba.api.errors import NOT_VALID, DomainErrorOut, ErrorOut
from hocba.common.errors import DomainError
from hocba.signing import agent
from hocba.signing.adapters import DIGEST_ALGORITHM
from hocba.signing.models import ItemState, SigningBatch, SigningItem
from hocba.web import throttle

MAX_CERTIFICATE_CHARS = 16_384
MAX_SIGNATURE_CHARS = 2_048


class AgentTokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` from ``/signing/agent/login``; refusals in Vietnamese."""

    def __call__(self, request: HttpRequest) -> Any:
        scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError(
                message=_("Hãy đăng nhập sign-agent trước (thiếu mã đăng nhập Bearer).")
            )
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        try:
            return agent.user_for_token(token)
        except agent.TokenRefused as refused:
            raise AuthenticationError(message=refused.message) from None


router = Router(tags=["sign-agent"], auth=AgentTokenAuth())

# A missing or expired token: 401. A refusal by the signing services (not this user's batch,
# certificate not theirs): 403; bad base64 or DER: 400; a body that fails the schema: 422.
AGENT_ERRORS: dict[int, Any] = {
    400: DomainErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    **NOT_VALID,
}


# --- Schemas ---------------------------------------------------------------------------------


class LoginIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=4096)


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"  # noqa: S105 — the scheme name, not a secret
    expires_at: datetime.datetime
    username: str
    full_name: str


class BatchOut(Schema):
    id: int
    step: str
    step_label: str
    school: str
    school_class: str | None
    status: str
    status_label: str
    message: str
    total: int
    done_count: int
    failed_count: int
    remaining: int = Field(description="Học bạ còn chờ chuẩn bị hoặc chờ chữ ký.")
    certificate_fingerprint: str = Field(description="SHA-256 của chứng thư số (hex).")
    certificate_subject: str


class DigestOut(Schema):
    item_id: int
    record_code: str
    pupil_name: str
    digest: str = Field(description="Mã băm cần ký (base64).")


class PreparedOut(Schema):
    batch_id: int
    certificate_fingerprint: str
    digest_algorithm: str = Field(description="Luôn là sha256.")
    key_algorithm: str = Field(
        description="rsa: RSASSA-PKCS1-v1_5 trên DigestInfo; ec: ECDSA-Sig-Value (DER)."
    )
    items: list[DigestOut]


class SignatureIn(Schema):
    item_id: int
    signature: str = Field(max_length=MAX_SIGNATURE_CHARS, description="Giá trị chữ ký (base64).")


class SignaturesIn(Schema):
    signatures: list[SignatureIn] = Field(min_length=1, max_length=agent.MAX_PREPARE)


class ResultOut(Schema):
    item_id: int
    outcome: str = Field(description="signed, already_signed, refused, retry hoặc failed.")
    message: str


class SubmittedOut(Schema):
    results: list[ResultOut]
    batch: BatchOut


class CertificateIn(Schema):
    certificate: str = Field(max_length=MAX_CERTIFICATE_CHARS, description="DER, base64.")
    chain: list[str] = Field(default_factory=list, max_length=5)
    token_label: str = Field(min_length=1, max_length=64)
    key_label: str = Field("", max_length=64)


class CertificateOut(Schema):
    id: int
    fingerprint: str
    subject_name: str
    issuer_name: str
    not_after: datetime.datetime


# --- Routes ----------------------------------------------------------------------------------


@router.post(
    "/agent/login",
    auth=None,
    response={200: TokenOut, 400: ErrorOut, 401: ErrorOut, 429: ErrorOut, **NOT_VALID},
)
def agent_login(request: HttpRequest, payload: LoginIn) -> TokenOut:
    address = str(request.META.get("REMOTE_ADDR", "unknown"))
    if throttle.is_locked(payload.username, address):
        minutes = settings.LOGIN_FAILURE_WINDOW_SECONDS // 60
        raise HttpError(
            429,
            _("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau %(m)s phút.") % {"m": minutes},
        )
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None:  # wrong password, unknown or inactive account: told apart to no one
        throttle.record_failure(payload.username, address)
        raise AuthenticationError(message=_("Tên đăng nhập hoặc mật khẩu không đúng."))
    throttle.clear(payload.username, address)
    update_last_login(type(user), user)
    issued = agent.issue_token(user)
    staff = getattr(user, "staff", None)
    return TokenOut(
        token=issued.token,
        expires_at=issued.expires_at,
        username=user.get_username(),
        full_name=staff.full_name if staff is not None else user.get_username(),
    )


@router.get("/agent/batches", response={200: list[BatchOut], 401: ErrorOut})
def agent_batches(request: HttpRequest) -> list[BatchOut]:
    return [_batch_out(batch) for batch in _with_remaining(agent.pending_batches(_signer(request)))]


@router.post("/agent/batches/{batch_id}/prepare", response={200: PreparedOut, **AGENT_ERRORS})
def agent_prepare(request: HttpRequest, batch_id: int, limit: int = agent.PREPARE_LIMIT) -> Any:
    batch = _batch(batch_id)
    digests = agent.prepare_next(_signer(request), batch, limit=limit)
    labels = {
        item.pk: (item.record.short_code, item.record.pupil.full_name)
        for item in SigningItem.objects.filter(pk__in=[d.item_id for d in digests]).select_related(
            "record__pupil"
        )
    }
    return PreparedOut(
        batch_id=batch.pk,
        certificate_fingerprint=batch.certificate.fingerprint,
        digest_algorithm=DIGEST_ALGORITHM,
        key_algorithm=batch.certificate.key_algorithm,
        items=[
            DigestOut(
                item_id=item_id,
                record_code=labels[item_id][0],
                pupil_name=labels[item_id][1],
                digest=base64.b64encode(digest).decode(),
            )
            for item_id, digest in digests
        ],
    )


@router.post("/agent/batches/{batch_id}/signatures", response={200: SubmittedOut, **AGENT_ERRORS})
def agent_signatures(request: HttpRequest, batch_id: int, payload: SignaturesIn) -> Any:
    batch = _batch(batch_id)
    values = [
        (entry.item_id, _base64(entry.signature, "signatures")) for entry in payload.signatures
    ]
    results = agent.submit_signatures(_signer(request), batch, values)
    refreshed = _with_remaining(SigningBatch.objects.filter(pk=batch.pk)).get()
    return SubmittedOut(
        results=[
            ResultOut(item_id=r.item_id, outcome=r.outcome.value, message=r.message)
            for r in results
        ],
        batch=_batch_out(refreshed),
    )


@router.post("/agent/certificates", response={200: CertificateOut, **AGENT_ERRORS})
def agent_register_certificate(request: HttpRequest, payload: CertificateIn) -> Any:
    registered = agent.register_agent_certificate(
        _signer(request),
        certificate=_certificate(payload.certificate),
        chain=[_certificate(item) for item in payload.chain],
        token_label=payload.token_label,
        key_label=payload.key_label,
    )
    return CertificateOut(
        id=registered.pk,
        fingerprint=registered.fingerprint,
        subject_name=registered.subject_name,
        issuer_name=registered.issuer_name,
        not_after=registered.not_after,
    )


# --- helpers ---------------------------------------------------------------------------------


def _signer(request: HttpRequest) -> Any:
    """The user :class:`AgentTokenAuth` found for this request."""
    return request.auth  # type: ignore[attr-defined]


def _batch(batch_id: int) -> SigningBatch:
    batch = SigningBatch.objects.select_related("certificate").filter(pk=batch_id).first()
    if batch is None:
        raise HttpError(404, _("Không có lượt ký này."))
    return batch


def _with_remaining(batches: Any) -> Any:
    waiting = Q(items__state__in=[ItemState.PENDING, ItemState.PREPARED])
    return batches.select_related("certificate", "school", "school_class").annotate(
        remaining=Count("items", filter=waiting)
    )


def _batch_out(batch: Any) -> BatchOut:
    return BatchOut(
        id=batch.pk,
        step=batch.step,
        step_label=batch.get_step_display(),
        school=batch.school.name,
        school_class=batch.school_class.name if batch.school_class else None,
        status=batch.status,
        status_label=batch.get_status_display(),
        message=batch.message,
        total=batch.total,
        done_count=batch.done_count,
        failed_count=batch.failed_count,
        remaining=batch.remaining,
        certificate_fingerprint=batch.certificate.fingerprint,
        certificate_subject=batch.certificate.subject_name,
    )


def _base64(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise DomainError(_("Dữ liệu gửi lên không phải base64 hợp lệ."), field=field) from None


def _certificate(text: str) -> asn1_x509.Certificate:
    der = _base64(text, "certificate")
    try:
        certificate = asn1_x509.Certificate.load(der)
        certificate.native  # noqa: B018 — parse it all now, not halfway through the checks
    except (ValueError, TypeError):
        raise DomainError(
            _("Chứng thư số gửi lên không đọc được (cần dạng DER, mã hoá base64)."),
            field="certificate",
        ) from None
    return certificate
