"""Fixtures shared by every app's tests: a small school world with one user per role."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from hocba.schools.models import (
    District,
    Enrolment,
    Province,
    Pupil,
    Role,
    School,
    SchoolClass,
    SchoolYear,
    Staff,
    StaffRole,
    TeachingAssignment,
)

PASSWORD = "mat-khau-thu-nghiem"


@dataclass
class SchoolSide:
    school: School
    classes: list[SchoolClass]
    pupils: list[Pupil]
    users: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    province: Province
    year: SchoolYear
    districts: list[District]
    own: SchoolSide
    foreign: SchoolSide
    users: dict[str, Any]


def make_user(username: str, roles: list[str], **scope: Any) -> Any:
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    family = username.split("_")[0]
    staff = Staff.objects.create(
        user=user, family_name="Nguyễn", middle_name="Văn", given_name=family.title(), **scope
    )
    for role in roles:
        StaffRole.objects.create(staff=staff, role=role)
    return user


def _make_school(code: str, name: str, province: Province, district: District) -> School:
    return School.objects.create(code=code, name=name, province=province, district=district)


def _make_side(prefix: str, school: School, year: SchoolYear, first_code: int) -> SchoolSide:
    homeroom = make_user(f"{prefix}_gvcn", [Role.HOMEROOM_TEACHER], school=school)
    subject = make_user(f"{prefix}_gvbm", [Role.SUBJECT_TEACHER], school=school)
    users = {
        "homeroom_teacher": homeroom,
        "subject_teacher": subject,
        "principal": make_user(f"{prefix}_ht", [Role.PRINCIPAL], school=school),
        "deputy_principal": make_user(f"{prefix}_pht", [Role.DEPUTY_PRINCIPAL], school=school),
        "school_admin": make_user(f"{prefix}_qt", [Role.SCHOOL_ADMIN], school=school),
    }
    class_a = SchoolClass.objects.create(
        school=school, school_year=year, grade=4, name="4A", homeroom_teacher=homeroom.staff
    )
    class_b = SchoolClass.objects.create(school=school, school_year=year, grade=4, name="4B")
    TeachingAssignment.objects.create(teacher=subject.staff, school_class=class_a, subject="toan")
    names = [("Trần", "Thị", "Ánh"), ("Lê", "Văn", "An"), ("Phạm", "Minh", "Đức")]
    pupils = []
    for index, (family, middle, given) in enumerate(names * 2):
        pupil = Pupil.objects.create(
            ministry_code=f"{first_code + index:010d}",
            family_name=family,
            middle_name=middle,
            given_name=given,
            sex="nu" if middle == "Thị" else "nam",
            date_of_birth=datetime.date(2015, 1 + index, 10),
        )
        Enrolment.objects.create(
            pupil=pupil,
            school_class=class_a if index < 3 else class_b,
            school_year=year,
            joined_on=datetime.date(2024, 9, 5),
            register_number=f"{prefix.upper()}-{index + 1}",
        )
        pupils.append(pupil)
    return SchoolSide(school=school, classes=[class_a, class_b], pupils=pupils, users=users)


@pytest.fixture
def world(db: Any) -> World:
    """Two schools in two districts of one province; every role on both sides."""
    province = Province.objects.create(code="01", name="Thành phố Hà Nội")
    districts = [
        District.objects.create(province=province, code="001", name="Quận Ba Đình"),
        District.objects.create(province=province, code="002", name="Quận Hoàn Kiếm"),
    ]
    year = SchoolYear.objects.create(
        name="2024-2025",
        start_year=2024,
        starts_on=datetime.date(2024, 9, 5),
        ends_on=datetime.date(2025, 5, 31),
        is_current=True,
    )
    own = _make_side(
        "a", _make_school("01001", "Trường Tiểu học A", province, districts[0]), year, 1
    )
    foreign = _make_side(
        "b", _make_school("01002", "Trường Tiểu học B", province, districts[1]), year, 101
    )
    users = {
        "district_staff": make_user(
            "phong_badinh", [Role.DISTRICT_STAFF], district=districts[0], province=province
        ),
        "department_staff": make_user("so_hanoi", [Role.DEPARTMENT_STAFF], province=province),
        "system_admin": make_user("quantri", [Role.SYSTEM_ADMIN]),
    }
    return World(province, year, districts, own, foreign, users)


@pytest.fixture(autouse=True)
def _empty_cache() -> Any:
    """Throttle counters and cached values never leak from one test into another."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
