"""Vietnamese collation and name order (DOMAIN §7).

Class lists are sorted by given name (tên), then middle name (tên đệm), then family name (họ),
each compared the way ICU's ``vi`` collation compares words:

* primary: the Vietnamese alphabet, in which ``ă`` and ``â`` follow ``a``, ``đ`` follows ``d``,
  ``ê`` follows ``e``, ``ô`` and ``ơ`` follow ``o``, ``ư`` follows ``u``;
* secondary: the tone mark, in the order ngang < huyền < hỏi < ngã < sắc < nặng;
* tertiary: lower case before upper case.

It is pure Python so that sorting needs no ICU library; the tests check it against
PostgreSQL's ICU collation ``vi-x-icu`` as an independent oracle.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
# Marks that make a distinct letter: (base, combining mark) -> letter.
_LETTER_MARKS = {
    ("a", "\u0306"): "ă",
    ("a", "\u0302"): "â",
    ("e", "\u0302"): "ê",
    ("o", "\u0302"): "ô",
    ("o", "\u031b"): "ơ",
    ("u", "\u031b"): "ư",
}
# Tone marks in ICU "vi" secondary order: huyền, hỏi, ngã, sắc, nặng.
_TONE_WEIGHT = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
# Non-letters sort before letters, as in the CLDR root order.
_LETTER_BASE = 0x110000

SortKey = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]


def _clusters(text: str) -> Iterable[tuple[str, list[str]]]:
    """Yield (base character, combining marks) pairs of the NFD form."""
    base: str | None = None
    marks: list[str] = []
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char) and base is not None:
            marks.append(char)
            continue
        if base is not None:
            yield base, marks
        base, marks = char, []
    if base is not None:
        yield base, marks


def collation_key(text: str) -> SortKey:
    """Sort key of one word or phrase under Vietnamese collation."""
    primary: list[int] = []
    secondary: list[int] = []
    tertiary: list[int] = []
    for base, marks in _clusters(text):
        lower = base.lower()
        is_upper = base != lower
        tone = 0
        for mark in marks:
            if (lower, mark) in _LETTER_MARKS:
                lower = _LETTER_MARKS[(lower, mark)]
            elif mark in _TONE_WEIGHT:
                tone = _TONE_WEIGHT[mark]
            else:
                tone = 10 + ord(mark)
        index = _ALPHABET.find(lower)
        primary.append(_LETTER_BASE + index if index >= 0 else ord(lower))
        secondary.append(tone)
        tertiary.append(1 if is_upper else 0)
    return tuple(primary), tuple(secondary), tuple(tertiary)


class HasVietnameseName(Protocol):
    family_name: str
    middle_name: str
    given_name: str


def name_sort_key(family_name: str, middle_name: str, given_name: str) -> tuple[SortKey, ...]:
    """Key for a full name: given name, then middle name, then family name."""
    return collation_key(given_name), collation_key(middle_name), collation_key(family_name)


T = TypeVar("T", bound=HasVietnameseName)


def sort_by_name(people: Iterable[T], tie_breaker: Callable[[T], object] | None = None) -> list[T]:
    """Sort people in Vietnamese name order (tên, tên đệm, họ); the one function class lists use."""

    def key(person: T) -> tuple[object, ...]:
        name_key = name_sort_key(person.family_name, person.middle_name, person.given_name)
        return (name_key, tie_breaker(person) if tie_breaker else 0)

    return sorted(people, key=key)
