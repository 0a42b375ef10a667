"""The demo world's plan: places, schools, staff and pupils, as pure data (no database).

Everything comes from one ``random.Random(20242025)``, so the plan is the same on every call and
``hocba.schools.demo`` can look each piece up by its key before creating it.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from hocba.schools.demo_people import Place as PupilPlace
from hocba.schools.demo_people import (
    PupilPlan,
    UniqueCodes,
    adult_name,
    class_pupils,
    number_register,
)
from hocba.schools.models import Role, Sex
from hocba.schools.services import StaffData
from hocba.schools.subjects import Subject

ADMIN_USERNAME = "quantri"
SEED = 20242025
YEAR_NAME, YEAR_START = "2024-2025", 2024
STARTS_ON, ENDS_ON = datetime.date(2024, 9, 5), datetime.date(2025, 5, 31)
PROVINCE = ("01", "Thành phố Hà Nội", "Sở Giáo dục và Đào tạo Hà Nội")


@dataclass(frozen=True)
class DistrictSpec:
    code: str
    slug: str
    name: str
    place_name: str
    wards: tuple[str, ...]
    streets: tuple[str, ...]

    @property
    def office_name(self) -> str:
        return f"Phòng Giáo dục và Đào tạo {self.name}"


@dataclass(frozen=True)
class SchoolSpec:
    code: str
    slug: str
    name: str
    district: DistrictSpec
    ward: str

    def place(self) -> PupilPlace:
        d = self.district
        return PupilPlace(self.ward, d.name, PROVINCE[1], d.wards, d.streets)

    def address_levels(self) -> list[dict[str, str]]:
        return [
            {"label": "Xã (Phường, Thị trấn)", "value": self.ward},
            {"label": "Huyện (Quận, Thị xã, Thành phố)", "value": self.district.name},
            {"label": "Tỉnh (Thành phố)", "value": PROVINCE[1]},
        ]


CAU_GIAY = DistrictSpec(
    "005",
    "caugiay",
    "Quận Cầu Giấy",
    "Cầu Giấy",
    wards=tuple(
        f"Phường {w}"
        for w in ("Dịch Vọng", "Dịch Vọng Hậu", "Quan Hoa", "Nghĩa Đô", "Nghĩa Tân", "Mai Dịch",
                  "Yên Hòa", "Trung Hòa")
    ),
    streets=("Trần Thái Tông", "Xuân Thủy", "Cầu Giấy", "Duy Tân", "Trần Đăng Ninh",
             "Nguyễn Khánh Toàn", "Hoàng Quốc Việt", "Tô Hiệu", "Nguyễn Phong Sắc", "Hồ Tùng Mậu",
             "Trần Duy Hưng", "Nguyễn Chánh"),
)  # fmt: skip
DONG_DA = DistrictSpec(
    "006",
    "dongda",
    "Quận Đống Đa",
    "Đống Đa",
    wards=tuple(
        f"Phường {w}"
        for w in ("Kim Liên", "Phương Liên", "Trung Tự", "Nam Đồng", "Láng Thượng", "Ô Chợ Dừa",
                  "Khương Thượng", "Quang Trung", "Văn Chương")
    ),
    streets=("Đào Duy Anh", "Phạm Ngọc Thạch", "Lương Định Của", "Xã Đàn", "Tôn Thất Tùng",
             "Kim Liên Mới", "Chùa Láng", "Nguyễn Lương Bằng", "Tây Sơn", "Thái Hà",
             "Đặng Tiến Đông"),
)  # fmt: skip
DISTRICTS = (CAU_GIAY, DONG_DA)
SCHOOLS = (
    SchoolSpec(
        "01005101", "dichvonga", "Trường Tiểu học Dịch Vọng A", CAU_GIAY, "Phường Dịch Vọng"
    ),
    SchoolSpec("01005102", "nghiatan", "Trường Tiểu học Nghĩa Tân", CAU_GIAY, "Phường Nghĩa Tân"),
    SchoolSpec("01006101", "kimlien", "Trường Tiểu học Kim Liên", DONG_DA, "Phường Kim Liên"),
)

_LOWER = (Subject.TIENG_VIET, Subject.TOAN, Subject.DAO_DUC, Subject.TU_NHIEN_XA_HOI)
_UPPER = (
    Subject.TIENG_VIET,
    Subject.TOAN,
    Subject.DAO_DUC,
    Subject.LICH_SU_DIA_LI,
    Subject.KHOA_HOC,
)
# What the homeroom teacher teaches in their own class (DOMAIN §2.1, by grade).
HOMEROOM_SUBJECTS: dict[int, tuple[str, ...]] = {
    1: (*_LOWER, Subject.HOAT_DONG_TRAI_NGHIEM),
    2: (*_LOWER, Subject.HOAT_DONG_TRAI_NGHIEM),
    3: (*_LOWER, Subject.CONG_NGHE, Subject.HOAT_DONG_TRAI_NGHIEM),
    4: (*_UPPER, Subject.CONG_NGHE, Subject.HOAT_DONG_TRAI_NGHIEM),
    5: (*_UPPER, Subject.CONG_NGHE, Subject.HOAT_DONG_TRAI_NGHIEM),
}


@dataclass(frozen=True)
class SubjectTeacherSpec:
    slug: str
    position: str
    subject: str
    grades: tuple[int, ...]
    male_share: float


SUBJECT_TEACHERS = (
    SubjectTeacherSpec("tienganh", "Giáo viên Tiếng Anh", Subject.NGOAI_NGU_1, (3, 4, 5), 0.1),
    SubjectTeacherSpec("theduc", "Giáo viên Giáo dục thể chất", Subject.GIAO_DUC_THE_CHAT,
                       (1, 2, 3, 4, 5), 0.6),
    SubjectTeacherSpec("amnhac", "Giáo viên Âm nhạc", Subject.AM_NHAC, (1, 2, 3, 4, 5), 0.2),
    SubjectTeacherSpec("mithuat", "Giáo viên Mĩ thuật", Subject.MI_THUAT, (1, 2, 3, 4, 5), 0.3),
    SubjectTeacherSpec("tinhoc", "Giáo viên Tin học", Subject.TIN_HOC, (3, 4, 5), 0.5),
)  # fmt: skip


# --- The plan: pure data from the seeded generator --------------------------------------------


@dataclass
class ClassPlan:
    grade: int
    name: str
    teacher: StaffData
    pupils: list[PupilPlan]


@dataclass
class SchoolPlan:
    spec: SchoolSpec
    managers: list[StaffData]
    classes: list[ClassPlan]
    subject_teachers: list[tuple[StaffData, SubjectTeacherSpec]]


@dataclass
class DemoPlan:
    admin: StaffData
    department: StaffData
    district_staff: list[tuple[DistrictSpec, StaffData]]
    schools: list[SchoolPlan] = field(default_factory=list)


def _staff(
    rng: random.Random, username: str, role: str, position: str, male_share: float = 0.15
) -> StaffData:
    """Primary teaching is mostly a women's profession: 15% men unless said otherwise."""
    name = adult_name(rng, Sex.MALE if rng.random() < male_share else Sex.FEMALE)
    phone = rng.choice(("090", "091", "098", "097", "086", "083")) + f"{rng.randrange(10**7):07d}"
    return StaffData(
        username=username,
        family_name=name.family,
        middle_name=name.middle,
        given_name=name.given,
        roles=(role,),
        position=position,
        phone=phone,
    )


def _plan_school(rng: random.Random, codes: UniqueCodes, spec: SchoolSpec) -> SchoolPlan:
    managers = [
        _staff(rng, f"ht.{spec.slug}", Role.PRINCIPAL, "Hiệu trưởng", 0.3),
        _staff(rng, f"pht.{spec.slug}", Role.DEPUTY_PRINCIPAL, "Phó Hiệu trưởng", 0.2),
        _staff(rng, f"qt.{spec.slug}", Role.SCHOOL_ADMIN, "Nhân viên văn thư"),
    ]
    classes, place = [], spec.place()
    for grade in range(1, 6):
        for letter in "AB":
            name = f"{grade}{letter}"
            teacher = _staff(
                rng, f"gv.{spec.slug}.{name.lower()}", Role.HOMEROOM_TEACHER, "Giáo viên"
            )
            pupils = class_pupils(
                rng, codes, grade=grade, year_start=YEAR_START, starts_on=STARTS_ON, place=place
            )
            classes.append(ClassPlan(grade, name, teacher, pupils))
    by_grade = {g: [p for c in classes if c.grade == g for p in c.pupils] for g in range(1, 6)}
    number_register(by_grade, YEAR_START)
    subject_teachers = [
        (
            _staff(
                rng, f"gvbm.{spec.slug}.{s.slug}", Role.SUBJECT_TEACHER, s.position, s.male_share
            ),
            s,
        )
        for s in SUBJECT_TEACHERS
    ]
    return SchoolPlan(spec, managers, classes, subject_teachers)


def build_plan(schools: Sequence[SchoolSpec] = SCHOOLS) -> DemoPlan:
    """The whole demo world, the same on every call (a synthetic district passes more schools:
    :mod:`hocba.jobs.district`)."""
    rng = random.Random(SEED)  # noqa: S311  (reproducible demo data, not secrets)
    codes = UniqueCodes(rng)
    plan = DemoPlan(
        admin=_staff(rng, ADMIN_USERNAME, Role.SYSTEM_ADMIN, "Quản trị hệ thống", 0.6),
        department=_staff(
            rng, "so.hanoi", Role.DEPARTMENT_STAFF, "Chuyên viên Phòng Giáo dục Tiểu học", 0.4
        ),
        district_staff=[
            (d, _staff(rng, f"phong.{d.slug}", Role.DISTRICT_STAFF, "Chuyên viên", 0.4))
            for d in DISTRICTS
        ],
    )
    plan.schools = [_plan_school(rng, codes, spec) for spec in schools]
    return plan
