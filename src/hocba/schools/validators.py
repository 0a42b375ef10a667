"""Identifier checks (DOMAIN §5). Each returns a Vietnamese error message or ``None``."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _

# Province codes of birth registration (Thông tư 07/2016/TT-BCA, 63 provinces before 07/2025;
# the personal ID keeps the code of where the birth was registered).
PROVINCE_CODES = frozenset(
    [
        "001",
        "002",
        "004",
        "006",
        "008",
        "010",
        "011",
        "012",
        "014",
        "015",
        "017",
        "019",
        "020",
        "022",
        "024",
        "025",
        "026",
        "027",
        "030",
        "031",
        "033",
        "034",
        "035",
        "036",
        "037",
        "038",
        "040",
        "042",
        "044",
        "045",
        "046",
        "048",
        "049",
        "051",
        "052",
        "054",
        "056",
        "058",
        "060",
        "062",
        "064",
        "066",
        "067",
        "068",
        "070",
        "072",
        "074",
        "075",
        "077",
        "079",
        "080",
        "082",
        "083",
        "084",
        "086",
        "087",
        "089",
        "091",
        "092",
        "093",
        "094",
        "095",
        "096",
    ]
)


def ministry_code_error(code: str) -> str | None:
    """The Ministry student code: 10 digits (DOMAIN §5)."""
    if not code:
        return _("Thiếu mã học sinh.")
    if not code.isascii() or not code.isdigit():
        return _("Mã học sinh “%(code)s” chỉ được gồm chữ số.") % {"code": code}
    if len(code) != 10:
        return _("Mã học sinh “%(code)s” phải có đúng 10 chữ số (đang có %(n)s).") % {
            "code": code,
            "n": len(code),
        }
    return None


def personal_id_error(
    personal_id: str, *, sex: str | None = None, date_of_birth: datetime.date | None = None
) -> str | None:
    """The 12-digit personal ID: province code, century-and-sex digit, year of birth, 6 digits."""
    if not personal_id.isascii() or not personal_id.isdigit():
        return _("Số định danh cá nhân “%(id)s” chỉ được gồm chữ số.") % {"id": personal_id}
    if len(personal_id) != 12:
        return _("Số định danh cá nhân “%(id)s” phải có đúng 12 chữ số (đang có %(n)s).") % {
            "id": personal_id,
            "n": len(personal_id),
        }
    if personal_id[:3] not in PROVINCE_CODES:
        return _("Số định danh cá nhân “%(id)s” có mã tỉnh “%(code)s” không hợp lệ.") % {
            "id": personal_id,
            "code": personal_id[:3],
        }
    century_sex = int(personal_id[3])
    if date_of_birth is not None:
        century = 1900 + 100 * (century_sex // 2)
        if century + int(personal_id[4:6]) != date_of_birth.year:
            return _(
                "Số định danh cá nhân “%(id)s” không khớp năm sinh %(year)s "
                "(chữ số thứ 4 đến 6 mã hoá thế kỷ và năm sinh)."
            ) % {"id": personal_id, "year": date_of_birth.year}
    if sex in {"nam", "nu"}:
        expected_female = sex == "nu"
        if (century_sex % 2 == 1) != expected_female:
            return _(
                "Số định danh cá nhân “%(id)s” không khớp giới tính (chữ số thứ 4 mã hoá giới "
                "tính: chẵn là nam, lẻ là nữ)."
            ) % {"id": personal_id}
    return None


def school_year_name_error(name: str) -> str | None:
    parts = name.split("-")
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 4 for p in parts):
        return _("Năm học “%(name)s” phải có dạng 2024-2025.") % {"name": name}
    if int(parts[1]) != int(parts[0]) + 1:
        return _("Năm học “%(name)s”: năm sau phải lớn hơn năm trước đúng 1.") % {"name": name}
    return None
