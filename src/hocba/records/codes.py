"""Short codes printed beside the QR code: 12 random characters, "XXXX-XXXX-XXXX".

The alphabet has no 0/O or 1/I/L (31 symbols), so a code read aloud or retyped from paper is
unambiguous; 31^12 is about 2^59, far beyond guessing through a rate-limited public look-up.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
GROUPS, GROUP_LENGTH = 3, 4


def new_short_code() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LENGTH))
    return "-".join(chars[i : i + GROUP_LENGTH] for i in range(0, len(chars), GROUP_LENGTH))


def normalise_short_code(typed: str) -> str:
    """What a person typed (any case, with spaces or without dashes) in the stored form, or ""."""
    compact = "".join(typed.split()).replace("-", "").upper()
    if len(compact) != GROUPS * GROUP_LENGTH or any(c not in ALPHABET for c in compact):
        return ""
    return "-".join(compact[i : i + GROUP_LENGTH] for i in range(0, len(compact), GROUP_LENGTH))
