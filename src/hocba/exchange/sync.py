"""Upward sync: push issued record versions to a :class:`~hocba.exchange.models.SyncTarget`.

What is sent: every issued version (issued, superseded or revoked) whose current status the
target has not acknowledged yet: never sent, failed before, or acknowledged with an older status
(a version synced as ``issued`` and then superseded or revoked is sent again with its new status;
the correcting version is a new version, sent as new). Versions are grouped into one
``hocba.record-set/1`` per pupil, ``batch_size`` record sets per POST.

Each POST carries an ``Idempotency-Key`` derived from the versions' keys and statuses, so a retry
of the same batch (after a timeout or a 5xx) is recognised by the receiver. Retries back off
exponentially (``HOCBA_EXCHANGE_BACKOFF_SECONDS`` × 2ⁿ, ``HOCBA_EXCHANGE_MAX_ATTEMPTS`` tries);
409 and 429 are retried too. Any other 4xx fails the batch's versions with the receiver's reason;
a version the receiver names as faulty is failed alone and the rest of its batch is sent again
without it. Failed versions are tried again by the next run. Versions acknowledged are not sent
again: re-running a finished sync sends nothing.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from hocba.common.errors import DomainError
from hocba.exchange.models import RecordSync, SyncStatus, SyncTarget
from hocba.exchange.receiving import canonical_body
from hocba.records import interchange
from hocba.records.models import ISSUED_STATUSES, YearRecord

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def check_endpoint(url: str) -> None:
    """HTTPS only, except plain HTTP to this machine (tests and the demo)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return
    raise DomainError(
        _(
            "Địa chỉ nhận “%(url)s” phải dùng HTTPS (chỉ cho phép http:// tới 127.0.0.1 "
            "hoặc localhost khi thử nghiệm)."
        )
        % {"url": url},
        field="endpoint_url",
    )


def idempotency_key(target: SyncTarget, record: YearRecord) -> str:
    """The same for every run: target, record id, version and content hash."""
    text = f"{target.name}\n{record.record_id}\n{record.version}\n{record.content_hash}"
    return hashlib.sha256(text.encode()).hexdigest()


def batch_key(rows: list[RecordSync], statuses: dict[int, str]) -> str:
    """The batch's ``Idempotency-Key``: its versions' keys with the statuses being sent."""
    parts = sorted(f"{row.idempotency_key}:{statuses[row.record_id]}" for row in rows)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@dataclass
class SyncReport:
    target: str
    requests: int = 0
    record_sets: int = 0
    synced: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def pending_records(target: SyncTarget) -> Any:
    """Issued versions whose current status ``target`` has not acknowledged."""
    acknowledged = RecordSync.objects.filter(
        target=target,
        record=OuterRef("pk"),
        status=SyncStatus.SYNCED,
        sent_status=OuterRef("status"),
    )
    return YearRecord.objects.filter(status__in=ISSUED_STATUSES, issuance__isnull=False).exclude(
        Exists(acknowledged)
    )


def mark_changed_pending(target: SyncTarget) -> int:
    """Synced versions whose status moved on since (superseded, revoked) are pending again."""
    changed = RecordSync.objects.filter(target=target, status=SyncStatus.SYNCED).exclude(
        sent_status=F("record__status")
    )
    return RecordSync.objects.filter(pk__in=changed.values("pk")).update(status=SyncStatus.PENDING)


def _pupil_batches(target: SyncTarget, batch_size: int) -> Iterator[list[int]]:
    """Record pks, grouped so a pupil's versions are in one batch of ≤ batch_size pupils."""
    rows = list(pending_records(target).order_by("pupil_id", "pk").values_list("pupil_id", "pk"))
    by_pupil = [
        [pk for _pupil, pk in group] for _p, group in itertools.groupby(rows, lambda r: r[0])
    ]
    for start in range(0, len(by_pupil), batch_size):
        yield [pk for pupil in by_pupil[start : start + batch_size] for pk in pupil]


def _sync_rows(target: SyncTarget, records: list[YearRecord]) -> dict[int, RecordSync]:
    RecordSync.objects.bulk_create(
        [
            RecordSync(
                record=record, target=target, idempotency_key=idempotency_key(target, record)
            )
            for record in records
        ],
        ignore_conflicts=True,
    )
    rows = RecordSync.objects.filter(target=target, record__in=records)
    return {row.record_id: row for row in rows}


class Sender:
    """POSTs batches to one target with retries; ``sleep`` and ``session`` are swappable."""

    def __init__(
        self,
        target: SyncTarget,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        check_endpoint(target.endpoint_url)
        self.target = target
        self.session = session or requests.Session()
        self.sleep = sleep
        self.timeout = _setting("HOCBA_EXCHANGE_TIMEOUT", 30)
        self.max_attempts = max(1, int(_setting("HOCBA_EXCHANGE_MAX_ATTEMPTS", 5)))
        self.backoff = _setting("HOCBA_EXCHANGE_BACKOFF_SECONDS", 1.0)
        self.requests = 0

    def post(self, body: bytes, key: str, on_attempt: Callable[[], None]) -> requests.Response:
        """The final answer (2xx or 4xx); raises :class:`SendFailed` when retries run out."""
        headers = {
            "Authorization": f"Bearer {self.target.api_key}",
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": key,
        }
        reason, asked_wait = "", 0.0
        for attempt in range(self.max_attempts):
            if attempt:
                self.sleep(max(self.backoff * 2 ** (attempt - 1), asked_wait))
            on_attempt()
            self.requests += 1
            try:
                response = self.session.post(
                    self.target.endpoint_url, data=body, headers=headers, timeout=self.timeout
                )
            except requests.RequestException as error:
                reason = _("không kết nối được (%(error)s)") % {"error": type(error).__name__}
                continue
            if response.status_code >= 500 or response.status_code in RETRYABLE_STATUSES:
                reason = _("máy chủ nhận trả lời %(status)s") % {"status": response.status_code}
                asked_wait = _retry_after(response)
                continue
            return response
        raise SendFailed(
            _("Gửi thất bại sau %(n)s lần thử: %(reason)s.")
            % {"n": self.max_attempts, "reason": reason}
        )


def _retry_after(response: requests.Response) -> float:
    """A receiver's ``Retry-After`` in seconds (capped at 5 minutes), or 0."""
    try:
        return min(float(response.headers.get("Retry-After", "0")), 300.0)
    except ValueError:
        return 0.0


class SendFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def sync_target(
    target: SyncTarget,
    *,
    batch_size: int | None = None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncReport:
    """Send everything pending to ``target``; safe to re-run (and to run after a crash)."""
    report = SyncReport(target=target.name)
    if not target.enabled:
        return report
    sender = Sender(target, session=session, sleep=sleep)
    mark_changed_pending(target)
    try:
        for pks in _pupil_batches(target, batch_size or target.batch_size or 50):
            _send_batch(sender, pks, report)
    finally:
        report.requests = sender.requests
        if session is None:
            sender.session.close()
    return report


Outgoing = tuple[dict[str, Any], list[RecordSync]]  # a record set and its versions' sync rows
_IDENTITY = ("pk", "record_id", "version", "content_hash", "status")


def _send_batch(sender: Sender, pks: list[int], report: SyncReport) -> None:
    records = list(YearRecord.objects.filter(pk__in=pks).only(*_IDENTITY))
    rows = _sync_rows(sender.target, records)
    statuses = {record.pk: record.status for record in records}
    by_version = {(str(record.record_id), record.version): record.pk for record in records}
    outgoing: list[Outgoing] = [
        (record_set, [rows[by_version[_version(entry)]] for entry in record_set["records"]])
        for record_set in interchange.record_sets(YearRecord.objects.filter(pk__in=pks))
    ]
    while outgoing:
        sent = [row for _record_set, set_rows in outgoing for row in set_rows]
        body = canonical_body([record_set for record_set, _rows in outgoing])
        try:
            response = sender.post(
                body, batch_key(sent, statuses), on_attempt=functools.partial(_note_attempt, sent)
            )
        except SendFailed as failure:
            _fail(sent, failure.message, report)
            report.errors.append(failure.message)
            return
        if response.status_code < 300:
            _acknowledge(sent, statuses, by_version, _receipts(response), report)
            report.record_sets += len(outgoing)
            return
        outgoing = _after_refusal(outgoing, response, report)


def _version(entry: dict[str, Any]) -> tuple[str, int]:
    return (str(entry["record_id"]), int(entry["version"]))


def _receipts(response: requests.Response) -> dict[tuple[str, int], dict[str, Any]]:
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    receipts = payload.get("receipts") if isinstance(payload, dict) else None
    if not isinstance(receipts, list):
        return {}
    return {
        (str(r.get("record_id")), int(r.get("version") or 0)): r
        for r in receipts
        if isinstance(r, dict)
    }


def _note_attempt(rows: list[RecordSync]) -> None:
    now = timezone.now()
    for row in rows:
        row.attempts += 1
        row.last_attempt_at = now
    RecordSync.objects.bulk_update(rows, ["attempts", "last_attempt_at"])


def _acknowledge(
    rows: list[RecordSync],
    statuses: dict[int, str],
    by_version: dict[tuple[str, int], int],
    receipts: dict[tuple[str, int], dict[str, Any]],
    report: SyncReport,
) -> None:
    now = timezone.now()
    versions = {pk: version for version, pk in by_version.items()}
    with transaction.atomic():
        for row in rows:
            receipt = receipts.get(versions[row.record_id])
            if receipt is None:
                row.status = SyncStatus.FAILED
                row.last_error = _("Nơi nhận không trả biên nhận cho phiên bản này.")
                report.failed += 1
                continue
            row.status, row.sent_status = SyncStatus.SYNCED, statuses[row.record_id]
            row.synced_at, row.receipt, row.last_error = now, receipt, ""
            report.synced += 1
        RecordSync.objects.bulk_update(
            rows, ["status", "sent_status", "synced_at", "receipt", "last_error"]
        )


def _fail(rows: list[RecordSync], message: str, report: SyncReport) -> None:
    for row in rows:
        row.status, row.last_error = SyncStatus.FAILED, message
    RecordSync.objects.bulk_update(rows, ["status", "last_error"])
    report.failed += len(rows)


def _after_refusal(
    outgoing: list[Outgoing], response: requests.Response, report: SyncReport
) -> list[Outgoing]:
    """Fail the record sets the receiver names and return the others to send again; when it
    names none (or all), the whole batch fails with its reason."""
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    payload = payload if isinstance(payload, dict) else {}
    errors = [e for e in payload.get("errors") or [] if isinstance(e, dict)]
    prefix = _("Nơi nhận từ chối (HTTP %(status)s)") % {"status": response.status_code}
    named = {
        index
        for error in errors
        if isinstance(index := error.get("index"), int) and 0 <= index < len(outgoing)
    }
    if not named or len(named) == len(outgoing):
        message = f"{prefix}: {_messages(errors) or payload.get('detail') or response.reason}"
        _fail([row for _record_set, rows in outgoing for row in rows], message, report)
        report.errors.append(message)
        return []
    for index in sorted(named):
        message = f"{prefix}: {_messages([e for e in errors if e.get('index') == index])}"
        _fail(outgoing[index][1], message, report)
        report.errors.append(message)
    return [item for index, item in enumerate(outgoing) if index not in named]


def _messages(errors: list[dict[str, Any]]) -> str:
    return "; ".join(str(error.get("message", "")) for error in errors)[:2000]


def sync_all(*, target_name: str | None = None, **options: Any) -> list[SyncReport]:
    targets = SyncTarget.objects.filter(enabled=True)
    if target_name:
        targets = SyncTarget.objects.filter(name=target_name)
        if not targets.exists():
            raise DomainError(_("Không có nơi nhận đồng bộ “%(name)s”.") % {"name": target_name})
    return [sync_target(target, **options) for target in targets.order_by("name")]
