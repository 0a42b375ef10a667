"""The one permission check (STYLE §2, issue 2 §4).

Every view, API endpoint and command asks here. Scopes:

* system administrator: everything, read and write;
* Department staff: read the schools of their province; district staff: of their district;
* principal, deputy principal, school administrator: read and write their own school;
* homeroom and subject teachers: read their own school, and only the classes they are homeroom
  teacher of or teach in, and the pupils of those classes.

Above the school everything is read-only, and reads of a pupil's personal data from above the
school are written to the audit log (:func:`log_personal_data_read`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from hocba.common.errors import PermissionRefused
from hocba.schools.models import (
    Enrolment,
    Pupil,
    Role,
    School,
    SchoolClass,
    Staff,
    TeachingAssignment,
)

SCHOOL_MANAGERS = frozenset({Role.PRINCIPAL, Role.DEPUTY_PRINCIPAL, Role.SCHOOL_ADMIN})


def staff_of(user: Any) -> Staff | None:
    """The active user's staff profile; an inactive account acts for no one."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    try:
        return user.staff
    except Staff.DoesNotExist:
        return None


def is_system_admin(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    staff = staff_of(user)
    return bool(user.is_superuser or (staff and Role.SYSTEM_ADMIN in staff.role_set))


def is_school_manager(user: Any, school: School) -> bool:
    staff = staff_of(user)
    return bool(staff and staff.school_id == school.pk and staff.role_set & SCHOOL_MANAGERS)


def is_above_school(user: Any) -> bool:
    """District, Department and system staff look at schools from outside."""
    staff = staff_of(user)
    if is_system_admin(user):
        return True
    return bool(staff and staff.role_set & {Role.DISTRICT_STAFF, Role.DEPARTMENT_STAFF})


def visible_schools(user: Any) -> QuerySet[School]:
    if is_system_admin(user):
        return School.objects.all()
    staff = staff_of(user)
    if staff is None or not user.is_active:
        return School.objects.none()
    condition = Q(pk__in=[])
    if Role.DEPARTMENT_STAFF in staff.role_set and staff.province_id:
        condition |= Q(province_id=staff.province_id)
    if Role.DISTRICT_STAFF in staff.role_set and staff.district_id:
        condition |= Q(district_id=staff.district_id)
    if staff.school_id:
        condition |= Q(pk=staff.school_id)
    return School.objects.filter(condition)


def visible_classes(user: Any) -> QuerySet[SchoolClass]:
    if is_system_admin(user):
        return SchoolClass.objects.all()
    staff = staff_of(user)
    if staff is None or not user.is_active:
        return SchoolClass.objects.none()
    condition = Q(pk__in=[])
    if staff.role_set & {Role.DEPARTMENT_STAFF, Role.DISTRICT_STAFF}:
        condition |= Q(school__in=visible_schools(user))
    if staff.school_id and staff.role_set & SCHOOL_MANAGERS:
        condition |= Q(school_id=staff.school_id)
    if staff.school_id:
        taught = TeachingAssignment.objects.filter(teacher=staff).values("school_class_id")
        condition |= Q(school_id=staff.school_id) & (Q(homeroom_teacher=staff) | Q(pk__in=taught))
    return SchoolClass.objects.filter(condition)


def visible_pupils(user: Any) -> QuerySet[Pupil]:
    if is_system_admin(user):
        return Pupil.objects.all()
    staff = staff_of(user)
    if staff is None or not user.is_active:
        return Pupil.objects.none()
    if staff.role_set & ({Role.DEPARTMENT_STAFF, Role.DISTRICT_STAFF} | SCHOOL_MANAGERS):
        enrolments = Enrolment.objects.filter(school_class__school__in=visible_schools(user))
    else:
        # Teachers see the pupils currently in their classes.
        enrolments = Enrolment.objects.filter(
            school_class__in=visible_classes(user), left_on__isnull=True
        )
    return Pupil.objects.filter(pk__in=enrolments.values("pupil_id"))


def current_school(pupil: Pupil) -> School | None:
    """The school of the pupil's latest enrolment: the one that keeps their details now."""
    enrolments = pupil.enrolments.select_related("school_class__school")
    latest = enrolments.order_by("-joined_on", "-pk").first()
    return latest.school_class.school if latest else None


def school_of(obj: Model) -> School | None:
    if isinstance(obj, School):
        return obj
    if isinstance(obj, SchoolClass | Staff):
        return obj.school
    if isinstance(obj, Enrolment | TeachingAssignment):
        return obj.school_class.school
    return None


def can_view(user: Any, obj: Model) -> bool:
    if isinstance(obj, School):
        return visible_schools(user).filter(pk=obj.pk).exists()
    if isinstance(obj, SchoolClass):
        return visible_classes(user).filter(pk=obj.pk).exists()
    if isinstance(obj, Pupil):
        return visible_pupils(user).filter(pk=obj.pk).exists()
    if isinstance(obj, Enrolment):
        return can_view(user, obj.school_class)
    if isinstance(obj, TeachingAssignment):
        return can_view(user, obj.school_class)
    if isinstance(obj, Staff):
        return obj.user_id == getattr(user, "pk", None) or (
            obj.school is not None and can_view(user, obj.school)
        )
    return is_system_admin(user)


def can_change(user: Any, obj: Model) -> bool:
    """Master data (school, classes, pupils, staff, enrolments) is kept by the school's managers."""
    if is_system_admin(user):
        return True
    # A pupil who transferred out belongs to the new school only.
    school = current_school(obj) if isinstance(obj, Pupil) else school_of(obj)
    return school is not None and is_school_manager(user, school)


def require_view(user: Any, obj: Model) -> None:
    if not can_view(user, obj):
        raise PermissionRefused(_("Bạn không có quyền xem %(object)s.") % {"object": obj})


def require_change(user: Any, obj: Model) -> None:
    if not can_change(user, obj):
        raise PermissionRefused(_("Bạn không có quyền thay đổi %(object)s.") % {"object": obj})


def log_personal_data_read(user: Any, pupil: Pupil) -> None:
    """Audit a read of a pupil's personal data by anyone outside the pupil's current school:
    staff above the school (issue 2 §5) and staff of a school the pupil left (issue 10 §5). The
    school sees these reads in its audit trail."""
    school = current_school(pupil)
    if not is_above_school(user):
        staff = staff_of(user)
        if staff is None or school is None or staff.school_id == school.pk:
            return
    from django.db import transaction

    from hocba.audit.services import record_event

    with transaction.atomic():
        record_event(
            actor=user,
            action="schools.pupil.personal_data_read",
            obj=pupil,
            school=school,
        )


def can_enter_subject(user: Any, school_class: SchoolClass, subject: str) -> bool:
    """Subject marks are entered by the teacher assigned to that subject in that class."""
    staff = staff_of(user)
    if staff is None or staff.school_id != school_class.school_id:
        return False
    return TeachingAssignment.objects.filter(
        teacher=staff, school_class=school_class, subject=subject
    ).exists()


def can_enter_homeroom(user: Any, school_class: SchoolClass) -> bool:
    """Qualities, competencies, header facts and the class's "finished" are the homeroom's."""
    staff = staff_of(user)
    return bool(staff and school_class.homeroom_teacher_id == staff.pk)


def can_unlock(user: Any, school_class: SchoolClass) -> bool:
    """Only the principal or the school administrator opens a lock (DOMAIN §4, §7)."""
    if is_system_admin(user):
        return True
    staff = staff_of(user)
    return bool(
        staff
        and staff.school_id == school_class.school_id
        and staff.role_set & {Role.PRINCIPAL, Role.SCHOOL_ADMIN}
    )


def can_decide_promotion(user: Any, school_class: SchoolClass) -> bool:
    """The principal (or a deputy acting for them) decides promotion after summer (DOMAIN §2.4)."""
    staff = staff_of(user)
    return bool(
        staff
        and staff.school_id == school_class.school_id
        and staff.role_set & {Role.PRINCIPAL, Role.DEPUTY_PRINCIPAL}
    )
