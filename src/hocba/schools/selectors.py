"""Read-side queries for the school world; callers pass what the access check allowed."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from hocba.common.text import clean_text, fold
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


def search_pupils(user: Any, school: School, text: str, *, limit: int = 30) -> list[Enrolment]:
    """Pupils of a school this year whose code starts with, or whose name contains, ``text``.

    Name matching ignores case and diacritics and works by word prefix, so "anh" finds "Ánh"
    (not "Thanh") and "ng anh" finds "Nguyễn Thị Ánh".
    """
    needle = fold(clean_text(text))
    if len(needle) < 2:
        return []
    enrolments = (
        Enrolment.objects.filter(
            school_class__school=school,
            school_year=current_school_year(),
            left_on__isnull=True,
            pupil__in=access.visible_pupils(user),
        )
        .select_related("pupil", "school_class")
        .order_by()
    )
    if needle.isdigit():
        enrolments = enrolments.filter(pupil__ministry_code__startswith=needle)
        matches = list(enrolments[:limit])
    else:
        words = needle.split()
        matches = [e for e in enrolments if _name_matches(words, e.pupil.full_name)][:limit]
    return sorted(
        matches,
        key=lambda e: name_sort_key(e.pupil.family_name, e.pupil.middle_name, e.pupil.given_name),
    )


def _name_matches(words: list[str], full_name: str) -> bool:
    name_words = fold(full_name).split()
    return all(any(part.startswith(word) for part in name_words) for word in words)
