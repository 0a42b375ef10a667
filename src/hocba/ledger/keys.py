"""The log's Ed25519 key: a PEM file created (mode 0600) on first use."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from django.conf import settings

from hocba.ledger.note import Signer, Verifier

DEFAULT_ORIGIN = "hocba.local/log"


def origin() -> str:
    return str(
        getattr(settings, "HOCBA_LEDGER_ORIGIN", None)
        or os.environ.get("HOCBA_LEDGER_ORIGIN")
        or DEFAULT_ORIGIN
    )


def key_file() -> Path:
    configured = getattr(settings, "HOCBA_LEDGER_KEY_FILE", None) or os.environ.get(
        "HOCBA_LEDGER_KEY_FILE"
    )
    return Path(configured) if configured else Path(settings.DATA_DIR) / "ledger" / "log.key"


def _load_or_create(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: use theirs
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(pem)
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def signer() -> Signer:
    return Signer(origin(), _load_or_create(key_file()))


def verifier() -> Verifier:
    """The public verifier key, ``<origin>+<key id>+<base64>``, to publish."""
    return signer().verifier


def verifier_key() -> str:
    return str(verifier())
