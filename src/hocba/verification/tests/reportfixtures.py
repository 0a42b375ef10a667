"""Fixtures and helpers for the file-verification tests: real LTA-issued PDFs, a trust bundle,
and PDFs signed with other certificates (import the fixtures explicitly)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper

from hocba.documents.render import render_year_record
from hocba.ledger.models import IssuedRecord
from hocba.records.models import YearRecord
from hocba.signing import longterm, registry
from hocba.signing.batch import current_pdf
from hocba.signing.tasks import issue_augmented
from hocba.signing.tests.conftest import PIN, Registered
from hocba.signing.tests.testpki import PIN as TEST_PIN
from hocba.signing.tests.testpki import PKI_DIR
from hocba.verification import bundle
from hocba.verification.report import TrustBundle
from hocba.verification.tasks import store_reports


@pytest.fixture
def lta_issued(sealed: list[YearRecord], tsa_url: str) -> list[YearRecord]:
    """The sealed class 4A with B-LTA data, issued the way the long-term task does it, and
    each file's validation report stored as the worker does right after."""
    ids = [r.pk for r in sealed]
    done, failed = longterm.augment_sealed(
        ids, trust=registry.trust_store(), timestamper=HTTPTimeStamper(tsa_url)
    )
    assert (done, failed) == (3, [])
    issued, failures = issue_augmented(ids)
    assert (issued, failures) == (3, [])
    store_reports.call(ids)  # what the worker does after issuing
    return [YearRecord.objects.get(pk=pk) for pk in ids]


def issued_pdf(record: YearRecord) -> bytes:
    record = YearRecord.objects.select_related("school").get(pk=record.pk)
    data = current_pdf(record)
    assert IssuedRecord.objects.get(record=record).pdf_sha256
    return data


def offline_bundle(folder: Path) -> TrustBundle:
    """Export this deployment's trust bundle to ``folder`` and read it back."""
    bundle.write_bundle(folder, bundle.bundle_files())
    return bundle.load_bundle(folder)


def sign_field(
    pdf: bytes,
    field: str,
    signer: signers.Signer,
    tsa_url: str | None,
    *,
    certify: bool = False,
) -> bytes:
    """One PAdES signature into ``field`` (with a signature timestamp when ``tsa_url``)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name=field,
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=certify,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,
        md_algorithm="sha256",
    )
    timestamper = HTTPTimeStamper(tsa_url) if tsa_url else None
    out = signers.sign_pdf(
        writer, meta, signer=signer, timestamper=timestamper, existing_fields_only=True
    )
    return bytes(out.getvalue())


def pki_signer(name: str) -> signers.SimpleSigner:
    """A signer from the checked-in TEST PKI (``untrusted``, ``expired`` ...)."""
    signer = signers.SimpleSigner.load_pkcs12_data(
        (PKI_DIR / f"{name}.p12").read_bytes(), other_certs=[], passphrase=TEST_PIN.encode()
    )
    assert signer is not None
    return signer


def world_signer(registered: Registered, who: str) -> signers.SimpleSigner:
    """A trusted signer of the test world: a person by role (``homeroom_teacher``, ``principal``),
    or ``seal`` for school A."""
    pki = registered.pki
    if who == "seal":
        credential = pki.seals[registered.world.own.school.code]
        path, pin = credential.p12_path, credential.pin
    else:
        username = registered.world.own.users[who].username
        path, pin = pki.people[username].p12_path, PIN
    signer = signers.SimpleSigner.load_pkcs12(
        str(path), passphrase=pin.encode(), other_certs=_chain(pki)
    )
    assert signer is not None
    return signer


def _chain(pki: Any) -> list[asn1_x509.Certificate]:
    from hocba.signing.certcheck import load_certificates

    return [*load_certificates(pki.issuing_cert.read_bytes())]


def fresh_pdf(record: YearRecord, change: dict[str, Any] | None = None) -> bytes:
    """The record's document rendered again (optionally with changed content), unsigned."""
    document = json.loads(record.canonical_json)
    for key, value in (change or {}).items():
        document[key] = value
    canonical = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return render_year_record(document, canonical.encode())
