"""PAdES signatures on year-record PDFs in three steps: prepare, sign digests, finish.

This is pyHanko's interrupted signing (ARCHITECTURE §6 and §10), cut so that the step in the
middle is only "SHA-256 digests in, raw signature values out", which every signer adapter can do
for a whole batch at once (one PIN, one remote confirmation):

1. :func:`prepare_signature` appends an incremental update to the PDF that fills the named
   signature field (with its visible appearance) and reserves room for the CMS container, digests
   the byte range and builds the CMS signed attributes. The result, :class:`PreparedSignature`,
   is the prepared PDF plus about 500 bytes of state; it can be kept in memory or stored.
2. The adapter signs :attr:`PreparedSignature.tbs_digest` (the SHA-256 of the signed attributes).
3. :func:`finish_signature` assembles the CMS SignedData with that signature value, adds the
   RFC 3161 signature timestamp as an unsigned attribute (every signature gets its own: ETSI
   validation rates an untimestamped signature indeterminate) and writes it into the reserved
   room. Nothing else in the file changes, so a prepared document that is never finished is
   simply thrown away: there is no half-signed state.

The first signature of a record (the homeroom teacher's) certifies the document with DocMDP P=2
(form filling and signing allowed), so the principal's and the seal's signatures that follow are
allowed modifications; nothing ever locks the document (no P=1), so validation data and document
timestamps can be added after the seal (:func:`add_long_term_validation`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import datetime as dt
import functools
import hashlib
import io
import ssl
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import certifi
from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import content, generic, layout, misc
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore

from hocba.signing.adapters import DIGEST_ALGORITHM, SignerError, signature_mechanism

# Room for the CMS container, as hex in the file (two characters a byte), at least. The demo's
# containers take 6.5 KB of DER with RSA-2048, 5.8 KB with ECDSA P-256 (the signer's three
# certificates 2.2 KB, the timestamp token with the TSA's chain 3.1 KB); :func:`_bytes_reserved`
# reserves more for a longer chain, so a production CA's certificates still fit.
BYTES_RESERVED = 16_384
# DER bytes allowed for the RFC 3161 token (TSTInfo, the TSA's signature and certificates) and
# for the rest of the SignedData (signed attributes, algorithm identifiers, structure).
TIMESTAMP_ALLOWANCE = 4_096
CMS_STRUCTURE_ALLOWANCE = 1_024


@dataclass(frozen=True)
class Appearance:
    """A signature's visible appearance: a one-page PDF drawn to the field's size."""

    pdf: bytes


@dataclass(frozen=True)
class SignatureRequest:
    field: str
    signing_time: dt.datetime
    reason: str
    location: str
    signer_name: str
    appearance: Appearance | None = None
    certify: bool = False


@dataclass(frozen=True)
class PreparedSignature:
    """A PDF ready for one signature value: the bytes plus the state needed to finish it."""

    field: str
    prepared_pdf: bytes
    document_digest: bytes
    reserved_region_start: int
    reserved_region_end: int
    signed_attrs: bytes

    @property
    def tbs_digest(self) -> bytes:
        """What the key signs: SHA-256 of the DER signed attributes."""
        return hashlib.sha256(self.signed_attrs).digest()

    def state(self) -> dict[str, Any]:
        """Everything but the PDF, JSON-able (for signing that resumes in another process)."""
        return {
            "field": self.field,
            "document_digest": base64.b64encode(self.document_digest).decode(),
            "reserved_region_start": self.reserved_region_start,
            "reserved_region_end": self.reserved_region_end,
            "signed_attrs": base64.b64encode(self.signed_attrs).decode(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], prepared_pdf: bytes) -> PreparedSignature:
        return cls(
            field=str(state["field"]),
            prepared_pdf=prepared_pdf,
            document_digest=base64.b64decode(state["document_digest"]),
            reserved_region_start=int(state["reserved_region_start"]),
            reserved_region_end=int(state["reserved_region_end"]),
            signed_attrs=base64.b64decode(state["signed_attrs"]),
        )


@functools.lru_cache(maxsize=16)
def _appearance_reader(pdf: bytes) -> PdfFileReader:
    """The appearance PDF parsed once: a batch draws the same stamp into every document.

    Importing the page deep-copies its objects into each document's writer, so the reader is
    only ever read from.
    """
    return PdfFileReader(io.BytesIO(pdf))


class _PdfBytesPage(content.PdfContent):
    """pyHanko's ImportedPdfPage, reading the page from bytes instead of a file name."""

    def __init__(self, pdf: bytes) -> None:
        self._pdf = pdf
        super().__init__()

    def render(self) -> bytes:
        writer = self._ensure_writer
        xobject = writer.import_page_as_xobject(_appearance_reader(self._pdf), page_ix=0)
        name = "/ImportHocbaStamp"
        self.resources.xobject[name] = xobject
        x1, y1, x2, y2 = xobject.get_object()["/BBox"]
        self.box = layout.BoxConstraints(width=abs(x1 - x2), height=abs(y1 - y2))
        return name.encode() + b" Do"


def _stamp_style(appearance: Appearance | None) -> StaticStampStyle | None:
    if appearance is None:
        return None
    return StaticStampStyle(
        background=_PdfBytesPage(appearance.pdf),
        background_opacity=1.0,
        border_width=0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(),
            inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
        ),
    )


def _external_signer(
    certificate: asn1_x509.Certificate,
    chain: Sequence[asn1_x509.Certificate],
    signature_value: bytes | int,
) -> signers.ExternalSigner:
    return signers.ExternalSigner(
        signing_cert=certificate,
        cert_registry=SimpleCertificateStore.from_certs([certificate, *chain]),
        signature_value=signature_value,
        signature_mechanism=signature_mechanism(certificate),
        embed_roots=False,
    )


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def prepare_signature(
    pdf: bytes,
    request: SignatureRequest,
    certificate: asn1_x509.Certificate,
    chain: Sequence[asn1_x509.Certificate],
) -> PreparedSignature:
    """Fill ``request.field`` of ``pdf`` and compute what must be signed (step 1)."""
    return _run(_prepare(pdf, request, certificate, chain))


async def _prepare(
    pdf: bytes,
    request: SignatureRequest,
    certificate: asn1_x509.Certificate,
    chain: Sequence[asn1_x509.Certificate],
) -> PreparedSignature:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name=request.field,
        md_algorithm=DIGEST_ALGORITHM,
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=request.certify,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,
        reason=request.reason,
        location=request.location,
        name=request.signer_name,
    )
    # The placeholder value only sizes nothing (bytes are reserved explicitly).
    signer = _external_signer(certificate, chain, 256)
    pdf_signer = signers.PdfSigner(
        meta, signer=signer, stamp_style=_stamp_style(request.appearance)
    )
    try:
        digest, _tbs, output = await pdf_signer.async_digest_doc_for_signing(
            writer, existing_fields_only=True, bytes_reserved=_bytes_reserved(certificate, chain)
        )
    except SigningError as error:
        raise SignerError(_signing_error_message(request.field, error)) from error
    signed_attrs = await _signed_attributes(signer, digest.document_digest, request, certificate)
    return PreparedSignature(
        field=request.field,
        prepared_pdf=_bytes_of(output),
        document_digest=digest.document_digest,
        reserved_region_start=digest.reserved_region_start,
        reserved_region_end=digest.reserved_region_end,
        signed_attrs=signed_attrs,
    )


# (certificate SHA-256, signing time) -> (DER signed attributes, the document digest in them)
_attribute_templates: dict[tuple[bytes, dt.datetime], tuple[bytes, bytes]] = {}
_DIGEST_PREFIX = b"\x04\x20"  # DER OCTET STRING of 32 bytes: the messageDigest value


async def _signed_attributes(
    signer: signers.ExternalSigner,
    document_digest: bytes,
    request: SignatureRequest,
    certificate: asn1_x509.Certificate,
) -> bytes:
    """The DER signed attributes (content type, message digest, signing certificate v2).

    For one signer and signing time they differ only in the 32-byte message digest, whose DER
    has a fixed length, so the attribute order (DER sorts a SET OF by encoding) never changes.
    pyHanko builds them in about 15 ms of asn1crypto work; the rest of a batch reuses the first
    document's bytes with its own digest put in place of the first one's.
    """
    key = (certificate.sha256, request.signing_time)
    template = _attribute_templates.get(key)
    if template is not None:
        der, digest = template
        needle = _DIGEST_PREFIX + digest
        if len(document_digest) == len(digest) and der.count(needle) == 1:
            return der.replace(needle, _DIGEST_PREFIX + document_digest)
    attributes = await signer.signed_attrs(
        document_digest,
        DIGEST_ALGORITHM,
        attr_settings=PdfCMSSignedAttributes(signing_time=request.signing_time),
        use_pades=True,
    )
    der = attributes.dump()
    if len(_attribute_templates) >= 64:
        _attribute_templates.clear()
    _attribute_templates[key] = (der, document_digest)
    return der


def _bytes_reserved(
    certificate: asn1_x509.Certificate, chain: Sequence[asn1_x509.Certificate]
) -> int:
    """Hex characters to reserve: :data:`BYTES_RESERVED`, or more for a long certificate chain.

    Fixed for a given signer, so pyHanko never estimates the size with a dry-run signature (and
    a dry-run timestamp request).
    """
    certificates = sum(len(c.dump()) for c in (certificate, *chain))
    signature = 2 * ((certificate.public_key.bit_size + 7) // 8) + 16
    needed = certificates + signature + TIMESTAMP_ALLOWANCE + CMS_STRUCTURE_ALLOWANCE
    return max(BYTES_RESERVED, 2 * -(-needed // 1024) * 1024)


def _bytes_of(output: Any) -> bytes:
    output.seek(0)
    data: bytes = output.read()
    return data


def _signing_error_message(field: str, error: SigningError) -> str:
    from django.utils.translation import gettext as _

    text = str(error)
    if "already" in text.lower() or "filled" in text.lower():
        return _("Ô chữ ký “%(field)s” của tệp đã được ký.") % {"field": field}
    return _("Không chuẩn bị được chữ ký vào ô “%(field)s”: %(error)s") % {
        "field": field,
        "error": text,
    }


def finish_signature(
    prepared: PreparedSignature,
    signature_value: bytes,
    certificate: asn1_x509.Certificate,
    chain: Sequence[asn1_x509.Certificate],
    timestamper: TimeStamper | None,
) -> bytes:
    """Embed the signature value (with its RFC 3161 timestamp) into the prepared PDF (step 3)."""

    async def finish() -> bytes:
        async with http_session(timestamper) as bound:
            return await _finish(prepared, signature_value, certificate, chain, bound)

    result: bytes = _run(finish())
    return result


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """What pyHanko builds for every timestamp request (certifi's CAs), built once (~20 ms)."""
    return ssl.create_default_context(cafile=certifi.where())


@asynccontextmanager
async def http_session(
    timestamper: TimeStamper | None, connections: int = 8
) -> AsyncIterator[TimeStamper | None]:
    """``timestamper`` sending its requests through one HTTP session for the duration.

    A stock ``HTTPTimeStamper`` opens a session per request, building a TLS context each time
    (about 20 ms of CPU, more than the whole rest of finishing a signature) and a new
    connection. A session belongs to the event loop that made it, so it lives as long as one
    ``finish_many`` call. Timestampers that bring their own session are left alone.
    """
    if (
        not isinstance(timestamper, HTTPTimeStamper)
        or getattr(timestamper, "_session", 0) is not None
    ):
        yield timestamper
        return
    connector = aiohttp.TCPConnector(ssl=_tls_context(), limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        bound = copy.copy(timestamper)
        bound._session = session
        yield bound


async def _finish(
    prepared: PreparedSignature,
    signature_value: bytes,
    certificate: asn1_x509.Certificate,
    chain: Sequence[asn1_x509.Certificate],
    timestamper: TimeStamper | None,
) -> bytes:
    signer = _external_signer(certificate, chain, signature_value)
    signed_attrs = cms.CMSAttributes.load(prepared.signed_attrs)
    signature_cms = await signer.async_sign_prescribed_attributes(
        DIGEST_ALGORITHM, signed_attrs=signed_attrs, timestamper=timestamper
    )
    digest = PreparedByteRangeDigest(
        document_digest=prepared.document_digest,
        reserved_region_start=prepared.reserved_region_start,
        reserved_region_end=prepared.reserved_region_end,
    )
    output = io.BytesIO(prepared.prepared_pdf)
    digest.fill_with_cms(output, signature_cms)
    return output.getvalue()


async def finish_many(
    items: Sequence[tuple[PreparedSignature, bytes]],
    certificate: asn1_x509.Certificate,
    chain: Sequence[asn1_x509.Certificate],
    timestamper: TimeStamper | None,
    *,
    concurrency: int = 8,
) -> list[bytes | BaseException]:
    """:func:`finish_signature` for many documents, timestamp requests overlapping."""
    semaphore = asyncio.Semaphore(concurrency)
    async with http_session(timestamper, concurrency) as bound:

        async def one(prepared: PreparedSignature, value: bytes) -> bytes:
            async with semaphore:
                return await _finish(prepared, value, certificate, chain, bound)

        return await asyncio.gather(
            *(one(prepared, value) for prepared, value in items), return_exceptions=True
        )


# --- a faster hex string reader for pyHanko ------------------------------------------------------

# pyHanko's own reader (also when this module is imported again after patching it).
_pyhanko_read_hex_string = getattr(
    generic.read_hex_string_from_stream, "pyhanko_original", generic.read_hex_string_from_stream
)
_HEX_DIGITS = generic.HEX_DIGITS


def _read_hex_string_from_stream(stream: Any) -> Any:
    """pyHanko's ``read_hex_string_from_stream``, reading blocks instead of byte by byte.

    Every signature dictionary carries its CMS container as a hex string of ``BYTES_RESERVED``
    characters, which pyHanko reads one token at a time, and signing a document reads the
    earlier signatures' dictionaries (the certification signature's DocMDP).
    The result is the same; anything unusual (a comment, a bad digit, no end) goes to pyHanko's
    own reader, which raises its usual errors.
    """
    start = stream.tell()
    stream.read(1)  # "<"
    blocks = []
    size = 256  # most hex strings are short (file IDs); a signature's runs to BYTES_RESERVED
    while True:
        block = stream.read(size)
        size = 16_384
        end = block.find(b">")
        if end >= 0:
            blocks.append(block[:end])
            stream.seek(end + 1 - len(block), io.SEEK_CUR)
            break
        if not block:
            stream.seek(start)
            return _pyhanko_read_hex_string(stream)
        blocks.append(block)
    digits = b"".join(blocks).translate(None, misc.PDF_WHITESPACE)
    if digits.translate(None, _HEX_DIGITS):
        stream.seek(start)
        return _pyhanko_read_hex_string(stream)
    if len(digits) % 2:
        digits += b"0"
    return generic.pdf_string(binascii.unhexlify(digits))


_read_hex_string_from_stream.pyhanko_original = _pyhanko_read_hex_string  # type: ignore[attr-defined]
generic.read_hex_string_from_stream = _read_hex_string_from_stream
