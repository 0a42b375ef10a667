"""Long-term validation after the seal (issue 5 §4): PAdES B-LT and B-LTA, as its own step.

Once the school seal has signed, :func:`augment` appends one incremental update holding a
Document Security Store with the certificates and revocation data (CRLs) of all three
signatures and their timestamps, and a document timestamp over the whole file (its own TSA's
validation data follows in a last small update). The revocation data comes from the trust
store's CRLs, read once per run and never fetched per document: ``TrustStore`` holds what the
administrator (or a scheduled refresh) put in ``settings.TRUST_DIR``.

It runs after the seal batch, as a separate job (:func:`augment_sealed`), so signing stays fast
and a TSA outage here delays nothing: a record keeps its sealed PDF until this step succeeds,
and the step can run again any time (it skips records already done).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from collections.abc import Iterable

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore, collect_validation_info

from hocba.records.models import YearRecord, YearRecordStatus
from hocba.signing.certcheck import TrustStore
from hocba.signing.models import LongTermValidation

logger = logging.getLogger(__name__)

DOCUMENT_TIMESTAMP_BYTES = 16_384


async def _augment(pdf: bytes, trust: TrustStore, timestamper: TimeStamper) -> bytes:
    context = trust.validation_context()
    reader = PdfFileReader(io.BytesIO(pdf))
    paths = []
    for signature in reader.embedded_regular_signatures:
        paths.extend(await collect_validation_info(signature, context))
    writer = IncrementalPdfFileWriter.from_reader(reader)
    DocumentSecurityStore.supply_dss_in_writer(
        writer, None, validation_context=context, paths=paths, embed_roots=True
    )
    output = io.BytesIO()
    await signers.PdfTimeStamper(timestamper).async_timestamp_pdf(
        writer,
        "sha256",
        validation_context=context,
        bytes_reserved=DOCUMENT_TIMESTAMP_BYTES,
        output=output,
        embed_roots=True,
    )
    return output.getvalue()


def augment(pdf: bytes, trust: TrustStore, timestamper: TimeStamper) -> bytes:
    """The sealed PDF with validation data (B-LT) and a document timestamp (B-LTA) appended."""
    return asyncio.run(_augment(pdf, trust, timestamper))


def ltv_path(record: YearRecord) -> str:
    return f"records/{record.school.code}/{record.record_id}/v{record.version}-lta.pdf"


def augment_sealed(
    record_ids: Iterable[int], *, trust: TrustStore, timestamper: TimeStamper
) -> tuple[int, list[tuple[int, str]]]:
    """Augment each sealed record not augmented yet; returns (done, [(record id, error)])."""
    from hocba.signing.batch import current_pdf

    done, failed = 0, []
    for record_id in record_ids:
        record = (
            YearRecord.objects.select_related("school")
            .prefetch_related("signatures")
            .filter(pk=record_id, status=YearRecordStatus.SEALED, long_term_validation=None)
            .first()
        )
        if record is None:
            continue
        try:
            pdf = augment(current_pdf(record), trust, timestamper)
        except Exception as error:  # one record's failure must not stop the rest
            logger.warning("long-term validation of record %s failed: %s", record_id, error)
            failed.append((record_id, str(error) or type(error).__name__))
            continue
        with transaction.atomic():
            locked = YearRecord.objects.select_for_update().get(pk=record.pk)
            if LongTermValidation.objects.filter(record=locked).exists():
                continue
            path = ltv_path(record)
            if default_storage.exists(path):
                default_storage.delete(path)  # left by a run that died before its commit
            stored = default_storage.save(path, ContentFile(pdf))
            LongTermValidation.objects.create(
                record=locked,
                pdf_file=stored,
                pdf_sha256=hashlib.sha256(pdf).hexdigest(),
                pdf_size=len(pdf),
                added_at=timezone.now(),
            )
        done += 1
    return done, failed
