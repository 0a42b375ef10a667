"""The layout of the master-data workbook: sheets, columns, help texts, examples (docs/import.md).

Sheet names and column titles are a file format shared with the sector database's exports, so
they stay Vietnamese whatever the interface language; only the help texts are translated.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Model, TextChoices
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from hocba.common.text import clean_text
from hocba.schools.models import Enrolment, Pupil, Staff
from hocba.schools.subjects import Subject


def normalise(value: object) -> str:
    """Comparison form of a title or label: NFC, trimmed, inner spaces collapsed, case-folded."""
    return unicodedata.normalize("NFC", clean_text(value).casefold())


# Spellings teachers use besides the programme's own labels.
SUBJECT_ALIASES = {"mỹ thuật": Subject.MI_THUAT, "lịch sử và địa lý": Subject.LICH_SU_DIA_LI}


@cache
def vocabulary(choices: type[TextChoices], only: frozenset[str] | None = None) -> dict[str, str]:
    """Normalised Vietnamese label and code -> code, whatever the active language (read-only)."""
    words: dict[str, str] = {}
    with translation.override("vi"):
        for code, label in choices.choices:
            if only is None or code in only:
                words[normalise(str(label))] = code
                words[normalise(code)] = code
                if short := re.search(r"\(([^)]+)\)$", str(label)):
                    words.setdefault(normalise(short.group(1)), code)
    return words


@cache
def labels(choices: type[TextChoices], only: frozenset[str] | None = None) -> str:
    with translation.override("vi"):
        return ", ".join(
            f"“{label}”" for code, label in choices.choices if only is None or code in only
        )


@cache
def subject_words() -> dict[str, str]:
    aliases = {normalise(alias): subject for alias, subject in SUBJECT_ALIASES.items()}
    return {**vocabulary(Subject), **aliases}


def _limit(model: type[Model], name: str) -> int | None:
    return getattr(model._meta.get_field(name), "max_length", None)


@dataclass(frozen=True)
class Column:
    """One column: ``key`` names the model field it fills (or the service argument)."""

    key: str
    title: str
    required: bool = False
    help: str | Promise = ""
    width: int = 16
    max_length: int | None = None
    digits: int | None = None  # exact length of a numeric code, to spot lost leading zeros
    as_text: bool = False  # formatted as Text in the template so Excel keeps leading zeros


@dataclass(frozen=True)
class SheetSpec:
    key: str
    name: str
    columns: tuple[Column, ...]
    examples: tuple[tuple[Any, ...], ...]

    def column(self, key: str) -> Column:
        return next(column for column in self.columns if column.key == key)


_FAMILY_HELP = _("Chữ có dấu tiếng Việt, ví dụ “Nguyễn”.")
_GIVEN_HELP = _("Chữ có dấu tiếng Việt, ví dụ “Mai”.")
_DATE_HELP = _("Dạng dd/mm/yyyy (ví dụ 15/03/2018) hoặc ô kiểu Ngày.")

CLASS_SHEET = SheetSpec(
    key="classes",
    name="Lớp",
    columns=(
        Column("name", "Tên lớp", True, _("Ví dụ 4A; được lưu bằng chữ hoa."), 12, 20),
        Column("grade", "Khối", True, _("Số từ 1 đến 5."), 8),
        Column(
            "homeroom_teacher",
            "Tên đăng nhập GVCN",
            help=_(
                "Không bắt buộc. Tên đăng nhập của giáo viên chủ nhiệm: một cán bộ ở trang "
                "“Cán bộ” của tệp này hoặc cán bộ đã có của trường. Lớp đã có trong năm học "
                "(cùng khối) thì chỉ được đặt lại giáo viên chủ nhiệm."
            ),
            width=22,
        ),
    ),
    examples=(("1A", 1, "tran.thi.hoa"), ("1B", 1, "")),
)


def _staff_text(key: str, title: str, help_text: str | Promise, width: int = 14) -> Column:
    return Column(key, title, False, help_text, width, _limit(Staff, key))


# fmt: off
_STAFF_EXAMPLES = (
    ("CB001", "Trần", "Thị", "Hoa", "tran.thi.hoa", "Giáo viên chủ nhiệm, Giáo viên bộ môn",
     "Giáo viên", "0912345678", "hoa.tt@example.edu.vn", "1A:Toán, Tiếng Việt"),
    ("CB002", "Lê", "Văn", "Nam", "le.van.nam", "Giáo viên bộ môn", "Giáo viên", "", "",
     "1A:Giáo dục thể chất; 1B:Giáo dục thể chất"),
)
_PUPIL_EXAMPLES = (
    ("2400000001", "001318001234", "Nguyễn", "Thị", "Mai", "Nữ", "15/03/2018", "Kinh",
     "Việt Nam", "Hà Nội", "Nam Định", "Phường Điện Biên, Hà Nội", "Nguyễn Văn Hùng",
     "Phạm Thị Lan", "", "1A", "1", "", "Nhập học"),
    ("2400000002", "", "Hoàng", "Minh", "Khang", "Nam", "02/11/2018", "Kinh", "Việt Nam",
     "Hà Nội", "Hà Nội", "Phường Ba Đình, Hà Nội", "Hoàng Văn Tú", "Đỗ Thị Hạnh", "", "1B",
     "2", "", ""),
)
# fmt: on

STAFF_SHEET = SheetSpec(
    key="staff",
    name="Cán bộ",
    columns=(
        Column(
            "staff_code",
            "Mã cán bộ",
            help=_("Không bắt buộc; không trùng trong trường."),
            width=12,
            max_length=_limit(Staff, "staff_code"),
            as_text=True,
        ),
        Column("family_name", "Họ", True, _FAMILY_HELP, 14, _limit(Staff, "family_name")),
        _staff_text("middle_name", "Tên đệm", _("Không bắt buộc.")),
        Column("given_name", "Tên", True, _GIVEN_HELP, 10, _limit(Staff, "given_name")),
        Column(
            "username",
            "Tên đăng nhập",
            True,
            _(
                "Không trùng với người dùng đã có; gồm chữ, số và các dấu . @ + - _. "
                "Tài khoản được tạo chưa có mật khẩu; quản trị đặt mật khẩu sau."
            ),
            20,
            150,
        ),
        Column(
            "roles",
            "Vai trò",
            True,
            _(
                "Một hoặc nhiều vai trò, cách nhau bởi dấu phẩy: Giáo viên chủ nhiệm, Giáo viên "
                "bộ môn, Hiệu trưởng, Phó hiệu trưởng, Quản trị nhà trường."
            ),
            36,
        ),
        _staff_text("position", "Chức vụ", _("Không bắt buộc."), 16),
        Column(
            "phone",
            "Điện thoại",
            help=_("Không bắt buộc. Định dạng ô là Văn bản (Text) để giữ số 0 ở đầu."),
            width=14,
            max_length=_limit(Staff, "phone"),
            as_text=True,
        ),
        Column(
            "email", "Email", False, _("Không bắt buộc."), 26, _limit(get_user_model(), "email")
        ),
        Column(
            "teaching",
            "Môn dạy",
            help=_(
                "Không bắt buộc. Dạng “Lớp:môn”; các lớp cách nhau bởi dấu chấm phẩy, các môn "
                "của một lớp cách nhau bởi dấu phẩy, ví dụ “4A:Toán, Tiếng Việt; 4B:Toán”. Môn "
                "ghi theo tên trong chương trình (hoặc mã môn)."
            ),
            width=40,
        ),
    ),
    examples=_STAFF_EXAMPLES,
)


def _pupil_text(key: str, title: str, help_text: str | Promise, width: int = 20) -> Column:
    return Column(key, title, False, help_text, width, _limit(Pupil, key))


_OPTIONAL = _("Không bắt buộc.")

PUPIL_SHEET = SheetSpec(
    key="pupils",
    name="Học sinh",
    columns=(
        Column(
            "ministry_code",
            "Mã học sinh",
            True,
            _(
                "Đúng 10 chữ số, mã của cơ sở dữ liệu ngành. Định dạng cột là Văn bản (Text) "
                "để không mất số 0 ở đầu."
            ),
            14,
            digits=10,
            as_text=True,
        ),
        Column(
            "personal_id",
            "Số định danh cá nhân",
            help=_("Không bắt buộc; đúng 12 chữ số, khớp giới tính và năm sinh."),
            width=20,
            digits=12,
            as_text=True,
        ),
        Column("family_name", "Họ", True, _FAMILY_HELP, 12, _limit(Pupil, "family_name")),
        _pupil_text("middle_name", "Tên đệm", _OPTIONAL, 12),
        Column("given_name", "Tên", True, _GIVEN_HELP, 10, _limit(Pupil, "given_name")),
        Column("sex", "Giới tính", True, _("Nam hoặc Nữ."), 10),
        Column("date_of_birth", "Ngày sinh", True, _DATE_HELP, 12, as_text=True),
        _pupil_text("ethnicity", "Dân tộc", _("Không bắt buộc; để trống là Kinh."), 10),
        _pupil_text("nationality", "Quốc tịch", _("Không bắt buộc; để trống là Việt Nam."), 12),
        _pupil_text("birthplace", "Nơi sinh", _OPTIONAL),
        _pupil_text("hometown", "Quê quán", _OPTIONAL),
        _pupil_text("address", "Nơi ở hiện nay", _OPTIONAL, 28),
        _pupil_text("father_name", "Họ và tên cha", _OPTIONAL),
        _pupil_text("mother_name", "Họ và tên mẹ", _OPTIONAL),
        _pupil_text("guardian_name", "Người giám hộ", _OPTIONAL),
        Column(
            "school_class",
            "Lớp",
            True,
            _("Tên lớp ở trang “Lớp” của tệp này hoặc lớp đã có của trường trong năm học."),
            8,
        ),
        Column(
            "register_number",
            "Số đăng bộ",
            False,
            _OPTIONAL,
            12,
            _limit(Enrolment, "register_number"),
            as_text=True,
        ),
        Column(
            "joined_on",
            "Ngày nhập học",
            help=_("Dạng dd/mm/yyyy hoặc ô kiểu Ngày; để trống là ngày bắt đầu năm học."),
            width=14,
            as_text=True,
        ),
        Column(
            "entry_kind",
            "Hình thức",
            help=_(
                "Nhập học hoặc Chuyển đến (cũng nhận Lên lớp, Ở lại lớp); để trống là Nhập học."
            ),
            width=12,
        ),
    ),
    examples=_PUPIL_EXAMPLES,
)

SHEETS: tuple[SheetSpec, ...] = (CLASS_SHEET, PUPIL_SHEET, STAFF_SHEET)
SHEET_ORDER = {spec.name: index for index, spec in enumerate(SHEETS)}
