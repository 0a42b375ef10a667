"""Excel import of classes, staff and pupils: all or nothing, every error by sheet, row, column."""

from __future__ import annotations

import datetime
import io
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from hocba.audit.models import AuditEvent
from hocba.common.errors import DomainError, PermissionRefused
from hocba.schools import import_parsing, services
from hocba.schools.import_columns import SHEETS
from hocba.schools.importer import (
    ImportIssue,
    ImportRejected,
    ImportReport,
    build_template,
    import_workbook,
)
from hocba.schools.models import (
    Enrolment,
    EntryKind,
    Pupil,
    Role,
    SchoolClass,
    SchoolYear,
    Staff,
    StaffRole,
    TeachingAssignment,
)

NOT_XLSX = "Tệp không phải là bảng tính Excel (.xlsx) hợp lệ."
TITLES = {spec.name: [column.title for column in spec.columns] for spec in SHEETS}
DOCUMENTED_TITLES = {
    "Lớp": ["Tên lớp", "Khối", "Tên đăng nhập GVCN"],
    "Học sinh": [
        "Mã học sinh",
        "Số định danh cá nhân",
        "Họ",
        "Tên đệm",
        "Tên",
        "Giới tính",
        "Ngày sinh",
        "Dân tộc",
        "Quốc tịch",
        "Nơi sinh",
        "Quê quán",
        "Nơi ở hiện nay",
        "Họ và tên cha",
        "Họ và tên mẹ",
        "Người giám hộ",
        "Lớp",
        "Số đăng bộ",
        "Ngày nhập học",
        "Hình thức",
    ],
    "Cán bộ": [
        "Mã cán bộ",
        "Họ",
        "Tên đệm",
        "Tên",
        "Tên đăng nhập",
        "Vai trò",
        "Chức vụ",
        "Điện thoại",
        "Email",
        "Môn dạy",
    ],
}


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def pupil(**values: Any) -> dict[str, Any]:
    row = {
        "Mã học sinh": "2400000001",
        "Họ": "Nguyễn",
        "Tên đệm": "Thị",
        "Tên": "Mai",
        "Giới tính": "Nữ",
        "Ngày sinh": "15/03/2017",
        "Lớp": "4B",
    }
    return {**row, **values}


def staff(**values: Any) -> dict[str, Any]:
    row = {"Họ": "Trần", "Tên đệm": "Thị", "Tên": "Hoa", "Tên đăng nhập": "tran.thi.hoa"}
    return {**row, "Vai trò": "Giáo viên bộ môn", **values}


def xlsx(
    sheets: dict[str, list[dict[str, Any]]], titles: dict[str, list[str]] | None = None
) -> bytes:
    """A workbook with one sheet per entry: the header row, then one row per record."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, records in sheets.items():
        header = (titles or TITLES)[name]
        sheet = workbook.create_sheet(name)
        sheet.append(header)
        for record in records:
            sheet.append([record.get(title) for title in header])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def counts() -> dict[str, int]:
    models = (Pupil, Enrolment, SchoolClass, Staff, StaffRole, TeachingAssignment, AuditEvent)
    result = {model.__name__: model.objects.count() for model in models}
    result["User"] = get_user_model().objects.count()
    return result


def run(world: Any, file: Any, *, actor: str = "principal", year: Any = None) -> ImportReport:
    return import_workbook(
        actor=world.own.users[actor],
        school=world.own.school,
        school_year=year or world.year,
        file=file,
    )


def reject(world: Any, file: Any, **kwargs: Any) -> list[ImportIssue]:
    """Import, expect a refusal, check that nothing changed, return the errors."""
    before = counts()
    with pytest.raises(ImportRejected) as info:
        run(world, file, **kwargs)
    assert counts() == before
    assert info.value.message == f"Tệp có {len(info.value.errors)} lỗi, chưa nhập dữ liệu nào."
    return info.value.errors


def at(errors: list[ImportIssue], sheet: str, row: int | None, column: str) -> ImportIssue:
    """The one error at this place (``column`` is a letter, or a title for a missing column)."""
    found = [
        e
        for e in errors
        if e.sheet == sheet and e.row == row and column in (e.column, e.column_title)
    ]
    assert len(found) == 1, (sheet, row, column, [str(e) for e in errors])
    return found[0]


def letter(sheet: str, title: str) -> str:
    return openpyxl.utils.get_column_letter(TITLES[sheet].index(title) + 1)


# A good file -------------------------------------------------------------------------------


def test_good_file_creates_classes_staff_pupils_with_audit(world: Any) -> None:
    known = Pupil.objects.create(
        ministry_code="2300000009",
        family_name="Lê",
        middle_name="Văn",
        given_name="Bình",
        sex="nam",
        date_of_birth=datetime.date(2016, 2, 2),
    )
    before = counts()
    file = xlsx(
        {
            "Lớp": [
                {"Tên lớp": "5a", "Khối": 5, "Tên đăng nhập GVCN": "Tran.Thi.Hoa"},
                {"Tên lớp": "5B", "Khối": "5", "Tên đăng nhập GVCN": "a_gvbm"},
            ],
            "Cán bộ": [
                staff(
                    **{
                        "Mã cán bộ": 1001,
                        "Họ": nfd("Trần"),
                        "Vai trò": "giáo viên chủ nhiệm,  Giáo viên bộ môn",
                        "Điện thoại": "0912345678",
                        "Email": "hoa@example.edu.vn",
                        "Môn dạy": "5A:Toán, tiếng việt\n4A: Tin học",
                    }
                ),
                staff(
                    **{
                        "Họ": "Lê",
                        "Tên": "Nam",
                        "Tên đăng nhập": "le.nam",
                        "Vai trò": "PHÓ HIỆU TRƯỞNG\nphó hiệu trưởng",
                    }
                ),
            ],
            "Học sinh": [
                pupil(
                    **{
                        "Họ": nfd("Nguyễn"),
                        "Tên": nfd("Mỹ"),
                        "Số định danh cá nhân": "001317001234",
                        "Lớp": "5A",
                        "Nơi sinh": nfd("Hà Nội"),
                    }
                ),
                pupil(
                    **{
                        "Mã học sinh": 2400000002,
                        "Tên đệm": "Văn",
                        "Tên": "Đức",
                        "Giới tính": "nam",
                        "Ngày sinh": datetime.date(2016, 6, 1),
                        "Ngày nhập học": "10/10/2024",
                        "Hình thức": "Chuyển đến",
                        "Số đăng bộ": 17,
                    }
                ),
                pupil(
                    **{
                        "Mã học sinh": "2300000009",
                        "Họ": "Lê",
                        "Tên đệm": "Văn",
                        "Tên": "Bình",
                        "Giới tính": "Nam",
                        "Ngày sinh": "02/02/2016",
                        "Lớp": "5b",
                    }
                ),
            ],
        }
    )

    report = run(world, file)

    assert report.counts() == {
        "classes_created": 2,
        "classes_updated": 0,
        "staff_created": 2,
        "teaching_assignments": 3,
        "pupils_created": 2,
        "pupils_enrolled": 1,
    }
    assert report.created_staff == ["tran.thi.hoa", "le.nam"]
    assert report.enrolled_pupils == ["2300000009"]
    hoa = Staff.objects.get(user__username="tran.thi.hoa")
    assert hoa.family_name == "Trần" and hoa.staff_code == "1001"
    assert hoa.role_set == {Role.HOMEROOM_TEACHER, Role.SUBJECT_TEACHER}
    assert not hoa.user.has_usable_password()
    assert hoa.user.email == "hoa@example.edu.vn"
    assert Staff.objects.get(user__username="le.nam").role_set == {Role.DEPUTY_PRINCIPAL}
    class_5a = SchoolClass.objects.get(school=world.own.school, name="5A")
    assert class_5a.grade == 5 and class_5a.homeroom_teacher == hoa
    assert (
        SchoolClass.objects.get(name="5B").homeroom_teacher
        == world.own.users["subject_teacher"].staff
    )
    assert set(
        TeachingAssignment.objects.filter(teacher=hoa).values_list("school_class__name", "subject")
    ) == {
        ("5A", "toan"),
        ("5A", "tieng_viet"),
        ("4A", "tin_hoc"),
    }
    mai = Pupil.objects.get(ministry_code="2400000001")
    assert (mai.family_name, mai.given_name, mai.birthplace) == ("Nguyễn", "Mỹ", "Hà Nội")
    assert mai.family_name == unicodedata.normalize("NFC", mai.family_name)
    assert mai.personal_id == "001317001234" and mai.ethnicity == "Kinh"
    assert mai.enrolments.get().school_class == class_5a
    duc = Enrolment.objects.get(pupil__ministry_code="2400000002")
    assert duc.school_class == world.own.classes[1]
    assert duc.joined_on == datetime.date(2024, 10, 10) and duc.entry_kind == EntryKind.TRANSFER_IN
    assert duc.register_number == "17"
    enrolment = known.enrolments.get()
    assert enrolment.school_class.name == "5B" and enrolment.joined_on == world.year.starts_on
    after = counts()
    assert after["Pupil"] == before["Pupil"] + 2 and after["Enrolment"] == before["Enrolment"] + 3
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions.count("schools.staff.created") == 2
    assert actions.count("schools.class.created") == 2
    assert actions.count("schools.teaching_assignment.created") == 3
    assert actions.count("schools.pupil.created") == 2
    assert actions.count("schools.enrolment.created") == 3
    completed = AuditEvent.objects.get(action="schools.import.completed")
    assert completed.actor == world.own.users["principal"] and completed.school == world.own.school
    assert (
        completed.changes["pupils_created"] == 2 and completed.changes["school_year"] == "2024-2025"
    )
    assert completed.changes["staff_usernames"] == ["tran.thi.hoa", "le.nam"]


def test_headers_are_found_loosely_and_sheets_may_be_missing(world: Any) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = nfd("học sinh ")
    sheet.append(["DANH SÁCH HỌC SINH NĂM HỌC 2024-2025"])
    sheet.append([])
    sheet.append(
        ["STT", nfd("  NGÀY SINH "), "lớp", "tên", "Họ", "MÃ HỌC SINH", "giới tính", "Ghi chú"]
    )
    sheet.append([1, datetime.datetime(2016, 4, 30), "4a", nfd("Ánh"), "Võ", 2400000003, "nữ", "x"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    report = run(world, buffer.getvalue(), actor="school_admin")

    assert report.created_pupils == ["2400000003"]
    created = Pupil.objects.get(ministry_code="2400000003")
    assert (created.given_name, created.middle_name, created.sex) == ("Ánh", "", "nu")
    assert created.enrolments.get().school_class == world.own.classes[0]


def test_known_pupil_is_enrolled_in_a_new_year(world: Any) -> None:
    next_year = SchoolYear.objects.create(
        name="2025-2026",
        start_year=2025,
        starts_on=datetime.date(2025, 9, 5),
        ends_on=datetime.date(2026, 5, 31),
    )
    first = world.own.pupils[0]
    file = xlsx(
        {
            "Lớp": [{"Tên lớp": "5A", "Khối": 5}],
            "Học sinh": [
                pupil(
                    **{
                        "Mã học sinh": first.ministry_code,
                        "Họ": first.family_name,
                        "Tên đệm": first.middle_name,
                        "Tên": first.given_name.upper(),
                        "Ngày sinh": first.date_of_birth,
                        "Lớp": "5A",
                        "Hình thức": "Lên lớp",
                    }
                )
            ],
        }
    )
    pupils = Pupil.objects.count()

    report = run(world, file, year=next_year)

    assert report.enrolled_pupils == [first.ministry_code] and report.created_pupils == []
    assert Pupil.objects.count() == pupils
    enrolment = first.enrolments.get(school_year=next_year)
    assert enrolment.school_class.name == "5A" and enrolment.entry_kind == EntryKind.PROMOTED


def test_existing_class_row_sets_its_homeroom_teacher(world: Any) -> None:
    file = xlsx({"Lớp": [{"Tên lớp": "4B", "Khối": 4, "Tên đăng nhập GVCN": "a_gvbm"}]})

    report = run(world, file)

    assert report.updated_classes == ["4B"] and report.created_classes == []
    world.own.classes[1].refresh_from_db()
    assert world.own.classes[1].homeroom_teacher == world.own.users["subject_teacher"].staff
    assert AuditEvent.objects.filter(action="schools.class.homeroom_teacher_set").count() == 1


# One test per kind of error ------------------------------------------------------------------


def test_wrong_types_are_reported_by_cell(world: Any) -> None:
    errors = reject(
        world,
        xlsx(
            {
                "Lớp": [{"Tên lớp": "5A", "Khối": "bốn"}, {"Tên lớp": "5B", "Khối": 7}],
                "Học sinh": [
                    pupil(**{"Ngày sinh": "31/02/2017"}),
                    pupil(**{"Mã học sinh": "2400000002", "Ngày sinh": 42005}),
                    pupil(**{"Mã học sinh": 240000003}),
                    pupil(**{"Mã học sinh": "2400000004", "Giới tính": "Khác"}),
                    pupil(**{"Mã học sinh": "2400000005", "Ngày nhập học": "hôm qua"}),
                ],
                "Cán bộ": [staff(**{"Điện thoại": 912345678})],
            }
        ),
    )

    assert "“bốn”" in at(errors, "Lớp", 2, "B").message
    assert "từ 1 đến 5" in at(errors, "Lớp", 3, "B").message
    date_column = letter("Học sinh", "Ngày sinh")
    assert "31/02/2017" in at(errors, "Học sinh", 2, date_column).message
    assert "42005" in at(errors, "Học sinh", 3, date_column).message
    lost = at(errors, "Học sinh", 4, "A")
    assert str(lost).startswith(
        "Học sinh, dòng 4, cột A (Mã học sinh): “240000003” chỉ có 9 chữ số"
    )
    assert "Văn bản (Text)" in lost.message
    assert "Nam" in at(errors, "Học sinh", 5, letter("Học sinh", "Giới tính")).message
    assert "hôm qua" in at(errors, "Học sinh", 6, letter("Học sinh", "Ngày nhập học")).message
    assert "số 0" in at(errors, "Cán bộ", 2, letter("Cán bộ", "Điện thoại")).message
    assert len(errors) == 8


def test_too_long_text_and_bad_username_or_email(world: Any) -> None:
    file = xlsx(
        {
            "Cán bộ": [
                staff(**{"Họ": "Nguyễn" * 11, "Mã cán bộ": "X" * 41}),
                staff(**{"Tên đăng nhập": "tên có dấu cách", "Email": "khong-phai-email"}),
            ]
        }
    )

    errors = reject(world, file)

    assert at(errors, "Cán bộ", 2, "B").message == "Dài 66 ký tự, tối đa 60."
    assert "tối đa 40" in at(errors, "Cán bộ", 2, "A").message
    assert at(errors, "Cán bộ", 3, letter("Cán bộ", "Tên đăng nhập"))
    assert "khong-phai-email" in at(errors, "Cán bộ", 3, letter("Cán bộ", "Email")).message
    assert len(errors) == 4


def test_missing_required_column_is_reported_once_per_sheet(world: Any) -> None:
    titles = {
        "Học sinh": [t for t in TITLES["Học sinh"] if t != "Ngày sinh"],
        "Cán bộ": [t for t in TITLES["Cán bộ"] if t != "Vai trò"],
    }
    file = xlsx(
        {"Học sinh": [pupil(), pupil(**{"Mã học sinh": "2400000002"})], "Cán bộ": [staff()]}, titles
    )

    errors = reject(world, file)

    assert at(errors, "Học sinh", None, "Ngày sinh").message == "Thiếu cột bắt buộc “Ngày sinh”."
    assert str(at(errors, "Cán bộ", None, "Vai trò")) == "Cán bộ: Thiếu cột bắt buộc “Vai trò”."
    assert len(errors) == 2


def test_missing_required_values(world: Any) -> None:
    errors = reject(world, xlsx({"Học sinh": [pupil(**{"Tên": "  ", "Lớp": None})]}))

    assert at(errors, "Học sinh", 2, letter("Học sinh", "Tên")).message == "Chưa nhập “Tên”."
    assert at(errors, "Học sinh", 2, letter("Học sinh", "Lớp")).message == "Chưa nhập “Lớp”."
    assert len(errors) == 2


def test_duplicates_within_the_file(world: Any) -> None:
    file = xlsx(
        {
            "Lớp": [{"Tên lớp": "5A", "Khối": 5}, {"Tên lớp": "5a", "Khối": 5}],
            "Cán bộ": [staff(**{"Mã cán bộ": "CB1"}), staff(**{"Mã cán bộ": "CB1"})],
            "Học sinh": [
                pupil(**{"Số định danh cá nhân": "001317001234"}),
                pupil(**{"Số định danh cá nhân": "001317001234"}),
            ],
        }
    )

    errors = reject(world, file)

    assert "dòng 2" in at(errors, "Lớp", 3, "A").message
    assert "dòng 2" in at(errors, "Cán bộ", 3, letter("Cán bộ", "Tên đăng nhập")).message
    assert "dòng 2" in at(errors, "Cán bộ", 3, letter("Cán bộ", "Mã cán bộ")).message
    assert "dòng 2" in at(errors, "Học sinh", 3, "A").message
    assert "dòng 2" in at(errors, "Học sinh", 3, "B").message
    assert len(errors) == 5


def test_codes_already_in_the_database(world: Any) -> None:
    other = world.foreign.pupils[0]
    Staff.objects.filter(pk=world.own.users["subject_teacher"].staff.pk).update(staff_code="CB9")
    file = xlsx(
        {
            "Cán bộ": [staff(**{"Tên đăng nhập": "A_HT"}), staff(**{"Mã cán bộ": "CB9"})],
            "Học sinh": [
                pupil(**{"Mã học sinh": other.ministry_code}),
                pupil(**{"Số định danh cá nhân": "001317001234"}),
            ],
        }
    )
    Pupil.objects.filter(pk=world.own.pupils[0].pk).update(personal_id="001317001234")

    errors = reject(world, file)

    assert "đã có người dùng" in at(errors, "Cán bộ", 2, letter("Cán bộ", "Tên đăng nhập")).message
    assert "đã có trong trường" in at(errors, "Cán bộ", 3, "A").message
    message = at(errors, "Học sinh", 2, "A").message
    assert "là một học sinh khác" in message and other.given_name not in message
    assert "học sinh khác" in at(errors, "Học sinh", 3, "B").message
    assert len(errors) == 4


def test_pupil_enrolled_twice_in_one_year(world: Any) -> None:
    def same(person: Pupil) -> dict[str, Any]:
        return pupil(
            **{
                "Mã học sinh": person.ministry_code,
                "Họ": person.family_name,
                "Tên đệm": person.middle_name,
                "Tên": person.given_name,
                "Giới tính": "Nữ" if person.sex == "nu" else "Nam",
                "Ngày sinh": person.date_of_birth.strftime("%d/%m/%Y"),
            }
        )

    file = xlsx({"Học sinh": [same(world.own.pupils[0]), same(world.foreign.pupils[1])]})

    errors = reject(world, file)

    own = at(errors, "Học sinh", 2, "A").message
    assert own == "Học sinh Trần Thị Ánh đã có tên ở lớp 4A năm học 2024-2025."
    foreign = at(errors, "Học sinh", 3, "A").message
    assert "một trường khác" in foreign and "Trường Tiểu học B" not in foreign


def test_bad_ministry_codes_and_personal_ids(world: Any) -> None:
    file = xlsx(
        {
            "Học sinh": [
                pupil(**{"Mã học sinh": "12345"}),
                pupil(**{"Mã học sinh": "24000000AB"}),
                pupil(**{"Mã học sinh": "2400000003", "Số định danh cá nhân": "999317001234"}),
                pupil(**{"Mã học sinh": "2400000004", "Số định danh cá nhân": "00131700123"}),
                pupil(**{"Mã học sinh": "2400000005", "Số định danh cá nhân": "001217001234"}),
                pupil(**{"Mã học sinh": "2400000006", "Số định danh cá nhân": "001316001234"}),
                pupil(**{"Mã học sinh": "2400000007", "Số định danh cá nhân": 1317001234}),
            ]
        }
    )

    errors = reject(world, file)

    assert str(at(errors, "Học sinh", 2, "A")) == (
        "Học sinh, dòng 2, cột A (Mã học sinh): Mã học sinh “12345” phải có đúng 10 chữ số "
        "(đang có 5)."
    )
    assert "chỉ được gồm chữ số" in at(errors, "Học sinh", 3, "A").message
    assert "mã tỉnh" in at(errors, "Học sinh", 4, "B").message
    assert "12 chữ số" in at(errors, "Học sinh", 5, "B").message
    assert "giới tính" in at(errors, "Học sinh", 6, "B").message
    assert "năm sinh" in at(errors, "Học sinh", 7, "B").message
    assert "số 0" in at(errors, "Học sinh", 8, "B").message
    assert len(errors) == 7


def test_unknown_class_and_homeroom_teacher(world: Any) -> None:
    file = xlsx(
        {
            "Lớp": [{"Tên lớp": "5A", "Khối": 5, "Tên đăng nhập GVCN": "khong.co"}],
            "Học sinh": [
                pupil(**{"Lớp": "5Z"}),
                pupil(**{"Mã học sinh": "2400000002", "Lớp": "5A"}),
            ],
        }
    )

    errors = reject(world, file)

    assert "khong.co" in at(errors, "Lớp", 2, "C").message
    assert "5Z" in at(errors, "Học sinh", 2, letter("Học sinh", "Lớp")).message
    assert len(errors) == 2


def test_unknown_role_subject_and_taught_class(world: Any) -> None:
    file = xlsx(
        {
            "Cán bộ": [
                staff(**{"Vai trò": "Giáo viên bộ môn, Bảo vệ"}),
                staff(**{"Tên đăng nhập": "b2", "Vai trò": "Cán bộ Phòng GD&ĐT"}),
                staff(**{"Tên đăng nhập": "b3", "Môn dạy": "4A:Bơi lội, Toán"}),
                staff(**{"Tên đăng nhập": "b4", "Môn dạy": "4Z:Toán; 4A:toan"}),
                staff(**{"Tên đăng nhập": "b5", "Môn dạy": "Toán"}),
            ]
        }
    )

    errors = reject(world, file)

    role, teaching = letter("Cán bộ", "Vai trò"), letter("Cán bộ", "Môn dạy")
    assert "“Bảo vệ”" in at(errors, "Cán bộ", 2, role).message
    assert "Cán bộ Phòng GD&ĐT" in at(errors, "Cán bộ", 3, role).message
    assert "Bơi lội" in at(errors, "Cán bộ", 4, teaching).message
    assert "4Z" in at(errors, "Cán bộ", 5, teaching).message
    assert "Lớp:môn" in at(errors, "Cán bộ", 6, teaching).message
    assert len(errors) == 5


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"Ma hoc sinh,Ho,Ten\n2400000001,Nguyen,Mai\n",
        b"%PDF-1.7\n",
        b"PK\x03\x04 broken",
        "zip-without-workbook",
    ],
)
def test_a_file_that_is_not_xlsx_is_refused(world: Any, content: bytes | str) -> None:
    if content == "zip-without-workbook":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("hello.txt", "xin chào")
        content = buffer.getvalue()

    errors = reject(world, content)

    assert [str(e) for e in errors] == [NOT_XLSX]


def test_a_workbook_without_known_sheets_or_rows_is_refused(world: Any, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    path = tmp_path / "trong.xlsx"
    workbook.save(path)
    assert "“Học sinh”" in reject(world, path)[0].message
    assert reject(world, build_template())[0].message == "Tệp không có dòng dữ liệu nào để nhập."


def test_size_and_row_limits(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    file = xlsx({"Học sinh": [pupil(**{"Mã học sinh": f"240000000{i}"}) for i in range(3)]})
    monkeypatch.setitem(import_parsing.MAX_ROWS, "pupils", 2)
    assert "tối đa 2 dòng" in reject(world, file)[0].message
    monkeypatch.setattr(import_parsing, "MAX_FILE_BYTES", 1000)
    assert "lớn hơn" in reject(world, io.BytesIO(file))[0].message
    monkeypatch.setattr(import_parsing, "MAX_FILE_BYTES", 10**7)
    monkeypatch.setattr(import_parsing, "MAX_UNZIPPED_BYTES", 1000)
    assert "giải nén" in reject(world, file)[0].message


def test_a_service_refusal_midway_rolls_everything_back(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    admit = services.admit_pupil
    calls: list[int] = []

    def refuse_second(**kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise DomainError("Không nhận thêm học sinh.", field="given_name")
        return admit(**kwargs)

    monkeypatch.setattr(services, "admit_pupil", refuse_second)
    file = xlsx(
        {
            "Lớp": [{"Tên lớp": "5A", "Khối": 5}],
            "Cán bộ": [staff()],
            "Học sinh": [pupil(), pupil(**{"Mã học sinh": "2400000002"})],
        }
    )

    errors = reject(world, file)

    assert [str(e) for e in errors] == ["Học sinh, dòng 3, cột E (Tên): Không nhận thêm học sinh."]


@pytest.mark.parametrize(
    "who", ["homeroom_teacher", "subject_teacher", "district_staff", "foreign"]
)
def test_only_the_schools_managers_may_import(world: Any, who: str) -> None:
    actor = {
        "district_staff": world.users["district_staff"],
        "foreign": world.foreign.users["principal"],
    }.get(who) or world.own.users[who]
    before = counts()
    with pytest.raises(PermissionRefused):
        import_workbook(
            actor=actor,
            school=world.own.school,
            school_year=world.year,
            file=xlsx({"Lớp": [{"Tên lớp": "5A", "Khối": 5}]}),
        )
    assert counts() == before


# The template, the documentation and the command ------------------------------------------


def test_template_has_documented_sheets_and_its_examples_import(world: Any) -> None:
    template = openpyxl.load_workbook(io.BytesIO(build_template()))
    assert template.sheetnames == ["Lớp", "Học sinh", "Cán bộ", "Hướng dẫn"]
    for name, titles in DOCUMENTED_TITLES.items():
        header = next(template[name].iter_rows(max_row=1, values_only=True))
        assert list(header) == titles
        assert template[name]["A1"].font.bold
    guide = [value for row in template["Hướng dẫn"].iter_rows(values_only=True) for value in row]
    assert "Mã học sinh" in guide and "2400000001" in guide
    for spec in SHEETS:
        for example in spec.examples:
            template[spec.name].append(list(example))
    buffer = io.BytesIO()
    template.save(buffer)

    report = run(world, buffer.getvalue())

    assert (report.classes_created, report.staff_created, report.pupils_created) == (2, 2, 2)
    assert report.teaching_assignments == 4


def test_docs_describe_every_sheet_and_column() -> None:
    docs = Path(__file__).resolve().parents[4] / "docs" / "import.md"
    if not docs.exists():
        pytest.skip("installed without the docs folder")
    text = docs.read_text(encoding="utf-8")
    for spec in SHEETS:
        assert f"“{spec.name}”" in text
        for column in spec.columns:
            assert f"| {column.title} |" in text, column.title


def test_command_imports_and_reports(world: Any, tmp_path: Path) -> None:
    path = tmp_path / "du-lieu.xlsx"
    path.write_bytes(xlsx({"Cán bộ": [staff()], "Học sinh": [pupil()]}))
    out = io.StringIO()

    call_command(
        "import_excel", str(path), school="01001", year="2024-2025", user="a_qt", stdout=out
    )

    assert "1 cán bộ" in out.getvalue() and "1 học sinh mới" in out.getvalue()
    assert "tran.thi.hoa" in out.getvalue()
    assert Pupil.objects.filter(ministry_code="2400000001").exists()


def test_command_lists_every_error_and_fails(world: Any, tmp_path: Path) -> None:
    path = tmp_path / "loi.xlsx"
    path.write_bytes(xlsx({"Học sinh": [pupil(**{"Mã học sinh": "12345", "Lớp": "9Z"})]}))
    err = io.StringIO()
    before = counts()

    with pytest.raises(CommandError, match="Tệp có 2 lỗi, chưa nhập dữ liệu nào"):
        call_command(
            "import_excel", str(path), school="01001", year="2024-2025", user="a_ht", stderr=err
        )

    lines = err.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("Học sinh, dòng 2, cột A (Mã học sinh): ")
    assert counts() == before
    with pytest.raises(CommandError, match="không có quyền"):
        call_command("import_excel", str(path), school="01001", year="2024-2025", user="a_gvcn")


def test_command_writes_the_template(tmp_path: Path) -> None:
    path = tmp_path / "mau.xlsx"

    call_command("import_excel", template=str(path), stdout=io.StringIO())

    assert openpyxl.load_workbook(path).sheetnames[:3] == ["Lớp", "Học sinh", "Cán bộ"]
