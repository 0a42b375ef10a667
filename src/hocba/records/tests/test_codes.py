"""Short codes: format, alphabet, and forgiving look-up of what a person typed."""

from __future__ import annotations

import re

from hocba.records.codes import ALPHABET, new_short_code, normalise_short_code


def test_short_codes_are_three_groups_of_four_unambiguous_characters() -> None:
    codes = {new_short_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(rf"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}", code)
    assert not set("01ILO") & set(ALPHABET)


def test_typed_codes_are_normalised() -> None:
    assert normalise_short_code(" hb7k 2m9q-xd4t ") == "HB7K-2M9Q-XD4T"
    assert normalise_short_code("HB7K2M9QXD4T") == "HB7K-2M9Q-XD4T"
    assert normalise_short_code("HB7K-2M9Q-XD40") == ""
    assert normalise_short_code("HB7K") == ""
