"""Deterministic, realistic people for the demo world (``hocba demo``): names and pupils.

Pure data and pure functions of a ``random.Random``: no database. The name lists are data, not
user-facing text, so they are not translatable. Family names are weighted roughly like the
population of northern Việt Nam (Nguyễn about 38%, then Trần, Lê, Phạm, Hoàng ...); the lists
deliberately mix names that exercise Vietnamese collation (DOMAIN §7): Đ after D (Dung, Duy,
Dương, Đan, Đức), A/Ă/Â and tone order (An, Anh, Ánh, Ân, Âu), and Ô/Ơ/Ư (Ông, Sơn, Hùng, Hưng,
Hương, Thư, Trương).
"""

from __future__ import annotations

import datetime
import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hocba.schools.models import EntryKind, Sex
from hocba.schools.services import PupilData


class Weighted:
    """A weighted list of strings to draw from."""

    def __init__(self, pairs: Sequence[tuple[str, int]]) -> None:
        self.values = [value for value, _ in pairs]
        self.cum_weights = list(itertools.accumulate(weight for _, weight in pairs))

    def draw(self, rng: random.Random) -> str:
        return rng.choices(self.values, cum_weights=self.cum_weights)[0]


FAMILY = Weighted(
    [("Nguyễn", 380), ("Trần", 110), ("Lê", 95), ("Phạm", 70), ("Hoàng", 45), ("Huỳnh", 6),
     ("Phan", 40), ("Vũ", 35), ("Võ", 5), ("Đặng", 21), ("Bùi", 20), ("Đỗ", 14), ("Hồ", 13),
     ("Ngô", 13), ("Dương", 10), ("Lý", 5), ("Đinh", 8), ("Trịnh", 6), ("Đào", 6), ("Trương", 5),
     ("Mai", 4), ("Lương", 4), ("Cao", 3), ("Tạ", 3), ("Lưu", 3), ("Kiều", 2), ("Ông", 1),
     ("Âu", 1)]
)  # fmt: skip
MINORITY_FAMILY = {
    "Tày": Weighted([("Hoàng", 4), ("Nông", 4), ("Lục", 2), ("Ma", 1), ("Triệu", 1)]),
    "Nùng": Weighted([("Nông", 3), ("Lương", 2), ("Hoàng", 2), ("Vi", 1)]),
    "Mường": Weighted([("Bùi", 4), ("Đinh", 3), ("Quách", 2), ("Hà", 1)]),
    "Thái": Weighted([("Lò", 3), ("Lường", 2), ("Cầm", 2), ("Vi", 1)]),
}
ETHNICITY = Weighted([("Kinh", 955), ("Tày", 15), ("Mường", 15), ("Nùng", 10), ("Thái", 5)])
MINORITY_HOMETOWN = {
    "Tày": ("Cao Bằng", "Lạng Sơn", "Tuyên Quang"),
    "Nùng": ("Lạng Sơn", "Cao Bằng"),
    "Mường": ("Hòa Bình", "Phú Thọ", "Thanh Hóa"),
    "Thái": ("Sơn La", "Điện Biên", "Nghệ An"),
}
HOMETOWNS = Weighted(
    [("Hà Nội", 50), ("Nam Định", 6), ("Thái Bình", 6), ("Hà Nam", 4), ("Nghệ An", 5),
     ("Thanh Hóa", 5), ("Hải Dương", 4), ("Bắc Ninh", 4), ("Hưng Yên", 4), ("Phú Thọ", 3),
     ("Ninh Bình", 3), ("Hải Phòng", 3), ("Vĩnh Phúc", 2), ("Hà Tĩnh", 2)]
)  # fmt: skip

BOY_MIDDLE = Weighted(
    [("Văn", 8), ("Đức", 12), ("Minh", 16), ("Quang", 8), ("Gia", 12), ("Hoàng", 8), ("Bảo", 6),
     ("Tuấn", 5), ("Anh", 6), ("Đăng", 5), ("Nhật", 5), ("Hữu", 4), ("Trọng", 3), ("Thành", 3),
     ("Thiên", 4), ("Hải", 3), ("Đình", 3), ("Xuân", 2), ("Hoàng Gia", 2), ("Ngọc Bảo", 1)]
)  # fmt: skip
GIRL_MIDDLE = Weighted(
    [("Thị", 10), ("Ngọc", 12), ("Thu", 6), ("Khánh", 10), ("Bảo", 8), ("Phương", 8), ("Minh", 8),
     ("Hà", 5), ("Mai", 4), ("Tuệ", 4), ("Diệu", 3), ("Hoàng", 3), ("Quỳnh", 4), ("Gia", 3),
     ("Thanh", 4), ("An", 3), ("Ngọc Bảo", 2), ("Thị Thu", 1), ("Thị Ngọc", 1)]
)  # fmt: skip
BOY_GIVEN = Weighted(
    [("An", 6), ("Anh", 5), ("Ân", 3), ("Bảo", 6), ("Bình", 2), ("Cường", 2), ("Dũng", 3),
     ("Duy", 3), ("Dương", 2), ("Đạt", 4), ("Đăng", 2), ("Đức", 5), ("Hải", 3), ("Hiếu", 3),
     ("Hoàng", 2), ("Hùng", 2), ("Hưng", 3), ("Huy", 5), ("Khang", 5), ("Khánh", 3), ("Khôi", 6),
     ("Kiên", 3), ("Lâm", 4), ("Long", 4), ("Minh", 8), ("Nam", 5), ("Nguyên", 3), ("Nhật", 2),
     ("Phát", 2), ("Phong", 3), ("Phúc", 6), ("Quang", 3), ("Quân", 5), ("Sơn", 3), ("Tâm", 2),
     ("Thành", 3), ("Thắng", 2), ("Tiến", 2), ("Toàn", 2), ("Trí", 3), ("Trung", 2), ("Tuấn", 3),
     ("Tùng", 3), ("Việt", 2), ("Vinh", 2), ("Vũ", 2)]
)  # fmt: skip
GIRL_GIVEN = Weighted(
    [("An", 5), ("Anh", 8), ("Ánh", 3), ("Châu", 2), ("Chi", 5), ("Diệp", 2), ("Dung", 2),
     ("Đan", 2), ("Giang", 3), ("Hà", 4), ("Hân", 5), ("Hạnh", 2), ("Hiền", 2), ("Hoa", 2),
     ("Hương", 3), ("Huyền", 2), ("Khuê", 2), ("Lan", 2), ("Linh", 7), ("Ly", 3), ("Mai", 4),
     ("My", 5), ("Ngân", 4), ("Ngọc", 4), ("Nhi", 6), ("Như", 2), ("Nhung", 1), ("Oanh", 1),
     ("Phương", 3), ("Quỳnh", 3), ("Tâm", 2), ("Thảo", 5), ("Thư", 4), ("Thương", 2),
     ("Trang", 5), ("Trâm", 2), ("Uyên", 3), ("Vân", 2), ("Vy", 6), ("Yến", 3)]
)  # fmt: skip
MAN_MIDDLE = Weighted(
    [("Văn", 30), ("Đức", 10), ("Minh", 10), ("Quang", 8), ("Hữu", 6), ("Xuân", 5), ("Mạnh", 5),
     ("Thanh", 5), ("Ngọc", 4), ("Tiến", 4), ("Anh", 4), ("Duy", 4), ("Trung", 3), ("Công", 3),
     ("Đình", 4), ("Việt", 3)]
)  # fmt: skip
MAN_GIVEN = Weighted(
    [(name, 1) for name in ("Hùng", "Dũng", "Tuấn", "Hải", "Thắng", "Cường", "Long", "Nam", "Sơn",
     "Trung", "Hoàng", "Quang", "Đức", "Tùng", "Hưng", "Việt", "Thành", "Hiếu", "Bình", "Khoa",
     "Phong", "Linh", "Tú", "Huy", "Đạt", "Lực")]
)  # fmt: skip
WOMAN_MIDDLE = Weighted(
    [("Thị", 45), ("Thu", 8), ("Thanh", 8), ("Ngọc", 6), ("Minh", 5), ("Phương", 5), ("Hồng", 4),
     ("Kim", 4), ("Mai", 3), ("Bích", 3), ("Diệu", 2), ("Hải", 2)]
)  # fmt: skip
WOMAN_GIVEN = Weighted(
    [(name, 1) for name in ("Hương", "Lan", "Hoa", "Hằng", "Hạnh", "Thủy", "Nga", "Huyền", "Thảo",
     "Trang", "Linh", "Hà", "Mai", "Phương", "Yến", "Nhung", "Vân", "Loan", "Oanh", "Giang",
     "Dung", "Thúy", "Hiền", "Ngọc", "Anh", "Liên", "Nhàn")]
)  # fmt: skip


@dataclass(frozen=True)
class Name:
    family: str
    middle: str
    given: str

    @property
    def full(self) -> str:
        return " ".join(p for p in (self.family, self.middle, self.given) if p)


def child_name(rng: random.Random, sex: str, family: str) -> Name:
    middle_list, given_list = (
        (BOY_MIDDLE, BOY_GIVEN) if sex == Sex.MALE else (GIRL_MIDDLE, GIRL_GIVEN)
    )
    given = given_list.draw(rng)
    middle = middle_list.draw(rng)
    while given in middle.split() or family in middle.split():  # no "Hoàng Hoàng", "Ngọc Ngọc"
        middle = middle_list.draw(rng)
    return Name(family, middle, given)


def adult_name(rng: random.Random, sex: str, family: str | None = None) -> Name:
    family = family or FAMILY.draw(rng)
    if sex == Sex.MALE:
        return Name(family, MAN_MIDDLE.draw(rng), MAN_GIVEN.draw(rng))
    return Name(family, WOMAN_MIDDLE.draw(rng), WOMAN_GIVEN.draw(rng))


class UniqueCodes:
    """Random codes, never the same twice in one run."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()

    def make(self, build: Callable[[random.Random], str]) -> str:
        code = build(self.rng)
        while code in self.seen:
            code = build(self.rng)
        self.seen.add(code)
        return code

    def ministry_code(self, province_prefix: str) -> str:
        """10 digits (DOMAIN §5); the sector database starts them with the province code."""
        return self.make(lambda rng: f"{province_prefix}{rng.randrange(10**8):08d}")

    def personal_id(self, birth_province: str, sex: str, born: datetime.date) -> str:
        """Birth province, century-and-sex digit (2 boy / 3 girl for 2000-2099), year, 6 digits."""
        century_sex = (born.year // 100 - 19) * 2 + (1 if sex == Sex.FEMALE else 0)
        head = f"{birth_province}{century_sex}{born.year % 100:02d}"
        return self.make(lambda rng: f"{head}{rng.randrange(10**6):06d}")


@dataclass(frozen=True)
class Place:
    """Where pupils of a school live: its ward and district, the district's wards and streets."""

    ward: str
    district: str
    province: str
    wards: tuple[str, ...]
    streets: tuple[str, ...]

    def address(self, rng: random.Random) -> str:
        ward = self.ward if rng.random() < 0.6 else rng.choice(self.wards)
        street = rng.choice(self.streets)
        if rng.random() < 0.25:
            home = f"Phòng {rng.randint(2, 25)}{rng.randint(1, 12):02d}, tòa {rng.choice('ABCD')}"
            home += f"{rng.randint(1, 3)}, {street}"
        elif rng.random() < 0.6:
            home = f"Số {rng.randint(1, 60)}, ngõ {rng.randint(2, 300)} {street}"
        else:
            home = f"Số {rng.randint(1, 250)} {street}"
        return f"{home}, {ward}, {self.district}, {self.province}"


@dataclass
class PupilPlan:
    data: PupilData
    joined_on: datetime.date
    entry_kind: str
    register_number: str = ""


def _birth_date(rng: random.Random, year: int) -> datetime.date:
    first = datetime.date(year, 1, 1)
    days = (datetime.date(year + 1, 1, 1) - first).days
    return first + datetime.timedelta(days=rng.randrange(days))


def _parents(rng: random.Random, family: str, ethnicity: str) -> tuple[str, str]:
    """Father and mother; the father shares the pupil's family name. A few have no father listed."""
    wives = MINORITY_FAMILY.get(ethnicity, FAMILY)
    if rng.random() < 0.02:  # mother only: the child carries her family name
        return "", adult_name(rng, Sex.FEMALE, family).full
    mother_family = wives.draw(rng)
    return adult_name(rng, Sex.MALE, family).full, adult_name(rng, Sex.FEMALE, mother_family).full


def _hometown(rng: random.Random, ethnicity: str) -> str:
    if ethnicity in MINORITY_HOMETOWN:
        return rng.choice(MINORITY_HOMETOWN[ethnicity])
    return HOMETOWNS.draw(rng)


def make_pupil(
    rng: random.Random, codes: UniqueCodes, *, grade: int, year_start: int, place: Place
) -> PupilData:
    """One pupil of ``grade`` in the school year starting ``year_start`` (grade 1 born at 6)."""
    sex = Sex.MALE if rng.random() < 0.515 else Sex.FEMALE
    ethnicity = ETHNICITY.draw(rng)
    family = MINORITY_FAMILY.get(ethnicity, FAMILY).draw(rng)
    father, mother = _parents(rng, family, ethnicity)
    name = child_name(rng, sex, family)
    born = _birth_date(rng, year_start - 5 - grade)
    has_id = rng.random() < 0.9  # DOMAIN §5: some pupils still lack a personal ID
    return PupilData(
        ministry_code=codes.ministry_code("01"),
        personal_id=codes.personal_id("001", sex, born) if has_id else None,
        family_name=name.family,
        middle_name=name.middle,
        given_name=name.given,
        sex=sex,
        date_of_birth=born,
        ethnicity=ethnicity,
        birthplace="Hà Nội",
        hometown=_hometown(rng, ethnicity),
        address=place.address(rng),
        father_name=father,
        mother_name=mother,
    )


def class_pupils(
    rng: random.Random,
    codes: UniqueCodes,
    *,
    grade: int,
    year_start: int,
    starts_on: datetime.date,
    place: Place,
) -> list[PupilPlan]:
    """28-35 pupils; in grades 2-5 about 2% transferred in during the autumn."""
    plans = []
    for _ in range(rng.randint(28, 35)):
        data = make_pupil(rng, codes, grade=grade, year_start=year_start, place=place)
        if grade == 1:
            plans.append(PupilPlan(data, starts_on, EntryKind.NEW))
        elif rng.random() < 0.02:
            joined = starts_on + datetime.timedelta(days=rng.randint(20, 130))
            plans.append(PupilPlan(data, joined, EntryKind.TRANSFER_IN))
        else:
            plans.append(PupilPlan(data, starts_on, EntryKind.PROMOTED))
    return plans


def number_register(pupils_by_grade: dict[int, list[PupilPlan]], year_start: int) -> None:
    """Số đăng bộ "125/2021": numbered per entry year; transfers get numbers of the current year."""
    counters: dict[int, int] = {}

    def next_number(year: int) -> str:
        counters[year] = counters.get(year, 0) + 1
        return f"{counters[year]}/{year}"

    for grade in sorted(pupils_by_grade):
        for pupil in pupils_by_grade[grade]:
            if pupil.entry_kind != EntryKind.TRANSFER_IN:
                pupil.register_number = next_number(year_start - grade + 1)
    for grade in sorted(pupils_by_grade):
        for pupil in pupils_by_grade[grade]:
            if pupil.entry_kind == EntryKind.TRANSFER_IN:
                pupil.register_number = next_number(year_start)
