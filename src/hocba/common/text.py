"""Text normalisation at the boundary where data enters the system (ARCHITECTURE §10)."""

from __future__ import annotations

import unicodedata


def clean_text(value: object) -> str:
    """NFC-normalise, trim and collapse inner whitespace; ``None`` becomes ``""``."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    return " ".join(text.split())


def fold(value: str) -> str:
    """Lower case without diacritics (``Đặng Ánh`` → ``dang anh``), for forgiving search."""
    decomposed = unicodedata.normalize("NFD", value.lower().replace("đ", "d"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))
