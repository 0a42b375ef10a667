"""Codes printed beside the QR code.

The short code (12 random characters, "XXXX-XXXX-XXXX") names one version of a record: it is the
public look-up key. The access code (10 random characters, "XXXXX-XXXXX") is the second factor
printed on the same paper copy: with it, the public page shows the pupil's details, and a parent
finds every issued record of the child. The alphabet has no 0/O or 1/I/L (31 symbols), so a code
read aloud or retyped from paper is unambiguous; 31^12 is about 2^59 and 31^10 about 2^49, far
beyond guessing through a rate-limited public look-up.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
GROUPS, GROUP_LENGTH = 3, 4


def new_short_code() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LENGTH))
    return "-".join(chars[i : i + GROUP_LENGTH] for i in range(0, len(chars), GROUP_LENGTH))


ACCESS_GROUPS, ACCESS_GROUP_LENGTH = 2, 5


def new_access_code() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(ACCESS_GROUPS * ACCESS_GROUP_LENGTH))
    return f"{chars[:ACCESS_GROUP_LENGTH]}-{chars[ACCESS_GROUP_LENGTH:]}"


def normalise_access_code(typed: str) -> str:
    """What a person typed as the access code in the stored form, or ""."""
    compact = "".join(typed.split()).replace("-", "").upper()
    if len(compact) != ACCESS_GROUPS * ACCESS_GROUP_LENGTH or any(
        c not in ALPHABET for c in compact
    ):
        return ""
    return f"{compact[:ACCESS_GROUP_LENGTH]}-{compact[ACCESS_GROUP_LENGTH:]}"


def normalise_short_code(typed: str) -> str:
    """What a person typed (any case, with spaces or without dashes) in the stored form, or ""."""
    compact = "".join(typed.split()).replace("-", "").upper()
    if len(compact) != GROUPS * GROUP_LENGTH or any(c not in ALPHABET for c in compact):
        return ""
    return "-".join(compact[i : i + GROUP_LENGTH] for i in range(0, len(compact), GROUP_LENGTH))
