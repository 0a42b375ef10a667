"""Working a signing batch (issue 5 §5): prepare, sign many digests at once, finish, commit.

For each chunk of pending items: every record's current PDF is prepared for the step's signature
(:func:`pades.prepare_signature`), the adapter signs all their digests in one call (one PIN, one
remote confirmation), then each signature gets its RFC 3161 timestamp and is embedded, and each
record is committed on its own: the signed PDF stored, a :class:`RecordSignature` appended and the
record's status moved, in one transaction that first re-checks the record still waits for this
step. A record is therefore signed once or not at all, whatever crashes when; a retry picks up the
items still pending.

A failure of one record (it cannot be rendered, its timestamp failed) marks that item failed and
the batch goes on. A failure of the key or a service (wrong PIN, token removed, confirmation
pending/expired/rejected, TSA down) stops the batch as WAITING, resumable with a new
authorisation (:func:`hocba.signing.services.resume_batch`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django_tasks import default_task_backend
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from hocba.common.errors import DomainError
from hocba.documents.render import RenderError, render_stamp, render_year_record
from hocba.records.models import YearRecord
from hocba.signing import longterm, pades, registry, vault
from hocba.signing.adapters import ConfirmationPending, SignerAdapter, SignerError, WrongPin
from hocba.signing.models import (
    AdapterKind,
    BatchStatus,
    CertificatePurpose,
    ItemState,
    RecordSignature,
    SigningBatch,
    SigningItem,
    SigningStep,
)
from hocba.signing.services import STEP_RULES
from hocba.signing.tsa import configured_timestamper

logger = logging.getLogger(__name__)

CHUNK_SIZE = 50
STEP_ORDER = [SigningStep.TEACHER, SigningStep.PRINCIPAL, SigningStep.SEAL]
# The boxes the form reserves for each signature (hocba.typ), in points.
BOX_SIZES = {
    SigningStep.TEACHER: (164.0, 74.0),
    SigningStep.PRINCIPAL: (164.0, 74.0),
    SigningStep.SEAL: (96.0, 96.0),
}
REASONS = {
    SigningStep.TEACHER: "Giáo viên chủ nhiệm ký xác nhận học bạ",
    SigningStep.PRINCIPAL: "Hiệu trưởng ký xác nhận học bạ",
    SigningStep.SEAL: "Đóng dấu của nhà trường, phát hành học bạ",
}


class Superseded(Exception):
    """Another run of this batch took over (the reaper re-queued it): stop writing."""


class Stop(Exception):
    """Stop the batch here, resumable, with this message."""

    def __init__(self, message: str, *, status: str = BatchStatus.WAITING, wipe: bool = True):
        super().__init__(message)
        self.message = message
        self.status = status
        self.wipe = wipe


# --- documents ------------------------------------------------------------------------------


def pdf_path(record: YearRecord, step: str) -> str:
    return f"records/{record.school.code}/{record.record_id}/v{record.version}-{step}.pdf"


def current_pdf(record: YearRecord) -> bytes:
    """The record's PDF as it stands: with its long-term validation data, after its last
    signature, or freshly rendered; a stored file whose hash no longer matches is refused."""
    ltv = getattr(record, "long_term_validation", None)
    if ltv is not None:
        return _stored(record, ltv.pdf_file, ltv.pdf_sha256)
    signatures = {s.step: s for s in record.signatures.all()}
    for step in reversed(STEP_ORDER):
        if step in signatures:
            return _stored(record, signatures[step].pdf_file, signatures[step].pdf_sha256)
    canonical = record.canonical_json.encode()
    return render_year_record(json.loads(canonical), canonical)


def _stored(record: YearRecord, name: str, sha256: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        data: bytes = handle.read()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise DomainError(
            _("Tệp PDF đã ký của học bạ %(code)s không khớp mã băm đã lưu.")
            % {"code": record.short_code}
        )
    return data


def _appearance(batch: SigningBatch, signer_name: str, when: dt.datetime) -> pades.Appearance:
    local = timezone.localtime(when)
    stamp_time = date_format(local, "d/m/Y H:i")
    lines: tuple[str, ...]
    if batch.step == SigningStep.SEAL:
        lines = ("Đã đóng dấu số", batch.school.name, date_format(local, "d/m/Y"))
        kind = "seal"
    else:
        title_lines = tuple(batch.signer_title.split("\n"))
        lines = ("Đã ký số bởi", signer_name, *title_lines, f"Ngày ký: {stamp_time}")
        kind = "person"
    width, height = BOX_SIZES[SigningStep(batch.step)]
    return pades.Appearance(render_stamp(lines, width, height, kind))


# --- claiming and progress -------------------------------------------------------------------


def _claim(batch_id: int, *, takeover: bool = False) -> tuple[SigningBatch, int] | None:
    with transaction.atomic():
        batch = (
            SigningBatch.objects.select_for_update(of=("self",))
            .select_related("certificate", "school", "school_class")
            .filter(pk=batch_id)
            .first()
        )
        if batch is None or batch.status not in {BatchStatus.QUEUED, BatchStatus.RUNNING}:
            return None
        if batch.status == BatchStatus.RUNNING and batch.heartbeat_at is not None and not takeover:
            stale = timezone.now() - dt.timedelta(seconds=settings.HOCBA_JOB_STALE_SECONDS)
            if batch.heartbeat_at > stale:
                return None  # a live worker has it
        batch.attempt += 1
        batch.status = BatchStatus.RUNNING
        batch.started_at = batch.started_at or timezone.now()
        batch.heartbeat_at = timezone.now()
        batch.save(update_fields=["attempt", "status", "started_at", "heartbeat_at"])
        return batch, batch.attempt


def _beat(batch: SigningBatch, attempt: int) -> None:
    moved = SigningBatch.objects.filter(
        pk=batch.pk, attempt=attempt, status=BatchStatus.RUNNING
    ).update(heartbeat_at=timezone.now())
    if not moved:
        raise Superseded


def _enqueue_long_term(batch_id: int, record_ids: list[int]) -> None:
    from hocba.signing import tasks

    transaction.on_commit(lambda: tasks.add_long_term_validation.enqueue(batch_id, record_ids))


def _end(batch: SigningBatch, attempt: int, status: str, message: str, *, wipe: bool) -> None:
    fields: dict[str, Any] = {"status": status, "message": message, "heartbeat_at": timezone.now()}
    if wipe or status in {BatchStatus.DONE, BatchStatus.CANCELLED}:
        fields["authorisation"] = None
    if status in {BatchStatus.DONE, BatchStatus.CANCELLED}:
        fields["finished_at"] = timezone.now()
    ended = SigningBatch.objects.filter(pk=batch.pk, attempt=attempt).update(**fields)
    if ended and status == BatchStatus.DONE and batch.step == SigningStep.SEAL:
        # Sealed records get their long-term validation data as jobs of their own, in chunks
        # so that several workers share a school's records.
        signed = list(
            SigningItem.objects.filter(batch_id=batch.pk, state=ItemState.SIGNED)
            .order_by("record_id")
            .values_list("record_id", flat=True)
        )
        for start in range(0, len(signed), longterm.CHUNK_SIZE):
            _enqueue_long_term(batch.pk, signed[start : start + longterm.CHUNK_SIZE])


def _fail_item(batch: SigningBatch, item: SigningItem, message: str) -> None:
    with transaction.atomic():
        updated = SigningItem.objects.filter(
            pk=item.pk, state__in=[ItemState.PENDING, ItemState.PREPARED]
        ).update(state=ItemState.FAILED, error=message, prepared_pdf=None)
        if updated:
            SigningBatch.objects.filter(pk=batch.pk).update(failed_count=F("failed_count") + 1)


def commit_signature(
    batch: SigningBatch, item: SigningItem, pdf: bytes, *, signer_name: str, when: dt.datetime
) -> bool:
    """Store the signed PDF and move the record on, once; False if the record moved meanwhile."""
    rule = STEP_RULES[SigningStep(batch.step)]
    with transaction.atomic():
        record = (
            YearRecord.objects.select_for_update(of=("self",))
            .select_related("school")
            .get(pk=item.record_id)
        )
        if (
            record.status != rule.before
            or RecordSignature.objects.filter(record=record, step=batch.step).exists()
        ):
            SigningItem.objects.filter(pk=item.pk).update(
                state=ItemState.FAILED,
                error=_("Học bạ đã thay đổi trạng thái (%(status)s) trong lúc ký.")
                % {"status": record.get_status_display()},
            )
            SigningBatch.objects.filter(pk=batch.pk).update(failed_count=F("failed_count") + 1)
            return False
        path = pdf_path(record, batch.step)
        if default_storage.exists(path):
            default_storage.delete(path)  # left by a run that died before its commit
        stored = default_storage.save(path, ContentFile(pdf))
        RecordSignature.objects.create(
            record=record,
            step=batch.step,
            certificate=batch.certificate,
            batch=batch,
            signed_by=batch.requested_by,
            signer_name=signer_name,
            signer_title=batch.signer_title or batch.school.name,
            signed_at=when,
            pdf_file=stored,
            pdf_sha256=hashlib.sha256(pdf).hexdigest(),
            pdf_size=len(pdf),
        )
        record.status = rule.after
        record.save(update_fields=["status"])
        SigningItem.objects.filter(pk=item.pk).update(
            state=ItemState.SIGNED, signed_at=timezone.now(), prepared_pdf=None
        )
        SigningBatch.objects.filter(pk=batch.pk).update(done_count=F("done_count") + 1)
    return True


# --- the run ---------------------------------------------------------------------------------


def signature_request(batch: SigningBatch, signer_name: str, when: dt.datetime) -> Any:
    return pades.SignatureRequest(
        field=batch.step,
        signing_time=when,
        reason=REASONS[SigningStep(batch.step)],
        location=batch.school.name,
        signer_name=signer_name,
        appearance=_appearance(batch, signer_name, when),
        certify=batch.step == SigningStep.TEACHER,
    )


def prepare_items(
    batch: SigningBatch,
    items: Sequence[SigningItem],
    request: pades.SignatureRequest,
    certificate: Any,
    chain: Sequence[Any],
) -> list[tuple[SigningItem, pades.PreparedSignature]]:
    prepared = []
    for item in items:
        try:
            pdf = current_pdf(item.record)
            prepared.append((item, pades.prepare_signature(pdf, request, certificate, chain)))
        except (DomainError, RenderError, SigningError) as error:
            message = getattr(error, "message", None) or str(error)
            _fail_item(batch, item, message)
    return prepared


def _signer_name(batch: SigningBatch, certificate: Any) -> str:
    if batch.certificate.purpose == CertificatePurpose.SEAL:
        return batch.school.name
    staff = batch.certificate.staff
    return staff.full_name if staff is not None else str(certificate.subject.human_friendly)


# --- remote confirmation ---------------------------------------------------------------------

CONFIRMATION_POLL_SECONDS = 10


def _awaiting_confirmation(
    batch: SigningBatch,
) -> list[tuple[SigningItem, pades.PreparedSignature, dt.datetime]]:
    items = batch.items.filter(state=ItemState.PREPARED).select_related("record__school")
    kept = []
    for item in items:
        state = item.prepared_state or {}
        if item.prepared_pdf is None or "pades" not in state:
            continue
        prepared = pades.PreparedSignature.from_state(state["pades"], bytes(item.prepared_pdf))
        kept.append((item, prepared, dt.datetime.fromisoformat(state["when"])))
    return kept


def _wait_for_confirmation(
    batch: SigningBatch,
    prepared: Sequence[tuple[SigningItem, pades.PreparedSignature, dt.datetime]],
    secret: dict[str, Any],
    pending: ConfirmationPending,
) -> Stop:
    """Keep the prepared documents and the pending request; poll again shortly."""
    with transaction.atomic():
        for item, document, when in prepared:
            SigningItem.objects.filter(pk=item.pk).update(
                state=ItemState.PREPARED,
                prepared_pdf=document.prepared_pdf,
                prepared_state={"pades": document.state(), "when": when.isoformat()},
            )
        state = getattr(pending, "state", None)
        SigningBatch.objects.filter(pk=batch.pk).update(
            authorisation=vault.seal({**secret, "pending": state} if state else secret)
        )
    can_poll = default_task_backend.supports_defer and state is not None
    return Stop(
        pending.message, status=BatchStatus.QUEUED if can_poll else BatchStatus.WAITING, wipe=False
    )


def _poll_again(batch_id: int) -> None:
    from hocba.signing import tasks

    run_after = timezone.now() + dt.timedelta(seconds=CONFIRMATION_POLL_SECONDS)
    transaction.on_commit(lambda: tasks.sign_batch.using(run_after=run_after).enqueue(batch_id))


def run_batch(batch_id: int, *, takeover: bool = False) -> None:
    """Sign what is pending in the batch; ``takeover``: the run that had it is known dead."""
    claimed = _claim(batch_id, takeover=takeover)
    if claimed is None:
        return
    batch, attempt = claimed
    adapter: SignerAdapter | None = None
    try:
        secret = vault.unseal(batch.authorisation, max_age=settings.SIGNING_AUTHORISATION_SECONDS)
        if batch.certificate.adapter == AdapterKind.AGENT:
            raise Stop(_("Lượt ký này được thực hiện bằng phần mềm sign-agent trên máy người ký."))
        if secret is None:
            raise Stop(_("Uỷ quyền ký đã hết hạn. Hãy nhập lại mã PIN để ký tiếp."))
        try:
            registry.check_before_signing(batch.certificate)
        except DomainError as error:  # refused certificate, or retired since the batch began
            raise Stop(error.message, status=BatchStatus.CANCELLED) from None
        timestamper = configured_timestamper()
        adapter = registry.open_adapter(batch.certificate, secret)
        certificate, chain = adapter.certificate, list(adapter.chain)
        signer_name = _signer_name(batch, certificate)
        when = timezone.now()
        request = signature_request(batch, signer_name, when)
        while True:
            _beat(batch, attempt)
            # Documents prepared before a remote confirmation was asked for are finished as
            # they are: the confirmation covers exactly their digests.
            prepared, chunk_when = _awaiting_confirmation(batch), when
            if prepared:
                chunk_when = prepared[0][2]
            else:
                items = list(
                    batch.items.filter(state=ItemState.PENDING)
                    .select_related("record__school")
                    .prefetch_related("record__signatures")[:CHUNK_SIZE]
                )
                if not items:
                    break
                prepared = [
                    (item, p, when)
                    for item, p in prepare_items(batch, items, request, certificate, chain)
                ]
                if not prepared:
                    continue
            try:
                values = adapter.sign_digests([p.tbs_digest for _, p, _when in prepared])
            except ConfirmationPending as pending:
                raise _wait_for_confirmation(batch, prepared, secret, pending) from None
            results = asyncio.run(
                pades.finish_many(
                    [(p, v) for (_, p, _when), v in zip(prepared, values, strict=True)],
                    certificate,
                    chain,
                    timestamper,
                )
            )
            if all(isinstance(r, TimestampRequestError) for r in results):
                raise Stop(
                    _("Dịch vụ cấp dấu thời gian không trả lời. Hãy thử lại sau ít phút."),
                    wipe=False,
                )
            for (item, _prepared, _when), result in zip(prepared, results, strict=True):
                if isinstance(result, BaseException):
                    _fail_item(
                        batch,
                        item,
                        _("Không hoàn tất được chữ ký: %(error)s")
                        % {"error": str(result) or type(result).__name__},
                    )
                else:
                    commit_signature(batch, item, result, signer_name=signer_name, when=chunk_when)
        _end(batch, attempt, BatchStatus.DONE, "", wipe=True)
    except Superseded:
        logger.info("signing batch %s: attempt %s superseded", batch_id, attempt)
    except Stop as stop:
        _end(batch, attempt, stop.status, stop.message, wipe=stop.wipe)
        if stop.status == BatchStatus.QUEUED:
            _poll_again(batch.pk)
    except SignerError as error:
        # Wrong PIN, token removed, confirmation pending/expired/rejected: resumable.
        _end(batch, attempt, BatchStatus.WAITING, error.message, wipe=isinstance(error, WrongPin))
    finally:
        if adapter is not None:
            adapter.close()
