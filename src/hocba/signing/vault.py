"""Short-lived secrets a signing batch needs in the worker: a PIN, a remote authorisation.

They are encrypted (Fernet: AES-128-CBC + HMAC-SHA256) with a key derived from ``SECRET_KEY``,
stored on the batch row only while the batch runs, and refused after their expiry. A database
copy alone does not reveal a PIN; the secret key and the row together do, for minutes.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _fernet() -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"hocba signing authorisation"
    ).derive(settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: dict[str, Any]) -> bytes:
    return _fernet().encrypt(json.dumps(secret).encode())


def unseal(token: bytes | memoryview | None, *, max_age: int) -> dict[str, Any] | None:
    """The secret, or ``None`` when there is none, it expired or it was not made here."""
    if not token:
        return None
    try:
        data = _fernet().decrypt(bytes(token), ttl=max_age)
    except InvalidToken:
        return None
    value = json.loads(data)
    return value if isinstance(value, dict) else None
