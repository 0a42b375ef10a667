"""Read-side queries for the school world; callers pass what the access check allowed."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from hocba.common.vietnamese import name_sort_key
from hocba.schools import access
from hocba.schools.models import Enrolment, School, SchoolClass, SchoolYear


def current_school_year() -> SchoolYear | None:
    return SchoolYear.objects.filter(is_current=True).first() or SchoolYear.objects.first()


def classes_of_school(
    user: Any, school: School, *, year_name: str | None = None
) -> QuerySet[SchoolClass]:
    """The classes of a school the user may see, in one year (default: the current one)."""
    year = SchoolYear.objects.filter(name=year_name).first() if year_name else current_school_year()
    return (
        access.visible_classes(user)
        .filter(school=school, school_year=year)
        .select_related("school_year", "homeroom_teacher")
        .annotate(pupil_count=Count("enrolments", filter=Q(enrolments__left_on__isnull=True)))
        .order_by("grade", "name")
    )


def class_roster(school_class: SchoolClass) -> list[Enrolment]:
    """The pupils currently in a class, in Vietnamese name order (DOMAIN §7)."""
    enrolments = Enrolment.objects.filter(
        school_class=school_class, left_on__isnull=True
    ).select_related("pupil")
    return sorted(
        enrolments,
        key=lambda e: (
            name_sort_key(e.pupil.family_name, e.pupil.middle_name, e.pupil.given_name),
            e.pupil.date_of_birth,
            e.pupil.ministry_code,
        ),
    )
