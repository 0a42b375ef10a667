from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hocba.common.vietnamese import collation_key, name_sort_key, sort_by_name

POSTGRES_URL = os.environ.get(
    "HOCBA_ORACLE_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@dataclass
class Person:
    family_name: str
    middle_name: str
    given_name: str


def test_letters_with_marks_follow_their_base_letter() -> None:
    words = ["Đức", "Dũng", "Ân", "Ăn", "An", "Ơn", "Ôn", "On", "Ưu", "Út", "Ê", "E"]
    assert sorted(words, key=collation_key) == [
        "An", "Ăn", "Ân", "Dũng", "Đức", "E", "Ê", "On", "Ôn", "Ơn", "Út", "Ưu",
    ]  # fmt: skip


def test_tone_marks_in_vietnamese_order() -> None:
    # ngang < huyền < hỏi < ngã < sắc < nặng
    words = ["Ạnh", "Ánh", "Ãnh", "Ảnh", "Ành", "Anh"]
    assert sorted(words, key=collation_key) == ["Anh", "Ành", "Ảnh", "Ãnh", "Ánh", "Ạnh"]


def test_lower_case_before_upper_case_and_decomposed_equals_composed() -> None:
    assert collation_key("anh") < collation_key("Anh")
    assert collation_key(unicodedata.normalize("NFD", "Nguyễn")) == collation_key("Nguyễn")


def test_names_sort_by_given_then_middle_then_family() -> None:
    people = [
        Person("Trần", "Văn", "Bình"),
        Person("Nguyễn", "Thị", "Ánh"),
        Person("Lê", "Văn", "An"),
        Person("Đỗ", "Thị", "Anh"),
        Person("Bùi", "Thị", "Anh"),
        Person("Phạm", "Đức", "An"),
        Person("Phạm", "Duy", "An"),
    ]
    ordered = [f"{p.family_name} {p.middle_name} {p.given_name}" for p in sort_by_name(people)]
    assert ordered == [
        "Phạm Duy An",
        "Phạm Đức An",
        "Lê Văn An",
        "Bùi Thị Anh",
        "Đỗ Thị Anh",
        "Nguyễn Thị Ánh",
        "Trần Văn Bình",
    ]


def _oracle_connection():  # type: ignore[no-untyped-def]
    psycopg = pytest.importorskip("psycopg")
    try:
        return psycopg.connect(POSTGRES_URL, connect_timeout=3)
    except psycopg.OperationalError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("PostgreSQL is not running here (its ICU collation is the test oracle)")


VIETNAMESE_LETTERS = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
TONES = ["", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323"]


@st.composite
def vietnamese_words(draw: st.DrawFn) -> str:
    letters = draw(st.lists(st.sampled_from(VIETNAMESE_LETTERS), min_size=1, max_size=5))
    word = "".join(letters)
    if draw(st.booleans()):
        word = word.capitalize()
    tone = draw(st.sampled_from(TONES))
    vowel_positions = [i for i, c in enumerate(word) if c.lower() in "aăâeêioôơuưy"]
    if tone and vowel_positions:
        position = draw(st.sampled_from(vowel_positions))
        word = word[: position + 1] + tone + word[position + 1 :]
    return unicodedata.normalize("NFC", word)


@settings(max_examples=3, deadline=None)
@given(st.lists(vietnamese_words(), min_size=300, max_size=300, unique=True))
def test_word_order_matches_icu_vietnamese_collation_in_postgresql(words: list[str]) -> None:
    """PostgreSQL's ICU collation "vi-x-icu" is an independent implementation of CLDR "vi"."""
    with _oracle_connection() as connection:
        rows = connection.execute(
            'SELECT w FROM unnest(%s::text[]) AS w ORDER BY w COLLATE "vi-x-icu"', (words,)
        ).fetchall()
    icu_order = [row[0] for row in rows]
    assert sorted(words, key=collation_key) == icu_order


def test_name_key_is_a_tuple_of_word_keys() -> None:
    assert name_sort_key("Lê", "Văn", "An") == (
        collation_key("An"),
        collation_key("Văn"),
        collation_key("Lê"),
    )
