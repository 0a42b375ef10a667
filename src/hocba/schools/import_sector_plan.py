"""From the rows of a sector export to the foundation importer's plan (see :mod:`import_sector`).

The sector lists differ from our template: one "Họ và tên" column, no login names, positions
instead of roles, a status per person, classes named only in the pupils' "Lớp" column. This
module fills the gaps (name split, generated login names, roles from positions, classes from the
pupils' rows), skips who is not studying or working and who is already in the school this year
(so that importing the same file twice changes nothing), then runs the ordinary checks.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from openpyxl.utils.datetime import from_excel

from hocba.common.text import clean_text, fold
from hocba.schools.import_checks import (
    ClassRow,
    ImportPlan,
    PupilRow,
    StaffRow,
    check_classes,
    check_pupils,
    check_staff,
    pupil_data,
    same_person,
)
from hocba.schools.import_parsing import ImportIssue, RowReader
from hocba.schools.import_sector import PUPILS, SectorSheets, header_key
from hocba.schools.models import (
    Enrolment,
    EntryKind,
    Role,
    School,
    SchoolClass,
    SchoolYear,
    Staff,
)
from hocba.schools.services import StaffData

# Statuses by their comparison form (no accents); a prefix is enough ("đang học kỳ 2").
_PUPIL_STUDYING = {
    "dang hoc": EntryKind.NEW,
    "dang theo hoc": EntryKind.NEW,
    "hoc sinh moi": EntryKind.NEW,
    "moi tuyen": EntryKind.NEW,
    "nhap hoc": EntryKind.NEW,
    "chuyen den": EntryKind.TRANSFER_IN,
    "moi chuyen den": EntryKind.TRANSFER_IN,
    "len lop": EntryKind.PROMOTED,
    "luu ban": EntryKind.RETAINED,
    "o lai lop": EntryKind.RETAINED,
}
_PUPIL_LEFT = (
    "chuyen di",
    "da chuyen",
    "chuyen truong",
    "thoi hoc",
    "bo hoc",
    "nghi hoc",
    "tot nghiep",
    "da tot nghiep",
    "hoan thanh chuong trinh",
    "ra truong",
    "da mat",
)
_STAFF_WORKING = ("dang lam viec", "dang cong tac", "lam viec", "cong tac", "dang day", "hop dong")
_STAFF_LEFT = ("nghi huu", "da nghi", "nghi viec", "thoi viec", "chuyen cong tac", "chuyen di")
_SKIPPED_STATUS = _("Bỏ qua %(name)s: trạng thái “%(status)s”, không phải đang học.")


@dataclass
class SectorPlan:
    plan: ImportPlan
    issues: list[ImportIssue] = field(default_factory=list)
    notes: list[ImportIssue] = field(default_factory=list)  # rows skipped on purpose


def build_sector_plan(
    sheets: SectorSheets, *, school: School, school_year: SchoolYear
) -> SectorPlan:
    """Read every row, skip who need not be imported, check the rest; nothing is written."""
    classes = SchoolClass.objects.filter(school=school, school_year=school_year)
    staff = Staff.objects.filter(school=school).select_related("user")
    result = SectorPlan(
        ImportPlan(
            existing_classes={school_class.name.upper(): school_class for school_class in classes},
            existing_staff={member.user.username.lower(): member for member in staff},
        )
    )
    by_code = {member.staff_code: member for member in staff if member.staff_code}
    usernames = _Usernames()
    homerooms: list[tuple[RowReader, str, str]] = []
    for sheet in sheets.staff:
        for at in sheet.readers():
            _read_staff(at, result, by_code, usernames, homerooms)
    pupils = [
        row for sheet in sheets.pupils for row in _read_pupils(sheet.readers(), result, school_year)
    ]
    result.plan.pupils = _not_yet_enrolled(pupils, school, school_year, result.notes)
    result.plan.classes = _class_rows(result.plan, homerooms)
    check_classes(result.plan)
    check_staff(result.plan, school)
    check_pupils(result.plan, school, school_year)
    result.issues = [issue for sheet in sheets.all() for issue in sheet.issues]
    return result


def split_full_name(full_name: str) -> tuple[str, str, str]:
    """Vietnamese order: the first word is the family name (họ), the last the given name (tên)."""
    words = clean_text(full_name).split()
    if not words:
        return "", "", ""
    if len(words) == 1:
        return "", "", words[0]
    return words[0], " ".join(words[1:-1]), words[-1]


def _names(at: RowReader) -> tuple[str, str, str]:
    family, middle, given = split_full_name(at.text("full_name"))
    if at.raw("full_name") is not None and not family:
        at.flag("full_name", _("Cần cả họ và tên, ví dụ “Nguyễn Thị Mai”."))
    limits = ((family, 60), (middle, 80), (given, 40))
    if any(len(part) > limit for part, limit in limits):
        at.flag("full_name", _("Họ, tên đệm hoặc tên quá dài."))
    return family, middle, given


def _status(at: RowReader) -> tuple[str, str]:
    """The status as written and its comparison form."""
    written = clean_text(at.raw("status"))
    return written, header_key(written)


# Staff ---------------------------------------------------------------------------------------


def roles_for(position: str, job: str, *, teaches: bool, homeroom: bool) -> tuple[str, ...]:
    """School roles from the "Chức vụ" and "Vị trí việc làm" texts (and what the row shows)."""
    text = header_key(f"{position} {job}")
    roles: list[str] = []
    if "pho hieu truong" in text:
        roles.append(Role.DEPUTY_PRINCIPAL)
        text = text.replace("pho hieu truong", " ")
    if "hieu truong" in text:
        roles.append(Role.PRINCIPAL)
    if "giao vien" in text or teaches or homeroom:
        roles.append(Role.SUBJECT_TEACHER)
    if "chu nhiem" in text or homeroom:
        roles.append(Role.HOMEROOM_TEACHER)
    if "van thu" in text or "quan tri" in text:
        roles.append(Role.SCHOOL_ADMIN)
    return tuple(roles)


class _Usernames:
    """Login names from full names (``tran.thi.hoa``), numbered when already taken."""

    def __init__(self) -> None:
        self.taken: set[str] = set()
        self.loaded: set[str] = set()

    def take(self, family: str, middle: str, given: str, code: str) -> str:
        words = (re.sub(r"[^a-z0-9]", "", fold(part)) for part in (family, middle, given))
        base = ".".join(word for word in words if word)[:140] or f"cb.{fold(code)}"
        if base not in self.loaded:
            users = get_user_model().objects.filter(username__startswith=base)
            self.taken.update(users.values_list("username", flat=True))
            self.loaded.add(base)
        candidate, number = base, 2
        while candidate in self.taken:
            candidate, number = f"{base}{number}", number + 1
        self.taken.add(candidate)
        return candidate


def _read_staff(
    at: RowReader,
    result: SectorPlan,
    by_code: dict[str, Staff],
    usernames: _Usernames,
    homerooms: list[tuple[RowReader, str, str]],
) -> None:
    written, status = _status(at)
    if status.startswith(_STAFF_LEFT) or (status and not status.startswith(_STAFF_WORKING)):
        message = _("Bỏ qua %(name)s: trạng thái “%(status)s”, không phải đang làm việc.")
        result.notes.append(at.issue("status", message % {"name": _full(at), "status": written}))
        return
    code = at.code("staff_code")
    family, middle, given = _names(at)
    homeroom = at.text("homeroom_class").upper()
    if existing := by_code.get(code):
        message = _("Cán bộ mã %(code)s đã có trong trường (tên đăng nhập %(u)s), không nhập lại.")
        username = existing.user.username
        result.notes.append(at.issue("staff_code", message % {"code": code, "u": username}))
        if homeroom:
            homerooms.append((at, homeroom, username.lower()))
        return
    position, job = at.text("position"), at.text("job")
    roles = roles_for(position, job, teaches=bool(at.raw("teaching")), homeroom=bool(homeroom))
    data = StaffData(
        username=usernames.take(family, middle, given, code),
        family_name=family,
        middle_name=middle,
        given_name=given,
        roles=roles,
        staff_code=code,
        position=(position or job)[:120],
        phone=_phone(at),
        email=_email(at),
    )
    result.plan.staff.append(StaffRow(at=at, data=data, teaching=[]))
    if homeroom:
        homerooms.append((at, homeroom, data.username))


def _full(at: RowReader) -> str:
    return clean_text(at.raw("full_name")) or clean_text(at.raw("staff_code"))


def _phone(at: RowReader) -> str:
    value = at.raw("phone")
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A number cell drops the leading 0 of a Vietnamese number (10 digits, 0xxxxxxxxx).
        digits = str(int(value))
        return f"0{digits}" if len(digits) == 9 else digits
    return at.text("phone")


def _email(at: RowReader) -> str:
    email = at.text("email")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            at.flag("email", _("Email “%(v)s” không hợp lệ.") % {"v": email})
            return ""
    return email


# Pupils --------------------------------------------------------------------------------------


def _read_pupils(
    readers: Iterable[RowReader], result: SectorPlan, school_year: SchoolYear
) -> Iterable[PupilRow]:
    for at in readers:
        written, status = _status(at)
        if status.startswith(_PUPIL_LEFT):
            message = _SKIPPED_STATUS % {"name": _full(at), "status": written}
            result.notes.append(at.issue("status", message))
            continue
        entry_kind = next(
            (kind for word, kind in _PUPIL_STUDYING.items() if status.startswith(word)), None
        )
        if status and entry_kind is None:
            at.flag(
                "status",
                _(
                    "Trạng thái “%(status)s” không rõ; cần “Đang học”, “Chuyển đến”, "
                    "“Chuyển đi” hoặc “Thôi học”."
                )
                % {"status": written},
            )
        yield _pupil_row(at, entry_kind or EntryKind.NEW, school_year)


def _pupil_row(at: RowReader, entry_kind: str, school_year: SchoolYear) -> PupilRow:
    date_of_birth = _date(at, "date_of_birth")
    data = pupil_data(at, _names(at), date_of_birth)
    return PupilRow(
        at=at,
        data=data,
        class_name=_class_name(at),
        register_number=at.text("register_number"),
        joined_on=_date(at, "joined_on") or school_year.starts_on,
        entry_kind=entry_kind,
    )


def _date(at: RowReader, key: str) -> datetime.date | None:
    """A date cell, a dd/mm/yyyy text, or an Excel day number left unformatted."""
    value = at.raw(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 < value < 2958466:
        converted = from_excel(value)
        return converted.date() if isinstance(converted, datetime.datetime) else None
    return at.date(key)


def _class_name(at: RowReader) -> str:
    name = at.text("school_class").upper()
    name = re.sub(r"^LỚP\s+", "", name)
    if len(name) > 20:
        at.flag("school_class", _("Tên lớp dài quá 20 ký tự."))
        return ""
    return name


def _grade(at: RowReader, class_name: str) -> int:
    """The "Khối" cell ("4", "Khối 4"), else the first digit of the class name ("4A")."""
    match = re.search(r"[1-5]", clean_text(at.raw("grade")))
    if match is None:
        match = re.match(r"[1-5]", class_name)
    if match is None:
        at.flag(
            "school_class" if at.sheet.spec.key == PUPILS else "homeroom_class",
            _("Không biết lớp %(n)s thuộc khối nào; thêm cột “Khối” (1 đến 5).")
            % {"n": class_name},
        )
        return 0
    return int(match.group())


def _not_yet_enrolled(
    rows: list[PupilRow], school: School, school_year: SchoolYear, notes: list[ImportIssue]
) -> list[PupilRow]:
    """Drop pupils already in a class of this school this year: a re-import changes nothing."""
    codes = [row.data.ministry_code for row in rows if row.data.ministry_code]
    active = {
        enrolment.pupil.ministry_code: enrolment
        for enrolment in Enrolment.objects.filter(
            pupil__ministry_code__in=codes,
            school_year=school_year,
            school_class__school=school,
            left_on__isnull=True,
        ).select_related("pupil", "school_class")
    }
    kept: list[PupilRow] = []
    for row in rows:
        enrolment = active.get(row.data.ministry_code)
        if enrolment is None or not same_person(enrolment.pupil, row.data) or row.at.flagged:
            kept.append(row)
            continue
        message = _("Học sinh %(name)s đã có tên ở lớp %(cls)s năm học %(year)s, không nhập lại.")
        values = {
            "name": enrolment.pupil.full_name,
            "cls": enrolment.school_class.name,
            "year": school_year.name,
        }
        notes.append(row.at.issue("ministry_code", message % values))
    return kept


def _class_rows(plan: ImportPlan, homerooms: list[tuple[RowReader, str, str]]) -> list[ClassRow]:
    """Classes named by pupils or as a homeroom class that the school does not have this year."""
    rows: dict[str, ClassRow] = {}
    for pupil in plan.pupils:
        name = pupil.class_name
        if name and name not in plan.existing_classes and name not in rows:
            rows[name] = ClassRow(pupil.at, name, _grade(pupil.at, name), "")
    for at, name, username in homerooms:
        if row := rows.get(name):
            row.homeroom_username = row.homeroom_username or username
        elif existing := plan.existing_classes.get(name):
            teacher = existing.homeroom_teacher
            if teacher is None or teacher.user.username.lower() != username:
                rows[name] = ClassRow(at, name, existing.grade, username)
        else:
            rows[name] = ClassRow(at, name, _grade(at, name), username)
    return list(rows.values())
