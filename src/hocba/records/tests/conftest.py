"""Fixtures for the records tests: class 4A of the shared world, filled in and finished."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from hocba.assessment import services as assessment_services
from hocba.assessment.tests.marks import fill_end_of_year
from hocba.conftest import World
from hocba.schools.models import Enrolment, SchoolClass, SchoolYear, SchoolYearProfile

BASE_URL = "https://hocba.test"


@pytest.fixture(autouse=True)
def vietnamese() -> Iterator[None]:
    with translation.override("vi"):
        yield


def class_4a(world: World) -> SchoolClass:
    return world.own.classes[0]


def roster(school_class: SchoolClass) -> list[Enrolment]:
    return list(
        Enrolment.objects.filter(school_class=school_class, left_on__isnull=True)
        .select_related("pupil", "school_class")
        .order_by("pk")
    )


def finish(world: World) -> None:
    assessment_services.finish_class(
        actor=world.own.users["homeroom_teacher"], school_class=class_4a(world)
    )


def _previous_years(world: World) -> None:
    """Pupil 1 did grade 3 at the other school, then moved: the study history shows both."""
    earlier = SchoolYear.objects.create(
        name="2023-2024",
        start_year=2023,
        starts_on=datetime.date(2023, 9, 5),
        ends_on=datetime.date(2024, 5, 31),
    )
    class_3a = SchoolClass.objects.create(
        school=world.foreign.school, school_year=earlier, grade=3, name="3A"
    )
    Enrolment.objects.create(
        pupil=world.own.pupils[0],
        school_class=class_3a,
        school_year=earlier,
        register_number="B-57",
        joined_on=datetime.date(2023, 9, 5),
    )
    SchoolYearProfile.objects.create(
        school=world.foreign.school,
        school_year=earlier,
        school_name="Trường Tiểu học B (tên cũ)",
        address_levels=[{"label": "Tỉnh (Thành phố)", "value": "Thành phố Hà Nội"}],
        place_name="Hoàn Kiếm",
    )


@pytest.fixture
def filled(world: World) -> World:
    """Class 4A with every end-of-year mark, personal IDs, a year profile and a history."""
    SchoolYearProfile.objects.create(
        school=world.own.school,
        school_year=world.year,
        school_name="Trường Tiểu học A",
        address_levels=[
            {"label": "Xã (Phường, Thị trấn)", "value": "Phường Điện Biên"},
            {"label": "Huyện (Quận, Thị xã, Thành phố)", "value": "Quận Ba Đình"},
            {"label": "Tỉnh (Thành phố)", "value": "Thành phố Hà Nội"},
        ],
        place_name="Ba Đình",
    )
    for index, enrolment in enumerate(roster(class_4a(world))):
        enrolment.pupil.personal_id = f"00131501{index:04d}"
        enrolment.pupil.save(update_fields=["personal_id"])
        fill_end_of_year(enrolment)
    _previous_years(world)
    return world


def compile_4a(world: World, user: str = "homeroom_teacher", **kwargs: Any) -> Any:
    from hocba.records.services import compile_class

    return compile_class(
        actor=world.own.users[user],
        school_class=class_4a(world),
        verify_base_url=BASE_URL,
        **kwargs,
    )
