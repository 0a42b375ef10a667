"""Parsing and checking one typed cell value (DOMAIN §2.2). Returns the stored value or raises."""

from __future__ import annotations

import decimal
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _

from hocba.assessment.rules import RuleOptions, RuleSet
from hocba.common.errors import DomainError

SUBJECT_LEVELS = ("T", "H", "C")
COMPETENCY_LEVELS = ("T", "Đ", "C")
COMMENT_MAX_LENGTH = 1000
FACT_LIMITS: dict[str, tuple[decimal.Decimal, decimal.Decimal, bool]] = {
    # field: (minimum, maximum, integer only)
    "height_cm": (decimal.Decimal(60), decimal.Decimal(200), False),
    "weight_kg": (decimal.Decimal(10), decimal.Decimal(120), False),
    "days_absent_excused": (decimal.Decimal(0), decimal.Decimal(250), True),
    "days_absent_unexcused": (decimal.Decimal(0), decimal.Decimal(250), True),
}


@dataclass(frozen=True)
class CellAddress:
    """Which cell: a subject mark, a competency mark, or a header fact of one pupil's year."""

    sheet: str  # "subject" | "competency" | "facts"
    key: str  # subject code, competency item code, or fact field name
    period: str  # "gk1" | "ck1" | "gk2" | "cn"; "" for facts
    field: str  # "level" | "score" | "comment" (marks) or "value" (facts)


def _text(raw: object) -> str:
    return unicodedata.normalize("NFC", "" if raw is None else str(raw)).strip()


def parse_subject_level(raw: object) -> str:
    value = _text(raw).upper()
    if value in ("", *SUBJECT_LEVELS):
        return value
    raise DomainError(
        _("Mức đạt được “%(v)s” không hợp lệ: chỉ nhập T, H hoặc C.") % {"v": _text(raw)}
    )


def parse_competency_level(raw: object) -> str:
    value = _text(raw).upper()
    value = "Đ" if value == "D" else value  # "D" is how most keyboards type "Đ"
    if value in ("", *COMPETENCY_LEVELS):
        return value
    raise DomainError(
        _("Mức đánh giá “%(v)s” không hợp lệ: chỉ nhập T, Đ (hoặc D) hoặc C.") % {"v": _text(raw)}
    )


def parse_score(raw: object, options: RuleOptions, rules: RuleSet) -> int | None:
    text = _text(raw)
    if text == "":
        return None
    if isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))
    if not (text.isascii() and text.isdigit()):  # "²" and "٩" are digits to str.isdigit()
        raise DomainError(
            _("Điểm “%(v)s” không hợp lệ: điểm kiểm tra là số nguyên, không có phần thập phân.")
            % {"v": text}
        )
    score = int(text)
    allowed = rules.score_range(options)
    if score not in allowed:
        raise DomainError(
            _("Điểm %(v)s ngoài thang điểm: chỉ nhập từ %(lo)s đến 10.")
            % {"v": score, "lo": allowed.start}
        )
    return score


def parse_comment(raw: object) -> str:
    text = _text(raw)
    if len(text) > COMMENT_MAX_LENGTH:
        raise DomainError(
            _("Nhận xét dài %(n)s ký tự, tối đa %(max)s.")
            % {"n": len(text), "max": COMMENT_MAX_LENGTH}
        )
    return text


def parse_fact(name: str, raw: object) -> decimal.Decimal | int | None:
    text = _text(raw).replace(",", ".")
    if text == "":
        return None
    minimum, maximum, integer_only = FACT_LIMITS[name]
    try:
        number = decimal.Decimal(text)
    except decimal.InvalidOperation:
        raise DomainError(_("“%(v)s” không phải là số.") % {"v": text}) from None
    if integer_only and number != number.to_integral_value():
        raise DomainError(_("Số ngày nghỉ phải là số nguyên."))
    if not minimum <= number <= maximum:
        raise DomainError(
            _("Giá trị %(v)s ngoài khoảng hợp lý (%(lo)s đến %(hi)s).")
            % {"v": text, "lo": minimum, "hi": maximum}
        )
    return int(number) if integer_only else number.quantize(decimal.Decimal("0.1"))
