"""Who may look at which rollout dashboard (issue 9 §3), on top of :mod:`hocba.schools.access`.

* system administrators: every level;
* Department staff: their province, its districts, schools and classes;
* district staff: their district, its schools and classes;
* principals and deputy principals: their own school and its classes;
* everyone else (teachers, school administrators, anonymous): nothing.
"""

from __future__ import annotations

from typing import Any

from hocba.schools import access
from hocba.schools.models import District, Province, Role, School, SchoolClass

PRINCIPAL_ROLES = frozenset({Role.PRINCIPAL, Role.DEPUTY_PRINCIPAL})


def _roles(user: Any) -> frozenset[str]:
    staff = access.staff_of(user)
    return staff.role_set if staff else frozenset()


def is_school_principal(user: Any) -> bool:
    staff = access.staff_of(user)
    return bool(staff and staff.school_id and staff.role_set & PRINCIPAL_ROLES)


def can_monitor(user: Any) -> bool:
    """Sees at least one dashboard: the nav link and the entry page ask this."""
    return access.is_above_school(user) or is_school_principal(user)


def can_see_country(user: Any) -> bool:
    return access.is_system_admin(user)


def can_see_province(user: Any, province: Province) -> bool:
    if access.is_system_admin(user):
        return True
    staff = access.staff_of(user)
    return bool(
        staff and Role.DEPARTMENT_STAFF in staff.role_set and staff.province_id == province.pk
    )


def can_see_district(user: Any, district: District) -> bool:
    if can_see_province(user, district.province):
        return True
    staff = access.staff_of(user)
    return bool(
        staff and Role.DISTRICT_STAFF in staff.role_set and staff.district_id == district.pk
    )


def can_see_school(user: Any, school: School) -> bool:
    if not can_monitor(user):
        return False
    return access.visible_schools(user).filter(pk=school.pk).exists()


def can_see_class(user: Any, school_class: SchoolClass) -> bool:
    return can_see_school(user, school_class.school)


def entry_point(user: Any) -> tuple[str, int | None] | None:
    """The highest level the user may see: ("country", None), ("province", id), ..."""
    staff = access.staff_of(user)
    if access.is_system_admin(user):
        return ("country", None)
    if staff is None:
        return None
    roles = _roles(user)
    if Role.DEPARTMENT_STAFF in roles and staff.province_id:
        return ("province", staff.province_id)
    if Role.DISTRICT_STAFF in roles and staff.district_id:
        return ("district", staff.district_id)
    if staff.school_id and roles & PRINCIPAL_ROLES:
        return ("school", staff.school_id)
    return None
