"""Real PKCS#11 tokens for the tests: SoftHSM2 with a private token folder.

Import the fixtures you use explicitly (``from hocba.signing.tests.softhsm import ...``):

- ``softhsm``: the :class:`SoftHsm` of this test session (its own ``softhsm2.conf``);
- ``softhsm_pki``: a demo PKI whose issuing CA certifies the token keys;
- ``softhsm_rsa_token``: a token holding the demo teacher's RSA key and certificate, imported
  from their PKCS#12 file (a :class:`SoftHsmKey`);
- ``softhsm_ec_token``: a token with an EC P-256 key generated on it and a certificate for it
  issued by the demo issuing CA (a :class:`SoftHsmKey`).

Why one configuration for the whole session: SoftHSM reads ``SOFTHSM2_CONF`` (and so its token
folder) in ``C_Initialize``, and python-pkcs11 keeps one loaded module per path for the life of
the process. The session's configuration is set before the module is first loaded; tokens made
later become visible through :func:`~hocba.signing.adapters.pkcs11.refresh_tokens`, which is only
allowed while no adapter has a session open. So make tokens in fixtures, not while a signer is
open, and close every signer a test opens. A test that deletes a token makes its own
(:meth:`SoftHsm.create_token`) rather than breaking a shared one.

Without SoftHSM the tests are skipped, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pkcs11
import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pkcs11 import Attribute, KeyType
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters
from pkcs11.util.rsa import decode_rsa_private_key, decode_rsa_public_key
from pkcs11.util.x509 import decode_x509_certificate

from hocba.signing.adapters.pkcs11 import Pkcs11Signer, refresh_tokens
from hocba.signing.pki import (
    DemoPki,
    init_demo_pki,
    issue_signing_certificate,
    load_certificate,
)

SOFTHSM_MODULE_ENV = "HOCBA_SOFTHSM_MODULE"
SOFTHSM_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/*-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
USER_PIN = "246810"
SO_PIN = "13579135"
TEACHER = ("a_gvcn", "Nguyễn Thị Hoà", "123456")
SCHOOL = ("01001", "Trường Tiểu học Kim Đồng")


def softhsm_module_path() -> str | None:
    configured = os.environ.get(SOFTHSM_MODULE_ENV)
    if configured:
        return configured if os.path.isfile(configured) else None
    for pattern in SOFTHSM_CANDIDATES:
        for path in sorted(glob.glob(pattern)):
            if os.path.isfile(path):
                return path
    return None


def require_softhsm() -> str:
    """The SoftHSM module path; skip without it (fail under ``CI=true``)."""
    module_path = softhsm_module_path()
    missing = None
    if module_path is None:
        missing = "SoftHSM2 module (libsofthsm2.so) not found: apt-get install softhsm2"
    elif shutil.which("softhsm2-util") is None:
        missing = "softhsm2-util not found: apt-get install softhsm2"
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing} (required under CI=true)")
        pytest.skip(missing)
    assert module_path is not None
    return module_path


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


@dataclass
class SoftHsm:
    """A SoftHSM configuration of this process (token folder under ``folder``)."""

    folder: Path
    module_path: str
    _previous_conf: str | None

    @classmethod
    def start(cls, folder: Path, module_path: str) -> SoftHsm:
        tokens = folder / "tokens"
        tokens.mkdir(parents=True, exist_ok=True)
        conf = folder / "softhsm2.conf"
        conf.write_text(
            f"directories.tokendir = {tokens}\n"
            "objectstore.backend = file\n"
            "log.level = ERROR\n"
            "slots.removable = false\n"
        )
        previous = os.environ.get("SOFTHSM2_CONF")
        os.environ["SOFTHSM2_CONF"] = str(conf)
        # realpath: the spelling the adapter loads, so this process shares one loaded module.
        return cls(folder, os.path.realpath(module_path), previous)

    def stop(self) -> None:
        if self._previous_conf is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = self._previous_conf

    def util(self, *args: str) -> None:
        subprocess.run(["softhsm2-util", *args], check=True, capture_output=True, text=True)

    def create_token(
        self, label: str, *, pin: str = USER_PIN, so_pin: str = SO_PIN
    ) -> SoftHsmToken:
        self.util("--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", so_pin)
        refresh_tokens(self.module_path)  # a loaded SoftHSM sees new tokens only after this
        return SoftHsmToken(self, label, pin)


@dataclass
class SoftHsmToken:
    hsm: SoftHsm
    label: str
    pin: str

    @contextmanager
    def session(self) -> Iterator[Any]:
        """A read-write session logged in as the user (no signer may be open on this token)."""
        token = pkcs11.lib(self.hsm.module_path).get_token(token_label=self.label)
        session = token.open(rw=True, user_pin=self.pin)
        try:
            yield session
        finally:
            session.close()

    def delete(self) -> None:
        self.hsm.util("--delete-token", "--token", self.label)

    def import_pkcs12(
        self, p12: bytes, passphrase: str, *, key_label: str, key_id: bytes
    ) -> x509.Certificate:
        """Write the RSA key (private and public objects) and certificate of a PKCS#12 file."""
        key, certificate, _extra = pkcs12.load_key_and_certificates(p12, passphrase.encode())
        assert isinstance(key, rsa.RSAPrivateKey) and certificate is not None
        private_der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        public_der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.PKCS1
        )
        common = {Attribute.TOKEN: True, Attribute.LABEL: key_label, Attribute.ID: key_id}
        with self.session() as session:
            session.create_object(
                decode_rsa_private_key(private_der)
                | common
                | {Attribute.PRIVATE: True, Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False}
            )
            session.create_object(decode_rsa_public_key(public_der) | common)
            self.store_certificate(session, certificate, key_label=key_label, key_id=key_id)
        return certificate

    def generate_ec_key(
        self,
        issuer: x509.Certificate,
        issuer_key: Any,
        *,
        key_label: str,
        key_id: bytes,
        always_authenticate: bool = False,
    ) -> x509.Certificate:
        """An EC P-256 key pair made on the token, with a certificate issued by ``issuer``.

        ``always_authenticate`` marks the key CKA_ALWAYS_AUTHENTICATE (PIN for every signature).
        """
        with self.session() as session:
            parameters = session.create_domain_parameters(
                KeyType.EC,
                {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
                local=True,
            )
            public, _private = parameters.generate_keypair(
                store=True,
                label=key_label,
                id=key_id,
                private_template={Attribute.ALWAYS_AUTHENTICATE: always_authenticate},
            )
            public_key = serialization.load_der_public_key(encode_ec_public_key(public))
            assert isinstance(public_key, ec.EllipticCurvePublicKey)
            certificate = _issue(public_key, issuer, issuer_key, f"{key_label} — token EC")
            self.store_certificate(session, certificate, key_label=key_label, key_id=key_id)
        return certificate

    @staticmethod
    def store_certificate(
        session: Any, certificate: x509.Certificate, *, key_label: str, key_id: bytes
    ) -> None:
        der = certificate.public_bytes(serialization.Encoding.DER)
        session.create_object(
            decode_x509_certificate(der)
            | {Attribute.TOKEN: True, Attribute.LABEL: key_label, Attribute.ID: key_id}
        )


def _issue(
    public_key: ec.EllipticCurvePublicKey, issuer: x509.Certificate, issuer_key: Any, name: str
) -> x509.Certificate:
    return issue_signing_certificate(issuer, issuer_key, name, public_key, organisation=None)


@dataclass(frozen=True)
class SoftHsmKey:
    """A key on a SoftHSM token and what a :class:`Pkcs11Signer` needs to use it."""

    token: SoftHsmToken
    module_path: str
    token_label: str
    pin: str
    key_label: str
    key_id: bytes
    certificate: asn1_x509.Certificate
    chain: tuple[asn1_x509.Certificate, ...]

    def signer(self, **overrides: Any) -> Pkcs11Signer:
        arguments: dict[str, Any] = {
            "module_path": self.module_path,
            "token_label": self.token_label,
            "pin": self.pin,
            "key_label": self.key_label,
            "chain": self.chain,
        }
        return Pkcs11Signer(**(arguments | overrides))


def demo_chain(pki: DemoPki) -> tuple[asn1_x509.Certificate, ...]:
    return tuple(_asn1(load_certificate(path)) for path in (pki.issuing_cert, pki.root_cert))


def rsa_key_on_token(hsm: SoftHsm, pki: DemoPki, label: str) -> SoftHsmKey:
    """A new token ``label`` holding the demo teacher's RSA key and certificate."""
    token = hsm.create_token(label)
    person = pki.people[TEACHER[0]]
    key_label, key_id = "chu-ky-gvcn", bytes.fromhex("a1b2c3d4")
    certificate = token.import_pkcs12(
        person.p12_path.read_bytes(), TEACHER[2], key_label=key_label, key_id=key_id
    )
    return SoftHsmKey(
        token, hsm.module_path, label, token.pin, key_label, key_id, _asn1(certificate),
        demo_chain(pki),
    )  # fmt: skip


def ec_key_on_token(
    hsm: SoftHsm, pki: DemoPki, label: str, *, always_authenticate: bool = False
) -> SoftHsmKey:
    """A new token ``label`` with an EC P-256 key generated on it, certified by the demo CA."""
    token = hsm.create_token(label)
    issuer = load_certificate(pki.issuing_cert)
    issuer_key = serialization.load_pem_private_key(pki.issuing_key.read_bytes(), None)
    key_label, key_id = "con-dau-truong", bytes.fromhex("ec01")
    certificate = token.generate_ec_key(
        issuer,
        issuer_key,
        key_label=key_label,
        key_id=key_id,
        always_authenticate=always_authenticate,
    )
    return SoftHsmKey(
        token, hsm.module_path, label, token.pin, key_label, key_id, _asn1(certificate),
        demo_chain(pki),
    )  # fmt: skip


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsm]:
    module_path = require_softhsm()
    hsm = SoftHsm.start(tmp_path_factory.mktemp("softhsm"), module_path)
    yield hsm
    hsm.stop()


@pytest.fixture(scope="session")
def softhsm_pki(tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    folder = tmp_path_factory.mktemp("softhsm-pki") / "demo"
    return init_demo_pki(folder, schools=[SCHOOL], people=[TEACHER])


@pytest.fixture(scope="session")
def softhsm_rsa_token(softhsm: SoftHsm, softhsm_pki: DemoPki) -> SoftHsmKey:
    return rsa_key_on_token(softhsm, softhsm_pki, "hocba-rsa")


@pytest.fixture(scope="session")
def softhsm_ec_token(softhsm: SoftHsm, softhsm_pki: DemoPki) -> SoftHsmKey:
    return ec_key_on_token(softhsm, softhsm_pki, "hocba-ec")
