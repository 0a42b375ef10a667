"""From workbook rows to an import plan: every row read, every cross-reference checked.

The plan is written only if no check found a problem (see :mod:`hocba.schools.importer`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from hocba.common.text import clean_text
from hocba.schools.import_columns import labels, normalise, subject_words, vocabulary
from hocba.schools.import_parsing import ImportIssue, RowReader, SheetData, lost_zeros_message
from hocba.schools.models import (
    SCHOOL_ROLES,
    Enrolment,
    EntryKind,
    Pupil,
    Role,
    School,
    SchoolClass,
    SchoolYear,
    Sex,
    Staff,
)
from hocba.schools.services import PupilData, StaffData, pupil_errors

# A placeholder for an unreadable date of birth; such a row is always reported, never written.
NO_DATE = datetime.date.min


@dataclass
class ClassRow:
    at: RowReader
    name: str
    grade: int  # 0 when unreadable
    homeroom_username: str


@dataclass
class StaffRow:
    at: RowReader
    data: StaffData
    teaching: list[tuple[str, str]]  # (class name, subject code)


@dataclass
class PupilRow:
    at: RowReader
    data: PupilData
    class_name: str
    register_number: str
    joined_on: datetime.date
    entry_kind: str
    existing: Pupil | None = None  # the same person already known: enrol, do not create


@dataclass
class ImportPlan:
    existing_classes: dict[str, SchoolClass]
    existing_staff: dict[str, Staff]  # by username, the school's own staff
    classes: list[ClassRow] = field(default_factory=list)
    staff: list[StaffRow] = field(default_factory=list)
    pupils: list[PupilRow] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.classes or self.staff or self.pupils)

    def class_names(self) -> set[str]:
        return {row.name for row in self.classes if row.name} | set(self.existing_classes)


def build_plan(
    sheets: dict[str, SheetData], *, school: School, school_year: SchoolYear
) -> tuple[ImportPlan, list[ImportIssue]]:
    """Read every row and check it against the file and the database; nothing is written."""
    classes = SchoolClass.objects.filter(school=school, school_year=school_year)
    staff = Staff.objects.filter(school=school).select_related("user")
    plan = ImportPlan(
        existing_classes={school_class.name.upper(): school_class for school_class in classes},
        existing_staff={member.user.username.lower(): member for member in staff},
    )
    if sheet := sheets.get("classes"):
        plan.classes = [parse_class(at) for at in sheet.readers()]
    if sheet := sheets.get("staff"):
        plan.staff = [parse_staff(at) for at in sheet.readers()]
    if sheet := sheets.get("pupils"):
        plan.pupils = [parse_pupil(at, school_year) for at in sheet.readers()]
    check_classes(plan)
    check_staff(plan, school)
    check_pupils(plan, school, school_year)
    return plan, [issue for sheet in sheets.values() for issue in sheet.issues]


# Row by row -------------------------------------------------------------------------------


def parse_class(at: RowReader) -> ClassRow:
    return ClassRow(
        at=at,
        name=at.text("name").upper(),
        grade=at.integer("grade", 1, 5) or 0,
        homeroom_username=at.text("homeroom_teacher").lower(),
    )


def parse_staff(at: RowReader) -> StaffRow:
    data = StaffData(
        username=_username(at),
        family_name=at.text("family_name"),
        middle_name=at.text("middle_name"),
        given_name=at.text("given_name"),
        roles=_roles(at),
        staff_code=at.code("staff_code"),
        position=at.text("position"),
        phone=_phone(at),
        email=_email(at),
    )
    return StaffRow(at=at, data=data, teaching=_teaching(at))


def _username(at: RowReader) -> str:
    username = at.text("username").lower()
    if username:
        try:
            get_user_model()._meta.get_field("username").run_validators(username)
        except ValidationError as exc:
            at.flag("username", " ".join(exc.messages))
    return username


def _roles(at: RowReader) -> tuple[str, ...]:
    words = vocabulary(Role, SCHOOL_ROLES)
    roles: list[str] = []
    unknown: list[str] = []
    for part in at.parts("roles", ",;\n"):
        role = words.get(normalise(part))
        if role is None:
            unknown.append(f"“{part}”")
        elif role not in roles:
            roles.append(role)
    if unknown:
        at.flag(
            "roles",
            _("Vai trò không hợp lệ: %(roles)s. Vai trò trong trường là: %(allowed)s.")
            % {"roles": ", ".join(unknown), "allowed": labels(Role, SCHOOL_ROLES)},
        )
    return tuple(roles)


def _phone(at: RowReader) -> str:
    value = at.raw("phone")
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Vietnamese numbers start with 0 (or +84): a number cell has lost it.
        digits = str(int(value))
        title = at.sheet.spec.column("phone").title
        at.flag("phone", lost_zeros_message(digits, len(digits) + 1, title))
        return ""
    return at.text("phone")


def _email(at: RowReader) -> str:
    email = at.text("email")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            at.flag("email", _("Email “%(v)s” không hợp lệ.") % {"v": email})
    return email


def _teaching(at: RowReader) -> list[tuple[str, str]]:
    words = subject_words()
    pairs: dict[tuple[str, str], None] = {}
    problems: list[str] = []
    for piece in at.parts("teaching", ";\n"):
        class_part, colon, subjects = piece.partition(":")
        class_name = clean_text(class_part).upper()
        if not (colon and class_name and subjects.strip()):
            problems.append(_("“%(p)s” không có dạng Lớp:môn") % {"p": piece})
            continue
        for subject_text in filter(None, (clean_text(s) for s in subjects.split(","))):
            if (subject := words.get(normalise(subject_text))) is None:
                problems.append(_("môn “%(s)s” không có trong chương trình") % {"s": subject_text})
            else:
                pairs[(class_name, subject)] = None
    if problems:
        at.flag("teaching", _("Không đọc được: %(p)s.") % {"p": "; ".join(problems)})
    return list(pairs)


def parse_pupil(at: RowReader, school_year: SchoolYear) -> PupilRow:
    date_of_birth = at.date("date_of_birth")
    names = (at.text("family_name"), at.text("middle_name"), at.text("given_name"))
    return PupilRow(
        at=at,
        data=pupil_data(at, names, date_of_birth),
        class_name=at.text("school_class").upper(),
        register_number=at.text("register_number"),
        joined_on=at.date("joined_on") or school_year.starts_on,
        entry_kind=at.choice("entry_kind", vocabulary(EntryKind), labels(EntryKind), "new"),
    )


def pupil_data(
    at: RowReader, names: tuple[str, str, str], date_of_birth: datetime.date | None
) -> PupilData:
    """A pupil row's identity (the template's and the sector export's): read, checked, each
    problem flagged on its cell (cells already reported keep their first message)."""
    family, middle, given = names
    data = PupilData(
        ministry_code=at.code("ministry_code"),
        personal_id=at.code("personal_id") or None,
        family_name=family,
        middle_name=middle,
        given_name=given,
        sex=at.choice("sex", vocabulary(Sex), labels(Sex)),
        date_of_birth=date_of_birth or NO_DATE,
        ethnicity=at.text("ethnicity") or "Kinh",
        nationality=at.text("nationality") or "Việt Nam",
        birthplace=at.text("birthplace"),
        hometown=at.text("hometown"),
        address=at.text("address"),
        father_name=at.text("father_name"),
        mother_name=at.text("mother_name"),
        guardian_name=at.text("guardian_name"),
    )
    values = data.cleaned()
    values["date_of_birth"] = date_of_birth
    for name, message in pupil_errors(values).items():
        at.flag(name, message)
    return data


# Across rows and against the database -------------------------------------------------------


def _first_seen(seen: dict[str, int], value: str, row: int) -> int | None:
    """The row where ``value`` first appeared, or ``None`` (and remember this row)."""
    if value in seen:
        return seen[value]
    seen[value] = row
    return None


def check_classes(plan: ImportPlan) -> None:
    seen: dict[str, int] = {}
    usernames = {row.data.username for row in plan.staff} | set(plan.existing_staff)
    for row in plan.classes:
        at = row.at
        if row.name and (first := _first_seen(seen, row.name, at.row)):
            at.flag("name", _("Lớp %(n)s trùng với dòng %(r)s.") % {"n": row.name, "r": first})
        existing = plan.existing_classes.get(row.name)
        if existing and row.grade and existing.grade != row.grade:
            at.flag(
                "grade",
                _("Lớp %(n)s đã có trong năm học, thuộc khối %(g)s.")
                % {"n": row.name, "g": existing.grade},
            )
        if row.homeroom_username and row.homeroom_username not in usernames:
            at.flag(
                "homeroom_teacher",
                _("Không có cán bộ tên đăng nhập “%(u)s” ở trang “Cán bộ” hay trong trường.")
                % {"u": row.homeroom_username},
            )


def check_staff(plan: ImportPlan, school: School) -> None:
    usernames = [row.data.username for row in plan.staff if row.data.username]
    user_model = get_user_model()
    taken = set(
        user_model.objects.filter(username__in=usernames).values_list("username", flat=True)
    )
    codes = set(Staff.objects.filter(school=school).values_list("staff_code", flat=True))
    seen_usernames: dict[str, int] = {}
    seen_codes: dict[str, int] = {}
    known_classes = plan.class_names()
    for row in plan.staff:
        at, data = row.at, row.data
        if data.username and (first := _first_seen(seen_usernames, data.username, at.row)):
            at.flag("username", _("Tên đăng nhập trùng với dòng %(r)s.") % {"r": first})
        if data.username in taken:
            at.flag("username", _("Tên đăng nhập “%(u)s” đã có người dùng.") % {"u": data.username})
        if data.staff_code and (first := _first_seen(seen_codes, data.staff_code, at.row)):
            at.flag("staff_code", _("Mã cán bộ trùng với dòng %(r)s.") % {"r": first})
        if data.staff_code and data.staff_code in codes:
            at.flag(
                "staff_code", _("Mã cán bộ “%(c)s” đã có trong trường.") % {"c": data.staff_code}
            )
        unknown = sorted({name for name, _subject in row.teaching} - known_classes)
        if unknown:
            at.flag("teaching", _unknown_classes_message(unknown))


def _unknown_classes_message(names: list[str]) -> str:
    return _("Không có lớp %(names)s ở trang “Lớp” hay trong trường năm học này.") % {
        "names": ", ".join(names)
    }


def check_pupils(plan: ImportPlan, school: School, school_year: SchoolYear) -> None:
    codes = [row.data.ministry_code for row in plan.pupils if row.data.ministry_code]
    known = {pupil.ministry_code: pupil for pupil in Pupil.objects.filter(ministry_code__in=codes)}
    active = {
        enrolment.pupil_id: enrolment
        for enrolment in Enrolment.objects.filter(
            pupil__in=list(known.values()), school_year=school_year, left_on__isnull=True
        ).select_related("pupil", "school_class")
    }
    ids = [row.data.personal_id for row in plan.pupils if row.data.personal_id]
    id_owners = {
        pupil.personal_id or "": pupil.ministry_code
        for pupil in Pupil.objects.filter(personal_id__in=ids).only("personal_id", "ministry_code")
    }
    seen_codes: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    known_classes = plan.class_names()
    for row in plan.pupils:
        at, data = row.at, row.data
        if row.class_name and row.class_name not in known_classes:
            at.flag("school_class", _unknown_classes_message([row.class_name]))
        if data.ministry_code and (first := _first_seen(seen_codes, data.ministry_code, at.row)):
            at.flag("ministry_code", _("Mã học sinh trùng với dòng %(r)s.") % {"r": first})
        if data.personal_id and (first := _first_seen(seen_ids, data.personal_id, at.row)):
            at.flag("personal_id", _("Số định danh cá nhân trùng với dòng %(r)s.") % {"r": first})
        _check_known_pupil(row, known.get(data.ministry_code), active, school, school_year)
        _check_personal_id_owner(row, id_owners)
        _check_joined_on(row, school_year)


_NAME_FIELDS = ("family_name", "middle_name", "given_name")


def same_person(pupil: Pupil, data: PupilData) -> bool:
    """Same Ministry code, same date of birth and same name: the file names a known pupil."""
    return pupil.date_of_birth == data.date_of_birth and all(
        normalise(getattr(pupil, name)) == normalise(getattr(data, name)) for name in _NAME_FIELDS
    )


def _check_known_pupil(
    row: PupilRow,
    pupil: Pupil | None,
    active: dict[int, Enrolment],
    school: School,
    school_year: SchoolYear,
) -> None:
    if pupil is None or row.at.flagged & {"ministry_code", "date_of_birth", *_NAME_FIELDS}:
        return  # compare only what was read correctly
    code = pupil.ministry_code
    if not same_person(pupil, row.data):
        # Say no more: the other pupil may belong to a school this user may not see.
        message = _(
            "Mã học sinh %(code)s đã có trong hệ thống, là một học sinh khác (khác họ tên hoặc "
            "ngày sinh)."
        )
        row.at.flag("ministry_code", message % {"code": code})
    elif enrolment := active.get(pupil.pk):
        row.at.flag("ministry_code", _enrolled_message(enrolment, school, school_year))
    else:
        row.existing = pupil


def _enrolled_message(enrolment: Enrolment, school: School, school_year: SchoolYear) -> str:
    values = {
        "name": enrolment.pupil.full_name,
        "cls": enrolment.school_class.name,
        "year": school_year.name,
    }
    if enrolment.school_class.school_id == school.pk:
        return _("Học sinh %(name)s đã có tên ở lớp %(cls)s năm học %(year)s.") % values
    return _("Học sinh %(name)s đã có tên ở một trường khác trong năm học %(year)s.") % values


def _check_personal_id_owner(row: PupilRow, id_owners: dict[str, str]) -> None:
    personal_id = row.data.personal_id
    if not personal_id:
        return
    owner = id_owners.get(personal_id)
    if owner is not None and owner != row.data.ministry_code:
        row.at.flag(
            "personal_id",
            _("Số định danh cá nhân %(id)s đã thuộc về học sinh khác.") % {"id": personal_id},
        )
    elif row.existing and row.existing.personal_id not in (None, personal_id):
        row.at.flag(
            "personal_id",
            _("Số định danh cá nhân khác với số đã lưu của học sinh %(code)s.")
            % {"code": row.existing.ministry_code},
        )


def _check_joined_on(row: PupilRow, school_year: SchoolYear) -> None:
    joined_on = row.joined_on
    if joined_on > school_year.ends_on:
        row.at.flag(
            "joined_on",
            _("Ngày %(d)s sau ngày kết thúc năm học %(year)s.")
            % {"d": joined_on.strftime("%d/%m/%Y"), "year": school_year.name},
        )
    elif row.data.date_of_birth != NO_DATE and joined_on < row.data.date_of_birth:
        row.at.flag("joined_on", _("Ngày nhập học trước ngày sinh."))
