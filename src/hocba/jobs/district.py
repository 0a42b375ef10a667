"""A synthetic district for load tests and the throughput benchmark: NOT FOR PRODUCTION.

The demo world (:mod:`hocba.schools.demo`) with as many schools as asked: each has the demo's ten
classes 1A-5B of 28-35 pupils, its principal, deputy and teachers, a whole year of assessments,
demo certificates for every signer and a seal. Schools alternate between the demo's two
districts and are named "Trường Tiểu học Thử nghiệm NNN" (codes ``0190NNNN``), so they are never
taken for real ones. Deterministic and idempotent like the demo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from hocba.assessment import services as assessment_services
from hocba.assessment.demo import seed_assessments
from hocba.assessment.models import Lock
from hocba.schools.demo import Writer, _Seeder
from hocba.schools.demo_plan import DISTRICTS, SchoolSpec, build_plan
from hocba.schools.models import School, SchoolClass, SchoolYear

PUPILS_PER_SCHOOL = 315  # about: ten classes of 28-35


def school_specs(count: int) -> list[SchoolSpec]:
    specs = []
    for number in range(1, count + 1):
        district = DISTRICTS[number % len(DISTRICTS)]
        specs.append(
            SchoolSpec(
                f"0190{number:04d}",
                f"thu{number:04d}",
                f"Trường Tiểu học Thử nghiệm {number:03d}",
                district,
                district.wards[number % len(district.wards)],
            )
        )
    return specs


@dataclass(frozen=True)
class District:
    school_year: SchoolYear
    schools: list[School]
    admin: Any
    pki: Any


def seed_district(
    school_count: int, *, classes_per_school: int = 10, stdout: Writer | None = None
) -> District:
    """The schools, their people and a year of assessments, then the demo PKI for all signers.

    ``classes_per_school`` keeps only the first classes of each school (1A, 1B, 2A, ...): a
    small district for tests.
    """
    from hocba.signing.demo import seed_demo_pki

    specs = school_specs(school_count)
    plan = build_plan(specs)
    for school in plan.schools:
        school.classes = school.classes[:classes_per_school]
    seeder = _Seeder(stdout)
    with transaction.atomic():
        seeder.seed(plan)
        assert seeder.year is not None
        seed_assessments(actor=seeder.admin, school_year=seeder.year)
    pki = seed_demo_pki()
    schools = list(School.objects.filter(code__in=[s.code for s in specs]).order_by("code"))
    return District(school_year=seeder.year, schools=schools, admin=seeder.admin, pki=pki)


def finish_classes(schools: list[School], school_year: SchoolYear) -> list[SchoolClass]:
    """Each homeroom teacher confirms their class finished (the lock compiling needs)."""
    classes = list(
        SchoolClass.objects.filter(school__in=schools, school_year=school_year)
        .select_related("school", "homeroom_teacher__user")
        .order_by("school__code", "grade", "name")
    )
    for school_class in classes:
        locked = Lock.objects.filter(
            school_class=school_class, is_class_finished=True, unlocked_at__isnull=True
        ).exists()
        if not locked and school_class.homeroom_teacher is not None:
            assessment_services.finish_class(
                actor=school_class.homeroom_teacher.user, school_class=school_class
            )
    return classes
