"""Signer adapters (issue 5 §3, ARCHITECTURE §6): digests in, raw signature values out.

Every adapter turns SHA-256 digests (of CMS signed attributes, computed by :mod:`..pades`) into
raw signature values with one key, behind the same small interface, so the PAdES pipeline and the
batch job never care where the key lives:

- ``soft``: a PKCS#12 file unlocked with the user's PIN (:mod:`.soft`);
- ``pkcs11``: a USB token or HSM through a PKCS#11 module (:mod:`.pkcs11`);
- ``csc``: a remote-signing service speaking the Cloud Signature Consortium API (:mod:`.csc`);
- ``agent``: ``hocba sign-agent`` on the teacher's computer (the server side only hands out
  digests and takes back signatures, see :mod:`hocba.signing.agent`).

Raw signature values are what goes into ``SignerInfo.signature``: RSASSA-PKCS1-v1_5 over the
DER ``DigestInfo`` for RSA keys, the DER ``ECDSA-Sig-Value`` (SEQUENCE of r, s) for EC keys.
One call may carry many digests: that is how one PIN entry or one remote confirmation covers a
whole class.

Failures raise :class:`SignerError` subclasses with a Vietnamese message; a batch stops on them
and stays resumable (nothing is half-signed: a document is only written once its signature is
complete).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Protocol

from asn1crypto import algos
from asn1crypto import x509 as asn1_x509

from hocba.common.errors import DomainError

DIGEST_ALGORITHM = "sha256"
DIGEST_SIZE = 32


class SignerError(DomainError):
    """The key could not sign. The batch stops here and can be resumed."""


class WrongPin(SignerError):
    """The PIN or passphrase does not unlock the key."""


class KeyUnavailable(SignerError):
    """The token, key or service cannot be reached (token removed, module missing, offline)."""


class ConfirmationPending(SignerError):
    """A remote signing request waits for the user's confirmation (on their phone)."""


class ConfirmationExpired(SignerError):
    """The remote confirmation (SAD) was not given in time, or has expired."""


class ConfirmationRejected(SignerError):
    """The user refused the remote signing request."""


class SignerAdapter(Protocol):
    """One key, able to sign SHA-256 digests. Adapters are used by one thread at a time."""

    kind: ClassVar[str]

    @property
    def certificate(self) -> asn1_x509.Certificate:
        """The signing certificate."""
        ...

    @property
    def chain(self) -> Sequence[asn1_x509.Certificate]:
        """Intermediate (and optionally root) certificates to embed; may be empty."""
        ...

    def sign_digests(self, digests: Sequence[bytes]) -> list[bytes]:
        """Raw signature values for these SHA-256 digests, in the same order."""
        ...

    def close(self) -> None:
        """Forget the unlocked key / log out of the token / drop the authorisation."""
        ...


def signature_mechanism(certificate: asn1_x509.Certificate) -> algos.SignedDigestAlgorithm:
    """The CMS signature algorithm for this certificate's key, always with SHA-256."""
    algorithm = certificate.public_key.algorithm
    if algorithm == "rsa":
        return algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"})
    if algorithm == "ec":
        return algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
    raise SignerError(f"Thuật toán khoá {algorithm} không được hỗ trợ (chỉ RSA hoặc ECDSA).")


def check_digests(digests: Sequence[bytes]) -> None:
    for digest in digests:
        if len(digest) != DIGEST_SIZE:
            raise ValueError("every digest must be a 32-byte SHA-256 value")
