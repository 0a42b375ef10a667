"""Identifier checks (DOMAIN §5): examples, and a property over well-formed personal IDs."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation
from hypothesis import assume, given
from hypothesis import strategies as st

from hocba.schools.validators import (
    PROVINCE_CODES,
    ministry_code_error,
    personal_id_error,
    school_year_name_error,
)


@pytest.fixture(autouse=True, scope="module")
def vietnamese() -> Iterator[None]:
    """The messages are checked in Vietnamese, whatever an earlier test activated."""
    with translation.override("vi"):
        yield


GIRL_2015 = {"sex": "nu", "date_of_birth": datetime.date(2015, 1, 10)}
BOY_2016 = {"sex": "nam", "date_of_birth": datetime.date(2016, 12, 31)}


@pytest.mark.parametrize("code", ["0000000001", "7912345678", "1234567890"])
def test_ministry_code_of_ten_digits_passes(code: str) -> None:
    assert ministry_code_error(code) is None


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("", "Thiếu mã học sinh"),
        ("123456789", "đúng 10 chữ số (đang có 9)"),
        ("12345678901", "đúng 10 chữ số (đang có 11)"),
        ("12345A7890", "chỉ được gồm chữ số"),
        ("12345 7890", "chỉ được gồm chữ số"),
        ("١٢٣٤٥٦٧٨٩٠", "chỉ được gồm chữ số"),  # Arabic-Indic digits pass str.isdigit()
    ],
)
def test_bad_ministry_codes_are_named(code: str, fragment: str) -> None:
    message = ministry_code_error(code)
    assert message is not None
    assert fragment in message


@pytest.mark.parametrize(
    ("personal_id", "facts"),
    [
        ("001315000001", GIRL_2015),
        ("079216999999", BOY_2016),
        ("096099123456", {"sex": "nam", "date_of_birth": datetime.date(1999, 5, 1)}),
        ("001315000001", {}),  # nothing to compare with: only the form is checked
    ],
)
def test_consistent_personal_ids_pass(personal_id: str, facts: dict[str, Any]) -> None:
    assert personal_id_error(personal_id, **facts) is None


@pytest.mark.parametrize(
    ("personal_id", "facts", "fragment"),
    [
        ("00131500000", GIRL_2015, "đúng 12 chữ số (đang có 11)"),
        ("0013150000012", GIRL_2015, "đúng 12 chữ số (đang có 13)"),
        ("00131500000A", GIRL_2015, "chỉ được gồm chữ số"),
        ("", GIRL_2015, "chỉ được gồm chữ số"),
        ("003315000001", GIRL_2015, "mã tỉnh “003”"),
        ("000315000001", GIRL_2015, "mã tỉnh “000”"),
        ("001215000001", GIRL_2015, "giới tính"),
        ("001316000001", BOY_2016, "giới tính"),
        ("001115000001", GIRL_2015, "năm sinh 2015"),
        ("001314000001", GIRL_2015, "năm sinh 2015"),
        ("001215000001", {"date_of_birth": datetime.date(2016, 1, 1)}, "năm sinh 2016"),
    ],
)
def test_inconsistent_personal_ids_are_named(
    personal_id: str, facts: dict[str, Any], fragment: str
) -> None:
    message = personal_id_error(personal_id, **facts)
    assert message is not None
    assert fragment in message


@pytest.mark.parametrize("name", ["2024-2025", "2019-2020"])
def test_well_formed_school_years_pass(name: str) -> None:
    assert school_year_name_error(name) is None


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("2024-2026", "đúng 1"),
        ("2025-2024", "đúng 1"),
        ("2024/2025", "dạng 2024-2025"),
        ("24-25", "dạng 2024-2025"),
        ("2024-2025-2026", "dạng 2024-2025"),
    ],
)
def test_bad_school_years_are_named(name: str, fragment: str) -> None:
    message = school_year_name_error(name)
    assert message is not None
    assert fragment in message


# --- Property: the first six digits encode province, century and sex, and year of birth ------

SEXES = ("nam", "nu")


def century_sex_digit(sex: str, year: int) -> str:
    """Thông tư 59/2021/TT-BCA: 0/1 for 1900s, 2/3 for 2000s, ...; even male, odd female."""
    return str(2 * ((year - 1900) // 100) + (sex == "nu"))


def encode(province: str, sex: str, year: int, random_part: str) -> str:
    return f"{province}{century_sex_digit(sex, year)}{year % 100:02d}{random_part}"


valid_ids = st.tuples(
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.sampled_from(SEXES),
    st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2399, 12, 31)),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
)


def test_the_encoder_matches_a_known_id() -> None:
    assert encode("001", "nu", 2015, "000001") == "001315000001"
    assert encode("079", "nam", 1999, "123456") == "079099123456"


@given(valid_ids)
def test_any_well_formed_personal_id_passes(
    parts: tuple[str, str, datetime.date, str],
) -> None:
    province, sex, birth, random_part = parts
    personal_id = encode(province, sex, birth.year, random_part)
    assert len(personal_id) == 12
    assert personal_id_error(personal_id, sex=sex, date_of_birth=birth) is None


@given(valid_ids, st.integers(min_value=0, max_value=5), st.integers(min_value=1, max_value=9))
def test_changing_a_leading_digit_inconsistently_fails(
    parts: tuple[str, str, datetime.date, str], position: int, shift: int
) -> None:
    province, sex, birth, random_part = parts
    personal_id = encode(province, sex, birth.year, random_part)
    digit = str((int(personal_id[position]) + shift) % 10)
    changed = personal_id[:position] + digit + personal_id[position + 1 :]
    # A new province code may be another valid province; then the ID is still consistent.
    assume(position > 2 or changed[:3] not in PROVINCE_CODES)
    assert personal_id_error(changed, sex=sex, date_of_birth=birth) is not None
