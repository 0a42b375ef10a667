"""The receiving store: another deployment pushes ``hocba.record-set/1`` batches here.

A batch is all or nothing: every record set is checked against the schema and every version's
content against its hash before anything is stored, in one transaction. Storage is idempotent
twice over: the same ``Idempotency-Key`` (for the same API key) gets the stored answer without
looking at the body again, and the same version (sender origin + record id + version) with the
same content hash is never stored twice: it gets the receipt it got the first time. A version
whose status moved on (issued → superseded or revoked) is updated in place and keeps its receipt
id; an older status arriving late never overwrites a newer one. The same version with another
content hash is refused: issued content never changes.

Each version's ledger event and proof must match it; for senders whose log key is registered
(``hocba transfer trust-peer``, or ``HOCBA_EXCHANGE_TRUSTED_LOGS``) the proof must also verify
against that key
(docs/interchange.md §5).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import rfc8785
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hocba.api.models import ApiKey
from hocba.audit.services import record_event
from hocba.common.errors import DomainError
from hocba.exchange.models import ReceivedBatch, ReceivedRecord
from hocba.ledger import merkle
from hocba.ledger import services as ledger_services
from hocba.ledger.keys import origin as ledger_origin
from hocba.ledger.note import NoteError, TlogProof, Verifier
from hocba.records import interchange

RECEIPT_FORMAT = "hocba.exchange-receipt/1"
# Later states win: a late "issued" never overwrites a "revoked" already received.
STATUS_RANK = {"issued": 0, "superseded": 1, "revoked": 2}


def max_batch() -> int:
    return int(getattr(settings, "HOCBA_EXCHANGE_MAX_BATCH", 200))


class BatchRefused(DomainError):
    """The batch is not stored; ``errors`` says which record set, which record, which field."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class BatchConflict(DomainError):
    """A concurrent request stored the same version or key first: retrying gets its receipt."""


@dataclass
class _Checked:
    record_sets: list[dict[str, Any]]
    errors: list[dict[str, Any]] = field(default_factory=list)


def request_hash(body: Any) -> str:
    """SHA-256 of the body's RFC 8785 form; numbers JSON cannot carry exactly are refused."""
    try:
        return hashlib.sha256(rfc8785.dumps(body)).hexdigest()
    except rfc8785.CanonicalizationError as error:
        raise BatchRefused(
            _(
                "Nội dung có số không biểu diễn chính xác được trong JSON (số nguyên vượt quá "
                "2^53 hoặc số thực không hợp lệ)."
            )
        ) from error


def receive_batch(*, api_key: ApiKey, idempotency_key: str, body: Any) -> dict[str, Any]:
    """Store a batch and return the receipts (the same receipts when it is sent again)."""
    idempotency_key = (idempotency_key or "").strip()
    if not idempotency_key or len(idempotency_key) > 128:
        raise BatchRefused(_("Thiếu tiêu đề Idempotency-Key (tối đa 128 ký tự)."))
    digest = request_hash(body)
    answered = _answered(api_key, idempotency_key, digest)
    if answered is not None:
        return answered
    checked = _check(body)
    if checked.errors:
        raise BatchRefused(
            _("Lô dữ liệu bị từ chối: %(count)s lỗi, không bộ hồ sơ nào được lưu.")
            % {"count": len(checked.errors)},
            checked.errors,
        )
    try:
        with transaction.atomic():
            now = timezone.now()
            receipts = [
                _store(api_key, record_set, entry, now)
                for record_set in checked.record_sets
                for entry in record_set["records"]
            ]
            response = {
                "format": RECEIPT_FORMAT,
                "receiver": ledger_origin(),
                "idempotency_key": idempotency_key,
                "receipts": receipts,
            }
            batch = ReceivedBatch.objects.create(
                api_key=api_key,
                idempotency_key=idempotency_key,
                request_hash=digest,
                response=response,
                received_at=now,
            )
            record_event(
                actor=None,
                action="exchange.record_sets.received",
                obj=batch,
                changes={
                    "api_key": api_key.prefix,
                    "institution": api_key.institution,
                    "record_sets": len(checked.record_sets),
                    "outcomes": _count_outcomes(receipts),
                },
            )
    except IntegrityError as error:
        raise BatchConflict(
            _("Một yêu cầu khác đang lưu cùng dữ liệu này; hãy gửi lại sau ít giây.")
        ) from error
    return response


def _answered(api_key: ApiKey, idempotency_key: str, digest: str) -> dict[str, Any] | None:
    batch = ReceivedBatch.objects.filter(api_key=api_key, idempotency_key=idempotency_key).first()
    if batch is None:
        return None
    if batch.request_hash != digest:
        raise BatchRefused(
            _(
                "Idempotency-Key “%(key)s” đã được dùng cho một lô dữ liệu khác; "
                "mỗi lô cần một khoá riêng."
            )
            % {"key": idempotency_key}
        )
    response: dict[str, Any] = batch.response
    return response


def _count_outcomes(receipts: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for receipt in receipts:
        counts[receipt["outcome"]] = counts.get(receipt["outcome"], 0) + 1
    return counts


# --- checking -----------------------------------------------------------------------------------


def _check(body: Any) -> _Checked:
    record_sets = body.get("record_sets") if isinstance(body, dict) else None
    if not isinstance(record_sets, list) or not record_sets:
        raise BatchRefused(_('Nội dung phải là {"record_sets": [...]} với ít nhất một bộ hồ sơ.'))
    if len(record_sets) > max_batch():
        raise BatchRefused(
            _("Mỗi lần gửi tối đa %(max)s bộ hồ sơ (nhận được %(count)s).")
            % {"max": max_batch(), "count": len(record_sets)}
        )
    checked = _Checked(record_sets=record_sets)
    trusted = trusted_logs()
    for index, record_set in enumerate(record_sets):
        errors = interchange.schema_errors(record_set)
        if errors:
            checked.errors.extend(_schema_error(index, record_set, error) for error in errors[:5])
            continue
        checked.errors.extend(_content_errors(index, record_set, trusted))
    return checked


def _where(index: int, record_set: Any, record_index: int | None) -> dict[str, Any]:
    """Which record set and which record an error is about, for the sender to read."""
    pupil = record_set.get("pupil") if isinstance(record_set, dict) else None
    records = record_set.get("records") if isinstance(record_set, dict) else None
    entry: Any = None
    if isinstance(records, list) and record_index is not None and record_index < len(records):
        entry = records[record_index]
    entry = entry if isinstance(entry, dict) else {}
    return {
        "index": index,
        "ministry_code": pupil.get("ministry_code") if isinstance(pupil, dict) else None,
        "record_id": entry.get("record_id"),
        "version": entry.get("version"),
    }


def _describe(where: dict[str, Any]) -> str:
    text = _("Bộ hồ sơ thứ %(n)s") % {"n": where["index"] + 1}
    if where["ministry_code"]:
        text += _(" (học sinh %(code)s)") % {"code": where["ministry_code"]}
    if where["record_id"]:
        text += _(", học bạ %(id)s phiên bản %(version)s") % {
            "id": where["record_id"],
            "version": where["version"],
        }
    return text


def _schema_error(index: int, record_set: Any, error: Any) -> dict[str, Any]:
    path = interchange.error_path(error)
    parts = list(error.absolute_path)
    record_index = parts[1] if len(parts) > 1 and parts[0] == "records" else None
    where = _where(index, record_set, record_index if isinstance(record_index, int) else None)
    message = _("%(where)s: trường “%(path)s” không hợp lệ (%(detail)s).") % {
        "where": _describe(where),
        "path": path,
        "detail": error.message[:200],
    }
    return {**where, "field": path, "message": message}


def trusted_logs() -> dict[str, Verifier]:
    """The senders' log verifier keys, by origin: the deployments registered with
    ``hocba transfer trust-peer`` (the same registry transfers use) and any listed in
    ``HOCBA_EXCHANGE_TRUSTED_LOGS``."""
    from hocba.records.models import TrustedPeer

    keys = [*getattr(settings, "HOCBA_EXCHANGE_TRUSTED_LOGS", [])]
    keys += TrustedPeer.objects.values_list("verifier_key", flat=True)
    verifiers = (Verifier.parse(key) for key in keys)
    return {verifier.name: verifier for verifier in verifiers}


def _origin_problem(origin: str, trusted: dict[str, Verifier]) -> str | None:
    if origin in trusted or not getattr(settings, "HOCBA_EXCHANGE_REQUIRE_TRUSTED_LOG", False):
        return None
    return _("nguồn “%(origin)s” chưa được đăng ký khoá sổ cái ở nơi nhận") % {"origin": origin}


def _content_errors(
    index: int, record_set: dict[str, Any], trusted: dict[str, Verifier]
) -> list[dict[str, Any]]:
    """Each version's document, log event and proof must say the same as the entry; with the
    sender's log key known, the proof must verify against it."""
    errors = []
    problem = _origin_problem(record_set["origin"], trusted)
    if problem is not None:
        where = _where(index, record_set, None)
        message = _("%(where)s: trường “/origin” %(problem)s.") % {
            "where": _describe(where),
            "problem": problem,
        }
        errors.append({**where, "field": "/origin", "message": message})
    verifier = trusted.get(record_set["origin"])
    for record_index, entry in enumerate(record_set["records"]):
        where = _where(index, record_set, record_index)
        for field_name, problem in _entry_problems(entry, verifier):
            field_path = f"/records/{record_index}/{field_name}"
            message = _("%(where)s: trường “%(path)s” %(problem)s.") % {
                "where": _describe(where),
                "path": field_path,
                "problem": problem,
            }
            errors.append({**where, "field": field_path, "message": message})
    return errors


def _entry_problems(entry: dict[str, Any], verifier: Verifier | None) -> Iterator[tuple[str, str]]:
    document = entry["document"]
    if hashlib.sha256(rfc8785.dumps(document)).hexdigest() != entry["content_hash"]:
        yield (
            "content_hash",
            _("không khớp mã băm SHA-256 của dữ liệu học bạ (dữ liệu đã bị thay đổi hoặc hỏng)"),
        )
    identity = document["record"]
    if (identity["id"], identity["version"]) != (entry["record_id"], entry["version"]):
        yield "document/record", _("ghi mã bản ghi hoặc phiên bản khác với hồ sơ")
    try:
        event = json.loads(entry["log"]["leaf_event"])
    except ValueError:
        event = None
    expected = {
        "type": "issued",
        "record_id": entry["record_id"],
        "version": entry["version"],
        "content_hash": entry["content_hash"],
        "pdf_sha256": entry["pdf_sha256"],
    }
    if not isinstance(event, dict) or any(event.get(k) != v for k, v in expected.items()):
        yield "log/leaf_event", _("không khớp mã bản ghi, phiên bản hoặc mã băm của hồ sơ")
    proof_text = entry["log"]["proof"]
    if proof_text is not None and not _proof_matches(proof_text, entry["log"]):
        yield "log/proof", _("không phải bằng chứng của sự kiện phát hành này trong sổ cái")
    elif verifier is not None and not _proof_verifies(proof_text, entry["log"], verifier):
        yield "log/proof", _("không được xác minh bằng khoá sổ cái đã đăng ký của nơi gửi")


def _proof_verifies(proof_text: str | None, log: dict[str, Any], verifier: Verifier) -> bool:
    if proof_text is None:
        return False
    leaf = merkle.leaf_hash(log["leaf_event"].encode())
    return ledger_services.verify_bundle(proof_text, verifier, leaf)


def _proof_matches(proof_text: str, log: dict[str, Any]) -> bool:
    try:
        proof = TlogProof.parse(proof_text)
    except NoteError:
        return False
    return proof.index == log["leaf_index"] and proof.extra == log["leaf_event"].encode()


# --- storing ------------------------------------------------------------------------------------


def _receipt(stored: ReceivedRecord, outcome: str) -> dict[str, Any]:
    return {
        "record_id": str(stored.record_id),
        "version": stored.version,
        "content_hash": stored.content_hash,
        "status": stored.status,
        "receipt_id": str(stored.receipt_id),
        "received_at": interchange.utc_text(stored.received_at),
        "outcome": outcome,
    }


def _store(
    api_key: ApiKey, record_set: dict[str, Any], entry: dict[str, Any], now: Any
) -> dict[str, Any]:
    narrowed = {**record_set, "records": [entry]}
    origin = record_set["origin"]
    stored = (
        ReceivedRecord.objects.select_for_update()
        .filter(origin=origin, record_id=entry["record_id"], version=entry["version"])
        .first()
    )
    if stored is None:
        stored = ReceivedRecord.objects.create(
            origin=origin,
            record_id=entry["record_id"],
            version=entry["version"],
            content_hash=entry["content_hash"],
            status=entry["status"],
            ministry_code=record_set["pupil"]["ministry_code"],
            school_code=entry["school"]["code"],
            school_year=entry["school_year"],
            record_set=narrowed,
            receipt_id=uuid.uuid4(),
            received_at=now,
            updated_at=now,
            api_key=api_key,
        )
        return _receipt(stored, "stored")
    if stored.content_hash != entry["content_hash"]:
        raise BatchRefused(
            _(
                "Học bạ %(id)s phiên bản %(version)s từ %(origin)s đã được nhận với nội dung "
                "khác (mã băm %(old)s); nội dung đã phát hành không được thay đổi."
            )
            % {
                "id": entry["record_id"],
                "version": entry["version"],
                "origin": origin,
                "old": stored.content_hash[:16],
            },
            [
                {
                    "record_id": entry["record_id"],
                    "version": entry["version"],
                    "field": "/content_hash",
                }
            ],
        )
    if STATUS_RANK[entry["status"]] <= STATUS_RANK.get(stored.status, 0):
        return _receipt(stored, "duplicate")
    stored.status, stored.record_set, stored.updated_at = entry["status"], narrowed, now
    stored.save(update_fields=["status", "record_set", "updated_at"])
    return _receipt(stored, "updated")


def canonical_body(record_sets: list[dict[str, Any]]) -> bytes:
    """The request body the sync sends (plain JSON; the receiver hashes it with RFC 8785)."""
    return json.dumps({"record_sets": record_sets}, ensure_ascii=False).encode()
