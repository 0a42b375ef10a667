"""The demo PKI: names, keys, usages, chain, PINs, idempotence, CRL, and a real signature."""

from __future__ import annotations

import datetime as dt
import io
import json
import stat
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.management import call_command
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from hocba.signing.pki import DemoPki, init_demo_pki, load_certificate, load_signer

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
TEACHER_NAME = "Nguyễn Thị Hoà"
SCHOOL = ("01001", "Trường Tiểu học Kim Đồng")
PEOPLE = [
    ("a_gvcn", unicodedata.normalize("NFD", TEACHER_NAME), "111111"),
    ("a_ht", "Trần Văn Đức", "222222"),
]
EXAMPLE = Path(__file__).resolve().parents[2] / "records" / "schemas" / "example-year-record.json"


def _tree(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(path.relative_to(folder)): (path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    folder = tmp_path_factory.mktemp("pki") / "demo"
    return init_demo_pki(folder, schools=[SCHOOL], people=PEOPLE, now=NOW)


def _all_certs(pki: DemoPki) -> dict[str, x509.Certificate]:
    paths = {"root": pki.root_cert, "issuing": pki.issuing_cert, "tsa": pki.tsa_cert}
    paths |= {name: person.cert_path for name, person in pki.people.items()}
    paths |= {code: seal.cert_path for code, seal in pki.seals.items()}
    return {name: load_certificate(path) for name, path in paths.items()}


def test_files_exist_with_private_modes_for_keys(pki: DemoPki) -> None:
    secrets_ = [pki.root_key, pki.issuing_key, pki.tsa_key]
    secrets_ += [person.p12_path for person in pki.people.values()]
    secrets_ += [seal.p12_path for seal in pki.seals.values()]
    for path in secrets_:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(pki.root_cert.stat().st_mode) == 0o644
    assert "NOT FOR PRODUCTION" in pki.readme.read_text()
    assert pki.crl_der.read_bytes()[:1] == b"\x30"


def test_every_name_says_demo_and_not_for_production(pki: DemoPki) -> None:
    for name, cert in _all_certs(pki).items():
        assert "DEMO" in cert.subject.rfc4514_string(), name
        assert "NOT FOR PRODUCTION" in cert.subject.rfc4514_string(), name
    for authority in (pki.root_cert, pki.issuing_cert):
        common_name = (
            load_certificate(authority).subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        )
        assert "DEMO" in str(common_name) and "NOT FOR PRODUCTION" in str(common_name)


def test_authorities_are_cas_with_the_right_lengths(pki: DemoPki) -> None:
    root, issuing = load_certificate(pki.root_cert), load_certificate(pki.issuing_cert)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    limits = issuing.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert limits.ca and limits.path_length == 0
    for cert in (root, issuing):
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
        assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
        assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert root.not_valid_after_utc - NOW == dt.timedelta(days=3650)
    assert issuing.not_valid_after_utc - NOW == dt.timedelta(days=1825)


def test_personal_certificate_content(pki: DemoPki) -> None:
    cert = load_certificate(pki.people["a_gvcn"].cert_path)
    common_name = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common_name == TEACHER_NAME  # NFC even though the input was decomposed
    assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "a_gvcn"
    public_key = cert.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == 2048
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name[0].value == "http://127.0.0.1:8000/pki/demo.crl"
    cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert cert.not_valid_after_utc - NOW == dt.timedelta(days=730)


def test_seal_and_tsa_certificates(pki: DemoPki) -> None:
    seal = pki.seals["01001"]
    cert = load_certificate(seal.cert_path)
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == SCHOOL[1]
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == SCHOOL[1]
    assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "01001"
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    assert len(seal.pin) == 6 and seal.pin.isdigit()
    load_signer(seal.p12_path, seal.pin)
    tsa = load_certificate(pki.tsa_cert)
    purposes = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert purposes.critical and list(purposes.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    key = load_pem_private_key(pki.tsa_key.read_bytes(), password=None)
    assert key.public_key() == tsa.public_key()


def test_every_certificate_chains_to_the_root(pki: DemoPki) -> None:
    root, issuing = load_certificate(pki.root_cert), load_certificate(pki.issuing_cert)
    root.verify_directly_issued_by(root)
    issuing.verify_directly_issued_by(root)
    for name, cert in _all_certs(pki).items():
        if name not in ("root", "issuing"):
            cert.verify_directly_issued_by(issuing)


def test_pkcs12_opens_only_with_the_right_pin(pki: DemoPki) -> None:
    p12 = pki.people["a_gvcn"].p12_path.read_bytes()
    key, cert, chain = pkcs12.load_key_and_certificates(p12, b"111111")
    assert cert is not None and key is not None
    assert cert == load_certificate(pki.people["a_gvcn"].cert_path)
    assert chain == [load_certificate(pki.issuing_cert), load_certificate(pki.root_cert)]
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(p12, b"222222")
    with pytest.raises(ValueError):
        load_signer(pki.people["a_gvcn"].p12_path, "000000")


def test_a_second_run_changes_nothing(pki: DemoPki) -> None:
    before = _tree(pki.folder)
    again = init_demo_pki(pki.folder, schools=[SCHOOL], people=PEOPLE, now=NOW + dt.timedelta(1))
    assert _tree(pki.folder) == before
    assert again == pki


def test_the_crl_is_signed_by_the_issuing_ca(pki: DemoPki) -> None:
    crl = x509.load_der_x509_crl(pki.crl_der.read_bytes())
    assert crl == x509.load_pem_x509_crl(pki.crl_pem.read_bytes())
    issuing_key = load_pem_private_key(pki.issuing_key.read_bytes(), password=None)
    assert isinstance(issuing_key, ec.EllipticCurvePrivateKey)
    assert crl.is_signature_valid(issuing_key.public_key())
    assert crl.issuer == load_certificate(pki.issuing_cert).subject
    assert len(crl) == 0
    assert crl.next_update_utc == NOW + dt.timedelta(days=7)


def test_the_teacher_signs_a_year_record_that_validates_against_the_demo_root(
    pki: DemoPki,
) -> None:
    from hocba.documents.render import render_year_record

    pdf = render_year_record(json.loads(EXAMPLE.read_text(encoding="utf-8")))
    signer = load_signer(pki.people["a_gvcn"].p12_path, "111111")
    signed = signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)),
        signers.PdfSignatureMetadata(field_name="gvcn"),
        signer=signer,
    )
    signature = PdfFileReader(signed).embedded_signatures[0]
    assert signature.field_name == "gvcn"
    context = ValidationContext(
        trust_roots=[_asn1(pki.root_cert)],
        other_certs=[_asn1(pki.issuing_cert)],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    status = validate_pdf_signature(signature, signer_validation_context=context)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.signing_cert.subject.native["common_name"] == TEACHER_NAME


def _asn1(path: Path) -> asn1_x509.Certificate:
    from asn1crypto import pem

    _, _, der = pem.unarmor(path.read_bytes())
    return asn1_x509.Certificate.load(der)


@pytest.mark.django_db
def test_the_command_covers_every_signing_staff_member_and_school(
    world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generated: dict[str, Any] = {}

    def fake_init(folder: Path, **kwargs: Any) -> DemoPki:
        generated.update(kwargs, folder=folder)
        return init_demo_pki(folder, schools=kwargs["schools"][:1], people=kwargs["people"][:1])

    monkeypatch.setattr("hocba.signing.demo.init_demo_pki", fake_init)
    out = io.StringIO()
    call_command("pki", "init-demo", "--folder", str(tmp_path / "demo"), stdout=out)
    usernames = [username for username, _, _ in generated["people"]]
    assert usernames == sorted(
        f"{side}_{role}" for side in "ab" for role in ("gvbm", "gvcn", "ht", "pht")
    )
    assert {pin for _, _, pin in generated["people"]} == {"123456"}
    assert [code for code, _ in generated["schools"]] == ["01001", "01002"]
    assert generated["folder"] == tmp_path / "demo"
    assert "NOT FOR PRODUCTION" in out.getvalue()
    assert "PIN 123456" in out.getvalue()
