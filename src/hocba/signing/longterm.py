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
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.general import extract_certificate_info
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko_certvalidator import CertificateValidator, ValidationContext

from hocba.records.models import YearRecord, YearRecordStatus
from hocba.signing import (
    asn1names,  # noqa: F401  (faster X.509 name comparison)
    pades,
)
from hocba.signing.certcheck import TrustStore
from hocba.signing.models import LongTermValidation

logger = logging.getLogger(__name__)

DOCUMENT_TIMESTAMP_BYTES = 16_384
CHUNK_SIZE = 50  # records read, augmented and stored together; also the records of one job


async def _signer_paths(
    signature: EmbeddedPdfSignature, context: ValidationContext, cache: dict[bytes, Any]
) -> list[Any]:
    """The certification paths of the signature's signer and of its timestamps' TSAs.

    What pyHanko's ``collect_validation_info`` does, with each certificate's path validated once
    per ``cache`` (a batch): the DSS needs the certificates and the revocation data of the
    path, which are the same for every document the same person, seal or TSA signed.
    """
    paths = []
    signed_datas = [signature.signed_data]
    for signed in (False, True):
        signed_datas.extend(extract_tst_data_iter(signature.signer_info, signed=signed))
    for signed_data in signed_datas:
        info = extract_certificate_info(signed_data)
        key = info.signer_cert.sha256
        if key not in cache:
            validator = CertificateValidator(
                info.signer_cert,
                intermediate_certs=info.other_certs,
                validation_context=context,
            )
            cache[key] = await validator.async_validate_usage(key_usage=set())
        paths.append(cache[key])
    return paths


async def _augment(
    pdf: bytes, timestamper: TimeStamper, context: ValidationContext, cache: dict[bytes, Any]
) -> bytes:
    reader = PdfFileReader(io.BytesIO(pdf))
    paths = []
    for signature in reader.embedded_regular_signatures:
        paths.extend(await _signer_paths(signature, context, cache))
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
    (result,) = augment_many([pdf], trust, timestamper)
    if isinstance(result, Exception):
        raise result
    return result


def augment_many(
    pdfs: Sequence[bytes], trust: TrustStore, timestamper: TimeStamper
) -> list[bytes | Exception]:
    """:func:`augment` for many documents in one event loop: one HTTP session for the document
    timestamps and one validation context (the same signers' paths are validated once, not
    once per document: a class shares its teacher, a school its principal and seal).
    Each result is the augmented PDF or the exception that document raised."""

    async def run() -> list[bytes | Exception]:
        context = trust.validation_context()
        cache: dict[bytes, Any] = {}
        results: list[bytes | Exception] = []
        async with pades.http_session(timestamper) as bound:
            assert bound is not None
            for pdf in pdfs:
                try:
                    results.append(await _augment(pdf, bound, context, cache))
                except Exception as error:  # one document's failure must not stop the rest
                    results.append(error)
        return results

    return asyncio.run(run())


def ltv_path(record: YearRecord) -> str:
    return f"records/{record.school.code}/{record.record_id}/v{record.version}-lta.pdf"


def augment_sealed(
    record_ids: Iterable[int], *, trust: TrustStore, timestamper: TimeStamper
) -> tuple[int, list[tuple[int, str]]]:
    """Augment each sealed record not augmented yet; returns (done, [(record id, error)])."""
    from hocba.signing.batch import current_pdf

    done, failed = 0, []
    ids = list(record_ids)
    for start in range(0, len(ids), CHUNK_SIZE):
        records = list(
            YearRecord.objects.select_related("school")
            .prefetch_related("signatures")
            .filter(
                pk__in=ids[start : start + CHUNK_SIZE],
                status=YearRecordStatus.SEALED,
                long_term_validation=None,
            )
            .order_by("pk")
        )
        results = augment_many([current_pdf(r) for r in records], trust, timestamper)
        for record, result in zip(records, results, strict=True):
            if isinstance(result, Exception):
                logger.warning("long-term validation of record %s failed: %s", record.pk, result)
                failed.append((record.pk, str(result) or type(result).__name__))
            elif _store(record, result):
                done += 1
    return done, failed


def _store(record: YearRecord, pdf: bytes) -> bool:
    with transaction.atomic():
        locked = YearRecord.objects.select_for_update().get(pk=record.pk)
        if LongTermValidation.objects.filter(record=locked).exists():
            return False
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
    return True
