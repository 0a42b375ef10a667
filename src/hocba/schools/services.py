"""Every change to the school world (STYLE §2): keyword-only actor, one transaction, audited."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from hocba.audit.services import diff, record_event, snapshot
from hocba.common.errors import DomainError, PermissionRefused
from hocba.common.text import clean_text
from hocba.schools import access
from hocba.schools.models import (
    SCHOOL_ROLES,
    AssessmentScheme,
    Enrolment,
    EntryKind,
    Pupil,
    Role,
    School,
    SchoolClass,
    SchoolYear,
    Sex,
    Staff,
    StaffRole,
    TeachingAssignment,
)
from hocba.schools.subjects import Subject
from hocba.schools.validators import (
    ministry_code_error,
    personal_id_error,
    school_year_name_error,
)

PUPIL_TEXT_FIELDS = (
    "family_name",
    "middle_name",
    "given_name",
    "ethnicity",
    "nationality",
    "birthplace",
    "hometown",
    "address",
    "father_name",
    "mother_name",
    "guardian_name",
)


@dataclass
class PupilData:
    """A pupil's personal details as entered (NFC-normalised on the way in)."""

    ministry_code: str
    family_name: str
    given_name: str
    sex: str
    date_of_birth: datetime.date
    middle_name: str = ""
    personal_id: str | None = None
    ethnicity: str = "Kinh"
    nationality: str = "Việt Nam"
    birthplace: str = ""
    hometown: str = ""
    address: str = ""
    father_name: str = ""
    mother_name: str = ""
    guardian_name: str = ""

    def cleaned(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            name: clean_text(getattr(self, name)) for name in PUPIL_TEXT_FIELDS
        }
        values["ministry_code"] = clean_text(self.ministry_code)
        values["personal_id"] = clean_text(self.personal_id) or None
        values["sex"] = self.sex
        values["date_of_birth"] = self.date_of_birth
        return values


def pupil_errors(values: dict[str, Any]) -> dict[str, str]:
    """Field → Vietnamese message for everything wrong with a pupil's details."""
    errors: dict[str, str] = {}
    if message := ministry_code_error(values["ministry_code"]):
        errors["ministry_code"] = message
    if values.get("personal_id"):
        message = personal_id_error(
            values["personal_id"], sex=values.get("sex"), date_of_birth=values.get("date_of_birth")
        )
        if message:
            errors["personal_id"] = message
    if not values.get("family_name"):
        errors["family_name"] = _("Thiếu họ của học sinh.")
    if not values.get("given_name"):
        errors["given_name"] = _("Thiếu tên của học sinh.")
    if values.get("sex") not in Sex.values:
        errors["sex"] = _("Giới tính phải là “Nam” hoặc “Nữ”.")
    dob = values.get("date_of_birth")
    if not isinstance(dob, datetime.date):
        errors["date_of_birth"] = _("Thiếu ngày sinh.")
    elif not 2000 <= dob.year <= datetime.date.today().year - 4:
        errors["date_of_birth"] = _("Ngày sinh %(d)s không hợp lý cho học sinh tiểu học.") % {
            "d": dob.strftime("%d/%m/%Y")
        }
    return errors


def _raise_first(errors: dict[str, str]) -> None:
    if errors:
        name, message = next(iter(errors.items()))
        raise DomainError(message, field=name)


@transaction.atomic
def admit_pupil(
    *,
    actor: Any,
    data: PupilData,
    school_class: SchoolClass,
    joined_on: datetime.date,
    register_number: str = "",
    entry_kind: str = EntryKind.NEW,
) -> Enrolment:
    """Create a new pupil and enrol them in a class (the school's managers only)."""
    access.require_change(actor, school_class)
    pupil = _insert_pupil(actor=actor, data=data, school=school_class.school)
    return enrol_pupil(
        actor=actor,
        pupil=pupil,
        school_class=school_class,
        joined_on=joined_on,
        register_number=register_number,
        entry_kind=entry_kind,
    )


def _insert_pupil(*, actor: Any, data: PupilData, school: School) -> Pupil:
    values = data.cleaned()
    _raise_first(pupil_errors(values))
    if Pupil.objects.filter(ministry_code=values["ministry_code"]).exists():
        raise DomainError(
            _("Mã học sinh %(code)s đã có trong hệ thống.") % {"code": values["ministry_code"]},
            field="ministry_code",
        )
    if values["personal_id"] and Pupil.objects.filter(personal_id=values["personal_id"]).exists():
        raise DomainError(
            _("Số định danh cá nhân %(id)s đã thuộc về học sinh khác.")
            % {"id": values["personal_id"]},
            field="personal_id",
        )
    pupil = Pupil.objects.create(**values)
    record_event(
        actor=actor,
        action="schools.pupil.created",
        obj=pupil,
        school=school,
        changes=snapshot(pupil),
    )
    return pupil


@transaction.atomic
def update_pupil(*, actor: Any, pupil: Pupil, changes: dict[str, Any]) -> Pupil:
    """Correct a pupil's details. The Ministry code never changes (DOMAIN §5)."""
    pupil = Pupil.objects.select_for_update().get(pk=pupil.pk)
    access.require_change(actor, pupil)
    if "ministry_code" in changes and changes["ministry_code"] != pupil.ministry_code:
        raise DomainError(_("Mã học sinh không bao giờ được thay đổi."), field="ministry_code")
    before = snapshot(pupil)
    values = {**before, **changes}
    for name in PUPIL_TEXT_FIELDS:
        values[name] = clean_text(values[name])
    values["personal_id"] = clean_text(values.get("personal_id")) or None
    if isinstance(values["date_of_birth"], str):
        values["date_of_birth"] = datetime.date.fromisoformat(values["date_of_birth"])
    _raise_first(pupil_errors(values))
    clash = Pupil.objects.filter(personal_id=values["personal_id"]).exclude(pk=pupil.pk)
    if values["personal_id"] and clash.exists():
        raise DomainError(_("Số định danh cá nhân đã thuộc về học sinh khác."), field="personal_id")
    for name in (*PUPIL_TEXT_FIELDS, "personal_id", "sex", "date_of_birth"):
        setattr(pupil, name, values[name])
    pupil.save()
    changed = diff(before, snapshot(pupil))
    if changed:
        school = access.current_school(pupil)
        record_event(
            actor=actor, action="schools.pupil.updated", obj=pupil, school=school, changes=changed
        )
    return pupil


@transaction.atomic
def enrol_pupil(
    *,
    actor: Any,
    pupil: Pupil,
    school_class: SchoolClass,
    joined_on: datetime.date,
    register_number: str = "",
    entry_kind: str = EntryKind.NEW,
) -> Enrolment:
    access.require_change(actor, school_class)
    active = Enrolment.objects.filter(
        pupil=pupil, school_year=school_class.school_year, left_on__isnull=True
    ).select_related("school_class__school")
    if current := active.first():
        raise DomainError(
            _("Học sinh %(pupil)s đã có tên ở lớp %(cls)s, %(school)s năm học %(year)s.")
            % {
                "pupil": pupil.full_name,
                "cls": current.school_class.name,
                "school": current.school_class.school.name,
                "year": school_class.school_year.name,
            },
            field="school_class",
        )
    try:
        with transaction.atomic():
            enrolment = Enrolment.objects.create(
                pupil=pupil,
                school_class=school_class,
                school_year=school_class.school_year,
                register_number=clean_text(register_number),
                joined_on=joined_on,
                entry_kind=entry_kind,
            )
    except IntegrityError as exc:  # a concurrent enrolment won the race
        raise DomainError(_("Học sinh đã có tên ở một lớp khác trong năm học này.")) from exc
    record_event(
        actor=actor,
        action="schools.enrolment.created",
        obj=enrolment,
        school=school_class.school,
        changes=snapshot(enrolment),
    )
    return enrolment


@transaction.atomic
def create_class(
    *,
    actor: Any,
    school: School,
    school_year: SchoolYear,
    grade: int,
    name: str,
    homeroom_teacher: Staff | None = None,
) -> SchoolClass:
    access.require_change(actor, school)
    name = clean_text(name).upper()
    if grade not in range(1, 6):
        raise DomainError(_("Khối phải từ 1 đến 5."), field="grade")
    if not name:
        raise DomainError(_("Thiếu tên lớp."), field="name")
    if SchoolClass.objects.filter(school=school, school_year=school_year, name=name).exists():
        raise DomainError(
            _("Lớp %(name)s đã có trong năm học %(year)s.") % {"name": name, "year": school_year},
            field="name",
        )
    _check_teacher_of(school, homeroom_teacher)
    school_class = SchoolClass.objects.create(
        school=school,
        school_year=school_year,
        grade=grade,
        name=name,
        homeroom_teacher=homeroom_teacher,
    )
    if homeroom_teacher:
        StaffRole.objects.get_or_create(staff=homeroom_teacher, role=Role.HOMEROOM_TEACHER)
    record_event(
        actor=actor,
        action="schools.class.created",
        obj=school_class,
        school=school,
        changes=snapshot(school_class),
    )
    return school_class


def _check_teacher_of(
    school: School, teacher: Staff | None, *, field: str = "homeroom_teacher"
) -> None:
    if teacher is not None and teacher.school_id != school.pk:
        raise DomainError(
            _("Giáo viên %(name)s không thuộc trường %(school)s.")
            % {"name": teacher.full_name, "school": school.name},
            field=field,
        )


@transaction.atomic
def set_homeroom_teacher(*, actor: Any, school_class: SchoolClass, teacher: Staff | None) -> None:
    access.require_change(actor, school_class)
    _check_teacher_of(school_class.school, teacher)
    before = school_class.homeroom_teacher_id
    school_class.homeroom_teacher = teacher
    school_class.save(update_fields=["homeroom_teacher"])
    if teacher:
        StaffRole.objects.get_or_create(staff=teacher, role=Role.HOMEROOM_TEACHER)
    record_event(
        actor=actor,
        action="schools.class.homeroom_teacher_set",
        obj=school_class,
        school=school_class.school,
        changes={"homeroom_teacher": [before, teacher.pk if teacher else None]},
    )


ABOVE_SCHOOL_ROLES = frozenset({Role.DISTRICT_STAFF, Role.DEPARTMENT_STAFF, Role.SYSTEM_ADMIN})


@dataclass
class StaffData:
    username: str
    family_name: str
    given_name: str
    middle_name: str = ""
    roles: tuple[str, ...] = ()
    staff_code: str = ""
    position: str = ""
    phone: str = ""
    email: str = ""


def _check_scope(roles: set[str], school: Any, district: Any, province: Any) -> None:
    if roles & SCHOOL_ROLES and school is None:
        raise DomainError(_("Vai trò trong trường cần gắn với một trường."), field="roles")
    if Role.DISTRICT_STAFF in roles and district is None:
        raise DomainError(_("Cán bộ Phòng GD&ĐT cần gắn với một quận/huyện."), field="roles")
    if Role.DEPARTMENT_STAFF in roles and province is None:
        raise DomainError(_("Cán bộ Sở GD&ĐT cần gắn với một tỉnh/thành phố."), field="roles")


@transaction.atomic
def create_staff(
    *,
    actor: Any,
    data: StaffData,
    school: School | None = None,
    district: Any = None,
    province: Any = None,
    password: str | None = None,
) -> Staff:
    """Create a login and its staff profile with roles scoped to a school, district or province."""
    roles = set(data.roles)
    if school is not None:
        access.require_change(actor, school)
    # A school's managers may not hand out roles that reach beyond their school.
    if (school is None or roles & ABOVE_SCHOOL_ROLES) and not access.is_system_admin(actor):
        raise PermissionRefused(_("Chỉ quản trị hệ thống được tạo tài khoản cấp Phòng/Sở."))
    unknown = roles - set(Role.values)
    if unknown:
        raise DomainError(
            _("Vai trò không hợp lệ: %(r)s.") % {"r": ", ".join(sorted(unknown))}, field="roles"
        )
    _check_scope(roles, school, district, province)
    username = clean_text(data.username).lower()
    user_model = get_user_model()
    if not username:
        raise DomainError(_("Thiếu tên đăng nhập."), field="username")
    if user_model.objects.filter(username=username).exists():
        raise DomainError(
            _("Tên đăng nhập %(u)s đã có người dùng.") % {"u": username}, field="username"
        )
    user = user_model.objects.create_user(username=username, email=data.email, password=password)
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    staff = Staff.objects.create(
        user=user,
        staff_code=clean_text(data.staff_code),
        family_name=clean_text(data.family_name),
        middle_name=clean_text(data.middle_name),
        given_name=clean_text(data.given_name),
        position=clean_text(data.position),
        phone=clean_text(data.phone),
        school=school,
        district=district if district is not None else (school.district if school else None),
        province=province if province is not None else (school.province if school else None),
    )
    StaffRole.objects.bulk_create([StaffRole(staff=staff, role=role) for role in sorted(roles)])
    record_event(
        actor=actor,
        action="schools.staff.created",
        obj=staff,
        school=school,
        changes={**snapshot(staff), "roles": sorted(roles)},
    )
    return staff


@transaction.atomic
def assign_teaching(
    *, actor: Any, teacher: Staff, school_class: SchoolClass, subject: str
) -> TeachingAssignment:
    access.require_change(actor, school_class)
    if subject not in Subject.values:
        raise DomainError(
            _("Môn học “%(s)s” không có trong chương trình.") % {"s": subject}, field="subject"
        )
    _check_teacher_of(school_class.school, teacher, field="teacher")
    assignment, created = TeachingAssignment.objects.get_or_create(
        teacher=teacher, school_class=school_class, subject=subject
    )
    if created:
        StaffRole.objects.get_or_create(staff=teacher, role=Role.SUBJECT_TEACHER)
        record_event(
            actor=actor,
            action="schools.teaching_assignment.created",
            obj=assignment,
            school=school_class.school,
            changes={"teacher": teacher.pk, "class": school_class.pk, "subject": subject},
        )
    return assignment


@transaction.atomic
def create_school_year(
    *,
    actor: Any,
    name: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    assessment_scheme: str = AssessmentScheme.TT27_2020,
    make_current: bool = False,
) -> SchoolYear:
    """Open a school year (system administrators only); at most one year is current."""
    if not access.is_system_admin(actor):
        raise PermissionRefused(_("Chỉ quản trị hệ thống được mở năm học."))
    name = clean_text(name)
    if message := school_year_name_error(name):
        raise DomainError(message, field="name")
    if not starts_on.year == int(name[:4]) or not starts_on < ends_on:
        raise DomainError(
            _("Ngày bắt đầu và kết thúc không khớp năm học %(name)s.") % {"name": name},
            field="starts_on",
        )
    if assessment_scheme not in AssessmentScheme.values:
        raise DomainError(_("Quy định đánh giá không hợp lệ."), field="assessment_scheme")
    if SchoolYear.objects.filter(name=name).exists():
        raise DomainError(_("Năm học %(name)s đã có.") % {"name": name}, field="name")
    if make_current:
        SchoolYear.objects.filter(is_current=True).update(is_current=False)
    year = SchoolYear.objects.create(
        name=name,
        start_year=starts_on.year,
        starts_on=starts_on,
        ends_on=ends_on,
        assessment_scheme=assessment_scheme,
        is_current=make_current,
    )
    record_event(
        actor=actor, action="schools.school_year.created", obj=year, changes=snapshot(year)
    )
    return year
