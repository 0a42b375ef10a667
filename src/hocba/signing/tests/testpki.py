"""Access to the checked-in TEST PKI (``tests/pki``, made by ``scripts/make-test-pki``).

Import what you need; the fixtures are plain pytest fixtures to import explicitly::

    from hocba.signing.tests.testpki import PIN, cert, p12, trust_store
    from hocba.signing.tests.testpki import pki_trust, teacher_p12  # fixtures

Certificates (``cert(name)``/``p12(name)``): teacher, principal, teacher_ec, seal, expired,
not_yet_valid, revoked, wrong_usage, weak_key, other_person, untrusted, ca_as_leaf; plus root,
issuing, tsa and other_root (certificate only). See ``pki/README.md``. Never regenerate the files
from a test; :func:`issue` and :func:`make_crl` make extra certificates and CRLs in memory.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hocba.signing.certcheck import TrustStore

PKI_DIR = Path(__file__).resolve().parent / "pki"
PIN = "123456"
TEACHER_NAME = "Nguyễn Thị Hoà"
PRINCIPAL_NAME = "Trần Văn Đức"
OTHER_PERSON_NAME = "Lê Văn Nam"
SCHOOL_NAME = "Trường Tiểu học Kim Đồng"
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
END = dt.datetime(2046, 1, 1, tzinfo=dt.UTC)
REVOKED_AT = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
CRL_URL = "http://hocba-test.invalid/issuing.crl"
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.12")

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@cache
def cert(name: str) -> asn1_x509.Certificate:
    """``<name>.cert.pem`` as an asn1crypto certificate."""
    _kind, _headers, der = pem.unarmor((PKI_DIR / f"{name}.cert.pem").read_bytes())
    return asn1_x509.Certificate.load(der)


def crypto_cert(name: str) -> x509.Certificate:
    """``<name>.cert.pem`` as a ``cryptography`` certificate."""
    return x509.load_pem_x509_certificate((PKI_DIR / f"{name}.cert.pem").read_bytes())


def p12(name: str) -> bytes:
    """``<name>.p12``: key, certificate and chain, protected by :data:`PIN`."""
    return (PKI_DIR / f"{name}.p12").read_bytes()


def root() -> asn1_x509.Certificate:
    return cert("root")


def issuing() -> asn1_x509.Certificate:
    return cert("issuing")


def crl_der() -> bytes:
    return (PKI_DIR / "crl.der").read_bytes()


def issuing_key() -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(
        (PKI_DIR / "issuing.key.pem").read_bytes(), password=None
    )
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


@cache
def trust_store() -> TrustStore:
    """The test root and issuing CA with the issuing CA's CRL (not the other root)."""
    return TrustStore(roots=(root(),), intermediates=(issuing(),), crls=(crl_der(),))


def issue(
    common_name: str,
    *,
    organisation: str = "hocba TEST — NOT FOR PRODUCTION",
    key: PrivateKey | None = None,
    not_before: dt.datetime = START,
    not_after: dt.datetime = END,
    crl_point: bool = True,
) -> tuple[asn1_x509.Certificate, PrivateKey]:
    """A new signing certificate from the test issuing CA (in memory), and its key."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    issuer = crypto_cert("issuing")
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                    x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                ]
            )
        )
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuing_key().public_key()),
            critical=False,
        )
    )
    if crl_point:
        point = x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(CRL_URL)],
            relative_name=None,
            reasons=None,
            crl_issuer=None,
        )
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    certificate = builder.sign(issuing_key(), hashes.SHA256())
    der = certificate.public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der), key


def make_crl(
    revoked: dict[int, dt.datetime] | None = None,
    *,
    this_update: dt.datetime = REVOKED_AT,
    next_update: dt.datetime = END,
) -> bytes:
    """A DER CRL from the test issuing CA listing ``revoked`` (serial -> revocation date)."""
    issuer = crypto_cert("issuing")
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(2), critical=False)
    )
    for serial, date in (revoked or {}).items():
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(date).build()
        )
    crl = builder.sign(issuing_key(), hashes.SHA256())
    return crl.public_bytes(serialization.Encoding.DER)


# --- fixtures (import them explicitly) -----------------------------------------------------------


@pytest.fixture
def pki_trust() -> TrustStore:
    return trust_store()


@pytest.fixture
def teacher_certificate() -> asn1_x509.Certificate:
    return cert("teacher")


@pytest.fixture
def teacher_p12() -> bytes:
    return p12("teacher")


@pytest.fixture
def principal_p12() -> bytes:
    return p12("principal")


@pytest.fixture
def seal_p12() -> bytes:
    return p12("seal")
