"""``soft`` adapter: a PKCS#12 file unlocked with the user's PIN (demo and small deployments).

The key is parsed once when the adapter is made (about 55 ms for RSA, ARCHITECTURE §10) and then
signs any number of digests; :meth:`close` drops it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.serialization import pkcs12
from django.utils.translation import gettext as _

from hocba.signing.adapters import SignerError, WrongPin, check_digests


def _asn1(certificate: object) -> asn1_x509.Certificate:
    der = certificate.public_bytes(serialization.Encoding.DER)  # type: ignore[attr-defined]
    return asn1_x509.Certificate.load(der)


class SoftSigner:
    kind: ClassVar[str] = "soft"

    def __init__(self, p12: bytes, pin: str) -> None:
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(p12, pin.encode())
        except ValueError as error:
            if "password" in str(error).lower() or "mac" in str(error).lower():
                raise WrongPin(_("Mã PIN không đúng: không mở được tệp khoá PKCS#12.")) from None
            raise SignerError(_("Tệp khoá PKCS#12 bị hỏng hoặc không đúng định dạng.")) from None
        if key is None or cert is None:
            raise SignerError(_("Tệp PKCS#12 không chứa khoá bí mật và chứng thư số."))
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise SignerError(_("Khoá trong tệp PKCS#12 không phải RSA hoặc ECDSA."))
        self._key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = key
        self._certificate = _asn1(cert)
        self._chain = tuple(_asn1(extra_cert) for extra_cert in extra)

    @property
    def certificate(self) -> asn1_x509.Certificate:
        return self._certificate

    @property
    def chain(self) -> Sequence[asn1_x509.Certificate]:
        return self._chain

    def sign_digests(self, digests: Sequence[bytes]) -> list[bytes]:
        check_digests(digests)
        key = self._key
        if key is None:
            raise SignerError(_("Khoá đã được đóng; hãy nhập lại mã PIN."))
        prehashed = utils.Prehashed(hashes.SHA256())
        if isinstance(key, rsa.RSAPrivateKey):
            return [key.sign(digest, padding.PKCS1v15(), prehashed) for digest in digests]
        return [key.sign(digest, ec.ECDSA(prehashed)) for digest in digests]

    def close(self) -> None:
        self._key = None
