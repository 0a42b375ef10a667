"""The server side of ``hocba sign-agent`` (issue 5 §3 "agent", ARCHITECTURE §6).

A teacher whose key is on a USB token at their own computer registers the token's certificate
with adapter ``agent``; :func:`hocba.signing.services.start_batch` then creates the batch and its
items but queues no worker. The agent on the teacher's computer does the middle step of the
interrupted signing (:mod:`.pades`) over HTTP:

1. :func:`prepare_next` prepares the next records of the batch (the PDF with its signature field
   filled and room reserved, kept on the item with pyHanko's state) and hands out the SHA-256
   digests to sign. An item already prepared is handed out again unchanged, so an agent that
   crashed (or lost its token) fetches the same digests next time.
2. The agent signs all digests with one PIN entry and uploads the raw signature values.
3. :func:`submit_signatures` checks each value against the registered certificate's public key
   before anything is embedded (a wrong key or garbage is refused for that item, which stays
   prepared), adds the RFC 3161 timestamp, embeds it and commits the record exactly as the
   in-process batch does (:func:`.batch.commit_signature`). A value for an item already signed is
   answered "already signed" and never signs twice. When nothing is left to sign the batch is
   done.

The agent authenticates with a short-lived bearer token (:func:`issue_token`), not a browser
session: a signed, timestamped payload naming the user and a per-user value that changes with the
password, so changing the password (or deactivating the account) ends every agent login.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from hocba.audit.services import record_event
from hocba.common.errors import DomainError, PermissionRefused
from hocba.schools import access
from hocba.signing import pades, registry
from hocba.signing.batch import _signer_name, commit_signature, prepare_items, signature_request
from hocba.signing.models import (
    AdapterKind,
    BatchStatus,
    CertificatePurpose,
    ItemState,
    SigningBatch,
    SigningCertificate,
    SigningItem,
)
from hocba.signing.services import may_sign
from hocba.signing.tsa import configured_timestamper

PREPARE_LIMIT = 50
MAX_PREPARE = 200
ACTIVE = (BatchStatus.QUEUED, BatchStatus.RUNNING, BatchStatus.WAITING)
TOKEN_SALT = "hocba.signing.agent.token"  # noqa: S105 — a namespace, not a secret
STATE_VERSION = 1


class Outcome(StrEnum):
    SIGNED = "signed"
    ALREADY_SIGNED = "already_signed"
    REFUSED = "refused"  # nothing embedded; the item stays as it was (send a correct value)
    RETRY = "retry"  # the timestamp service did not answer; send the same value again later
    FAILED = "failed"  # the record cannot be signed in this batch


@dataclass(frozen=True)
class ItemResult:
    item_id: int
    outcome: Outcome
    message: str = ""


class PreparedDigest(NamedTuple):
    item_id: int
    digest: bytes


# --- tokens ----------------------------------------------------------------------------------


class TokenRefused(PermissionRefused):
    """The bearer token is missing, forged, expired or no longer matches its user."""


@dataclass(frozen=True)
class AgentToken:
    token: str
    expires_at: dt.datetime


def token_max_age() -> int:
    return int(getattr(settings, "HOCBA_AGENT_TOKEN_SECONDS", 8 * 3600))


def _user_nonce(user: Any) -> str:
    # Derived from the password hash (as Django's sessions are): a new password ends all tokens.
    return str(user.get_session_auth_hash())[:32]


def issue_token(user: Any) -> AgentToken:
    """A bearer token for an authenticated, active user, valid :func:`token_max_age` seconds."""
    if not user.is_active:
        raise TokenRefused(_("Tài khoản này đã bị khoá."))
    payload = {"v": 1, "u": user.pk, "n": _user_nonce(user)}
    token = signing.dumps(payload, salt=TOKEN_SALT)
    return AgentToken(token, timezone.now() + dt.timedelta(seconds=token_max_age()))


def user_for_token(token: str) -> Any:
    """The active user a token was issued to; :class:`TokenRefused` otherwise."""
    invalid = _("Mã đăng nhập của sign-agent không hợp lệ. Hãy đăng nhập lại.")
    try:
        payload = signing.loads(token, salt=TOKEN_SALT, max_age=token_max_age())
    except signing.SignatureExpired:
        raise TokenRefused(
            _("Phiên đăng nhập của sign-agent đã hết hạn (sau %(hours)s giờ). Hãy đăng nhập lại.")
            % {"hours": token_max_age() // 3600}
        ) from None
    except signing.BadSignature:
        raise TokenRefused(invalid) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        raise TokenRefused(invalid)
    user = get_user_model().objects.filter(pk=payload["u"]).first()
    if user is None or not user.is_active:
        raise TokenRefused(invalid)
    if not constant_time_compare(str(payload.get("n", "")), _user_nonce(user)):
        raise TokenRefused(invalid)
    return user


# --- certificates ----------------------------------------------------------------------------


def register_agent_certificate(
    actor: Any,
    *,
    certificate: asn1_x509.Certificate,
    chain: Sequence[asn1_x509.Certificate] = (),
    token_label: str,
    key_label: str = "",
) -> SigningCertificate:
    """Register the personal certificate read from the actor's token, signed through the agent.

    Without a chain from the token, the issuing CAs are taken from the trust store, so the
    signatures carry the chain a validator needs. Registering the same certificate again returns
    the existing registration.
    """
    staff = access.staff_of(actor)
    if staff is None or staff.school is None:
        raise PermissionRefused(
            _("Chỉ cán bộ của một trường mới đăng ký được chứng thư số cá nhân để ký học bạ.")
        )
    existing = SigningCertificate.objects.filter(
        fingerprint=registry.fingerprint(certificate.dump()),
        retired_at__isnull=True,
        staff=staff,
        adapter=AdapterKind.AGENT,
    ).first()
    if existing is not None:
        return existing  # registering the same token again changes nothing
    config = {"token_label": token_label, "key_label": key_label}
    return registry.register_certificate(
        actor,
        purpose=CertificatePurpose.PERSONAL,
        school=staff.school,
        staff=staff,
        adapter=AdapterKind.AGENT,
        certificate=certificate,
        chain=list(chain) or registry.chain_from_trust_store(certificate),
        adapter_config={key: value for key, value in config.items() if value},
    )


# --- batches ---------------------------------------------------------------------------------


def pending_batches(user: Any) -> QuerySet[SigningBatch]:
    """The user's agent batches that still have records to sign, oldest first."""
    return (
        SigningBatch.objects.filter(
            requested_by_id=user.pk, certificate__adapter=AdapterKind.AGENT, status__in=ACTIVE
        )
        .select_related("certificate", "school", "school_class")
        .order_by("requested_at", "pk")
    )


def _agent_batch(user: Any, batch: SigningBatch) -> SigningBatch:
    """The batch, fresh from the database, once the user may work it through the agent."""
    batch = SigningBatch.objects.select_related(
        "certificate__staff", "school", "school_class", "requested_by"
    ).get(pk=batch.pk)
    if batch.requested_by_id != user.pk:
        raise PermissionRefused(_("Chỉ người đã bắt đầu lượt ký mới ký được lượt ký này."))
    if not may_sign(user, batch.step, school=batch.school, school_class=batch.school_class):
        raise PermissionRefused(_("Bạn không còn quyền ký lượt ký này."))
    if batch.certificate.adapter != AdapterKind.AGENT:
        raise DomainError(_("Lượt ký này không ký bằng phần mềm sign-agent."))
    if batch.status == BatchStatus.CANCELLED:
        raise DomainError(_("Lượt ký này đã bị huỷ."))
    return batch


def _check_certificate(batch: SigningBatch) -> None:
    """Check the certificate again; a refused one cancels the batch, as the worker does."""
    try:
        registry.check_before_signing(batch.certificate)
    except DomainError as error:
        SigningBatch.objects.filter(pk=batch.pk, status__in=ACTIVE).update(
            status=BatchStatus.CANCELLED,
            message=error.message,
            authorisation=None,
            finished_at=timezone.now(),
        )
        raise


def prepare_next(
    user: Any, batch: SigningBatch, limit: int = PREPARE_LIMIT
) -> list[PreparedDigest]:
    """The next digests to sign: prepared items again unchanged, then newly prepared ones."""
    batch = _agent_batch(user, batch)
    if batch.status == BatchStatus.DONE:
        return []
    _check_certificate(batch)
    limit = max(1, min(limit, MAX_PREPARE))
    handed = list(
        batch.items.filter(state=ItemState.PREPARED).defer("prepared_pdf").order_by("pk")[:limit]
    )
    if len(handed) < limit:
        pending = list(
            batch.items.filter(state=ItemState.PENDING)
            .select_related("record__school")
            .prefetch_related("record__signatures")
            .order_by("pk")[: limit - len(handed)]
        )
        if pending:
            handed += _prepare(batch, pending)
    if not handed:
        _finish_if_complete(batch)
        return []
    _mark_running(batch)
    return [PreparedDigest(item.pk, _digest_of(item)) for item in sorted(handed, key=_pk)]


def _pk(item: SigningItem) -> int:
    return int(item.pk)


def _prepare(batch: SigningBatch, items: Sequence[SigningItem]) -> list[SigningItem]:
    certificate = registry.certificate_of(batch.certificate)
    chain = registry.chain_of(batch.certificate)
    signer_name = _signer_name(batch, certificate)
    when = timezone.now()
    request = signature_request(batch, signer_name, when)
    prepared_items = []
    for item, prepared in prepare_items(batch, items, request, certificate, chain):
        state = {
            "version": STATE_VERSION,
            "pades": prepared.state(),
            "signer_name": signer_name,
            "signing_time": when.isoformat(),
        }
        SigningItem.objects.filter(pk=item.pk, state=ItemState.PENDING).update(
            state=ItemState.PREPARED, prepared_pdf=prepared.prepared_pdf, prepared_state=state
        )
        # Ours, or the one another agent stored first: either way the stored state is handed out.
        stored = SigningItem.objects.defer("prepared_pdf").get(pk=item.pk)
        if stored.state == ItemState.PREPARED:
            prepared_items.append(stored)
    return prepared_items


def _digest_of(item: SigningItem) -> bytes:
    return _prepared_of(item, b"").tbs_digest


def _prepared_of(item: SigningItem, pdf: bytes) -> pades.PreparedSignature:
    state = item.prepared_state or {}
    if state.get("version") != STATE_VERSION:
        raise DomainError(_("Dữ liệu chuẩn bị ký của học bạ không đọc được."))
    return pades.PreparedSignature.from_state(state["pades"], pdf)


def _mark_running(batch: SigningBatch) -> None:
    now = timezone.now()
    SigningBatch.objects.filter(pk=batch.pk, status__in=ACTIVE).update(
        status=BatchStatus.RUNNING,
        message="",
        started_at=Coalesce("started_at", Value(now)),
        heartbeat_at=now,
    )


def _finish_if_complete(batch: SigningBatch) -> bool:
    """Mark the batch done once no item waits to be prepared or signed."""
    if batch.items.filter(state__in=[ItemState.PENDING, ItemState.PREPARED]).exists():
        return False
    now = timezone.now()
    SigningBatch.objects.filter(pk=batch.pk, status__in=ACTIVE).update(
        status=BatchStatus.DONE, message="", authorisation=None, finished_at=now, heartbeat_at=now
    )
    return True


# --- signatures ------------------------------------------------------------------------------


def submit_signatures(
    user: Any, batch: SigningBatch, signatures: Iterable[tuple[int, bytes]]
) -> list[ItemResult]:
    """Check, timestamp, embed and commit signature values; one result per item, in order."""
    batch = _agent_batch(user, batch)
    wanted: dict[int, bytes] = {}
    for item_id, value in signatures:
        wanted.setdefault(int(item_id), bytes(value))
    items = {item.pk: item for item in batch.items.filter(pk__in=list(wanted))}
    certificate = registry.certificate_of(batch.certificate)
    results: dict[int, ItemResult] = {}
    accepted: list[tuple[SigningItem, pades.PreparedSignature, bytes]] = []
    for item_id, value in wanted.items():
        item = items.get(item_id)
        refusal = _refusal(item_id, item)
        if refusal is not None:
            results[item_id] = refusal
            continue
        assert item is not None
        prepared = _prepared_of(item, bytes(item.prepared_pdf or b""))
        if not signature_matches(certificate, prepared.tbs_digest, value):
            results[item_id] = ItemResult(item_id, Outcome.REFUSED, _mismatch_message(item))
        else:
            accepted.append((item, prepared, value))
    if accepted:
        results |= _embed_and_commit(batch, certificate, accepted)
    _finish_if_complete(batch)
    _audit_submission(user, batch, results.values())
    return [results[item_id] for item_id in wanted]


def _refusal(item_id: int, item: SigningItem | None) -> ItemResult | None:
    if item is None:
        message = _("Mục %(id)s không thuộc lượt ký này.") % {"id": item_id}
        return ItemResult(item_id, Outcome.REFUSED, message)
    if item.state == ItemState.SIGNED:
        return ItemResult(item_id, Outcome.ALREADY_SIGNED, _("Học bạ này đã được ký."))
    if item.state == ItemState.FAILED:
        return ItemResult(item_id, Outcome.FAILED, item.error)
    if item.state == ItemState.PENDING:
        message = _("Học bạ này chưa được chuẩn bị để ký; hãy lấy lại mã băm cần ký.")
        return ItemResult(item_id, Outcome.REFUSED, message)
    return None


def _mismatch_message(item: SigningItem) -> str:
    return _(
        "Chữ ký gửi lên cho mục %(id)s không khớp với chứng thư số đã đăng ký (khoá khác hoặc "
        "dữ liệu hỏng); chưa có gì được ký vào học bạ."
    ) % {"id": item.pk}


def signature_matches(certificate: asn1_x509.Certificate, digest: bytes, value: bytes) -> bool:
    """Whether ``value`` is the certificate key's signature over the SHA-256 ``digest``."""
    try:
        public_key = serialization.load_der_public_key(certificate.public_key.dump())
    except (ValueError, UnsupportedAlgorithm):
        return False
    prehashed = utils.Prehashed(hashes.SHA256())
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(value, digest, padding.PKCS1v15(), prehashed)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(value, digest, ec.ECDSA(prehashed))
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def _embed_and_commit(
    batch: SigningBatch,
    certificate: asn1_x509.Certificate,
    accepted: Sequence[tuple[SigningItem, pades.PreparedSignature, bytes]],
) -> dict[int, ItemResult]:
    _check_certificate(batch)
    timestamper = configured_timestamper()
    finished = asyncio.run(
        pades.finish_many(
            [(prepared, value) for _item, prepared, value in accepted],
            certificate,
            registry.chain_of(batch.certificate),
            timestamper,
        )
    )
    results = {}
    for (item, _prepared, _value), pdf in zip(accepted, finished, strict=True):
        results[item.pk] = _commit(batch, item, pdf)
    return results


def _commit(batch: SigningBatch, item: SigningItem, pdf: bytes | BaseException) -> ItemResult:
    if isinstance(pdf, TimestampRequestError):
        message = _("Dịch vụ cấp dấu thời gian không trả lời. Hãy gửi lại chữ ký sau ít phút.")
        return ItemResult(item.pk, Outcome.RETRY, message)
    if isinstance(pdf, BaseException):
        message = _("Không hoàn tất được chữ ký: %(error)s") % {
            "error": str(pdf) or type(pdf).__name__
        }
        _fail_prepared(batch, item, message)
        return ItemResult(item.pk, Outcome.FAILED, message)
    state = item.prepared_state or {}
    with transaction.atomic():
        locked = SigningItem.objects.select_for_update().defer("prepared_pdf").get(pk=item.pk)
        if locked.state == ItemState.SIGNED:
            return ItemResult(item.pk, Outcome.ALREADY_SIGNED, _("Học bạ này đã được ký."))
        if locked.state != ItemState.PREPARED or locked.prepared_state != state:
            message = _("Học bạ này đã được chuẩn bị lại; hãy lấy lại mã băm cần ký.")
            return ItemResult(item.pk, Outcome.REFUSED, message)
        if SigningBatch.objects.filter(pk=batch.pk, status=BatchStatus.CANCELLED).exists():
            return ItemResult(item.pk, Outcome.REFUSED, _("Lượt ký này đã bị huỷ."))
        signed = commit_signature(
            batch,
            locked,
            pdf,
            signer_name=str(state["signer_name"]),
            when=dt.datetime.fromisoformat(str(state["signing_time"])),
        )
    if signed:
        return ItemResult(item.pk, Outcome.SIGNED)
    error = SigningItem.objects.values_list("error", flat=True).get(pk=item.pk)
    return ItemResult(item.pk, Outcome.FAILED, error)


def _fail_prepared(batch: SigningBatch, item: SigningItem, message: str) -> None:
    with transaction.atomic():
        updated = SigningItem.objects.filter(pk=item.pk, state=ItemState.PREPARED).update(
            state=ItemState.FAILED, error=message, prepared_pdf=None
        )
        if updated:
            SigningBatch.objects.filter(pk=batch.pk).update(failed_count=F("failed_count") + 1)


def _audit_submission(user: Any, batch: SigningBatch, results: Iterable[ItemResult]) -> None:
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome.value] = counts.get(result.outcome.value, 0) + 1
    if set(counts) <= {Outcome.ALREADY_SIGNED.value}:
        return  # a repeated upload changes nothing
    with transaction.atomic():
        record_event(
            actor=user,
            action="signing.agent_signatures_received",
            obj=batch,
            school=batch.school,
            changes=counts,
        )
