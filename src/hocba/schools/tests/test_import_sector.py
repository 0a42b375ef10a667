"""Import of the sector database's pupil and staff lists (CSDL ngành): tolerant, all or nothing."""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from hocba.audit.models import AuditEvent
from hocba.conftest import World
from hocba.schools.import_sector import header_key
from hocba.schools.import_sector_plan import roles_for, split_full_name
from hocba.schools.importer import ImportIssue, ImportRejected, ImportReport, import_workbook
from hocba.schools.models import Enrolment, Pupil, Role, SchoolClass, Staff, StaffRole

PUPIL_HEADER = [
    "STT",
    "Mã học sinh",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Dân tộc",
    "Quốc tịch",
    "Nơi sinh",
    "Quê quán",
    "Địa chỉ",
    "Mã định danh",
    "Lớp",
    "Khối",
    "Họ tên cha",
    "Họ tên mẹ",
    "Trạng thái",
    "Ghi chú nội bộ",  # a column the importer does not know
]
STAFF_HEADER = [
    "STT",
    "Mã cán bộ",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Chức vụ",
    "Vị trí việc làm",
    "Số điện thoại",
    "Email",
    "Môn dạy",
    "Trạng thái",
]
TITLE_ROWS = [
    ["SỞ GD&ĐT THÀNH PHỐ HÀ NỘI"],
    ["TRƯỜNG TIỂU HỌC A"],
    [],
    ["DANH SÁCH HỌC SINH"],
    ["Năm học 2024-2025"],
]
HEADER_ROW = len(TITLE_ROWS) + 1  # row 6; data starts at row 7


def pupil(**values: Any) -> dict[str, Any]:
    row = {
        "Mã học sinh": "2400000001",
        "Họ và tên": "Nguyễn Thị Mai",
        "Ngày sinh": "15/03/2016",
        "Giới tính": "Nữ",
        "Dân tộc": "Kinh",
        "Quốc tịch": "Việt Nam",
        "Lớp": "3A",
        "Khối": "Khối 3",
        "Họ tên cha": "Nguyễn Văn Hùng",
        "Trạng thái": "Đang học",
        "Ghi chú nội bộ": "x",
    }
    return {**row, **values}


def staff_member(**values: Any) -> dict[str, Any]:
    row = {
        "Mã cán bộ": "CB001",
        "Họ và tên": "Trần Thị Hoa",
        "Ngày sinh": "02/05/1985",
        "Giới tính": "Nữ",
        "Chức vụ": "Giáo viên",
        "Vị trí việc làm": "Giáo viên tiểu học hạng III",
        "Số điện thoại": "0912345678",
        "Email": "hoa@example.edu.vn",
        "Trạng thái": "Đang làm việc",
    }
    return {**row, **values}


def export(
    pupils: list[dict[str, Any]] | None = None,
    staff: list[dict[str, Any]] | None = None,
    *,
    pupil_header: list[str] = PUPIL_HEADER,
    numbering_row: bool = False,
    sheet_title: str = "Danh sách học sinh",
) -> bytes:
    """A sector-style workbook: merged title block, header, optional "(1) (2)…" row, data."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    lists = [(sheet_title, pupil_header, pupils), ("DS cán bộ", STAFF_HEADER, staff)]
    for title, header, records in lists:
        if records is None:
            continue
        sheet = workbook.create_sheet(title)
        for row in TITLE_ROWS:
            sheet.append(row)
        for number in (1, 2, 4, 5):
            sheet.merge_cells(start_row=number, start_column=1, end_row=number, end_column=8)
        sheet.append(header)
        if numbering_row:
            sheet.append([f"({index})" for index in range(1, len(header) + 1)])
        for index, record in enumerate(records, start=1):
            sheet.append([index, *(record.get(title) for title in header[1:])])
        sheet.append([])
        sheet.append([None, None, "Người lập biểu"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(world: World, file: Any, **kwargs: Any) -> ImportReport:
    return import_workbook(
        actor=world.own.users["principal"],
        school=world.own.school,
        school_year=world.year,
        file=file,
        **kwargs,
    )


def counts() -> dict[str, int]:
    models = (Pupil, Enrolment, SchoolClass, Staff, StaffRole, AuditEvent)
    result = {model.__name__: model.objects.count() for model in models}
    result["User"] = get_user_model().objects.count()
    return result


def reject(world: World, file: Any) -> list[ImportIssue]:
    before = counts()
    with pytest.raises(ImportRejected) as info:
        run(world, file)
    assert counts() == before
    return info.value.errors


# Pure helpers ------------------------------------------------------------------------------


def test_full_name_splits_in_vietnamese_order() -> None:
    assert split_full_name(" Nguyễn  Thị Minh   Khai ") == ("Nguyễn", "Thị Minh", "Khai")
    assert split_full_name("Lê Nam") == ("Lê", "", "Nam")
    assert split_full_name("") == ("", "", "")


def test_header_titles_match_without_accents_case_or_notes() -> None:
    assert header_key("NGÀY SINH (dd/mm/yyyy)") == header_key("ngay sinh")
    assert header_key("Họ  và\ntên") == "ho va ten"
    assert header_key("Số ĐDCN") == "so ddcn"


@pytest.mark.parametrize(
    ("position", "job", "expected"),
    [
        ("Hiệu trưởng", "", {Role.PRINCIPAL}),
        ("Phó Hiệu trưởng", "Phó hiệu trưởng", {Role.DEPUTY_PRINCIPAL}),
        ("Giáo viên", "Giáo viên tiểu học", {Role.SUBJECT_TEACHER}),
        ("Giáo viên chủ nhiệm", "", {Role.SUBJECT_TEACHER, Role.HOMEROOM_TEACHER}),
        ("Nhân viên", "Văn thư", {Role.SCHOOL_ADMIN}),
        ("Nhân viên", "Kế toán", set()),
    ],
)
def test_positions_map_to_roles(position: str, job: str, expected: set[str]) -> None:
    assert set(roles_for(position, job, teaches=False, homeroom=False)) == expected


# A good export -----------------------------------------------------------------------------


def test_export_with_title_block_creates_classes_pupils_and_staff(world: World) -> None:
    file = export(
        [
            pupil(),
            pupil(
                **{
                    "Mã học sinh": 2400000002,
                    "Họ và tên": "Hoàng Minh Khang",
                    "Giới tính": "nam",
                    "Ngày sinh": datetime.datetime(2016, 11, 2),  # an Excel date cell
                    "Lớp": "Lớp 3b",
                    "Khối": 3,
                    "Trạng thái": "Chuyển đến",
                }
            ),
            pupil(**{"Mã học sinh": "2400000003", "Lớp": "4A", "Khối": None}),
            pupil(**{"Mã học sinh": "2400000004", "Trạng thái": "Chuyển đi"}),
        ],
        [
            staff_member(),
            staff_member(
                **{
                    "Mã cán bộ": "CB002",
                    "Họ và tên": "Lê Văn Nam",
                    "Chức vụ": "Hiệu trưởng",
                    "Vị trí việc làm": "Hiệu trưởng",
                    "Số điện thoại": 987654321,  # a number cell lost the leading 0
                }
            ),
            staff_member(**{"Mã cán bộ": "CB003", "Trạng thái": "Nghỉ hưu"}),
        ],
        numbering_row=True,
    )
    report = run(world, file)
    assert report.layout == "csdl"
    assert report.created_classes == ["3A", "3B"]  # 4A already exists
    assert report.created_pupils == ["2400000001", "2400000002", "2400000003"]
    assert report.created_staff == ["tran.thi.hoa", "le.van.nam"]
    mai = Pupil.objects.get(ministry_code="2400000001")
    assert (mai.family_name, mai.middle_name, mai.given_name) == ("Nguyễn", "Thị", "Mai")
    assert mai.date_of_birth == datetime.date(2016, 3, 15) and mai.father_name == "Nguyễn Văn Hùng"
    khang = Enrolment.objects.get(pupil__ministry_code="2400000002")
    assert khang.school_class.name == "3B" and khang.entry_kind == "transfer_in"
    assert khang.pupil.date_of_birth == datetime.date(2016, 11, 2)
    assert SchoolClass.objects.get(school=world.own.school, name="3B").grade == 3
    principal = Staff.objects.get(school=world.own.school, staff_code="CB002")
    assert principal.phone == "0987654321" and set(
        principal.roles.values_list("role", flat=True)
    ) == {Role.PRINCIPAL}
    skipped = {(note.row, note.message) for note in report.notes}
    assert (10 + 1, "Bỏ qua Nguyễn Thị Mai: trạng thái “Chuyển đi”, không phải đang học.") in {
        (row, message) for row, message in skipped
    }
    assert any("Nghỉ hưu" in message for _row, message in skipped)
    event = AuditEvent.objects.get(action="schools.import.completed")
    assert event.changes["layout"] == "csdl" and event.changes["skipped"] == 2


def test_reimporting_the_same_export_changes_nothing(world: World) -> None:
    file = export([pupil(), pupil(**{"Mã học sinh": "2400000002"})], [staff_member()])
    run(world, file)
    before = counts()
    report = run(world, file)
    assert counts() == before
    assert report.counts() == {key: 0 for key in report.counts()}
    assert len(report.notes) == 3
    messages = [note.message for note in report.notes]
    assert "Học sinh Nguyễn Thị Mai đã có tên ở lớp 3A năm học 2024-2025, không nhập lại." in (
        messages
    )


def test_a_known_pupil_from_another_year_is_enrolled_not_duplicated(world: World) -> None:
    known = world.own.pupils[0]
    Enrolment.objects.filter(pupil=known).delete()
    name = f"{known.family_name} {known.middle_name} {known.given_name}"
    file = export(
        [
            pupil(
                **{
                    "Mã học sinh": known.ministry_code,
                    "Họ và tên": name,
                    "Ngày sinh": known.date_of_birth.strftime("%d/%m/%Y"),
                    "Giới tính": "Nữ" if known.sex == "nu" else "Nam",
                    "Lớp": "4B",
                }
            )
        ]
    )
    report = run(world, file)
    assert report.enrolled_pupils == [known.ministry_code] and report.created_pupils == []


def test_layout_can_be_forced_and_the_command_reads_exports(world: World, tmp_path: Path) -> None:
    path = tmp_path / "ds-hoc-sinh.xlsx"
    path.write_bytes(export([pupil()]))
    out = io.StringIO()
    call_command(
        "import_excel",
        str(path),
        school=world.own.school.code,
        year=world.year.name,
        user=world.own.users["principal"].username,
        format="csdl",
        stdout=out,
    )
    assert Pupil.objects.filter(ministry_code="2400000001").exists()
    assert "1 học sinh mới" in out.getvalue()
    with pytest.raises(ImportRejected) as info:
        run(world, export([pupil()]), layout="template")
    assert "Lớp" in info.value.errors[0].message  # the template needs its own sheet names


def test_forcing_the_sector_layout_on_a_template_file_explains(world: World) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["Mã học sinh", "Họ", "Tên"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(ImportRejected) as info:
        run(world, buffer.getvalue(), layout="csdl")
    assert "“Họ và tên”" in info.value.errors[0].message


# Refusals: every error placed, nothing written ----------------------------------------------


def test_missing_required_column_is_named(world: World) -> None:
    header = [title for title in PUPIL_HEADER if title != "Ngày sinh"]
    errors = reject(world, export([pupil()], pupil_header=header))
    assert [str(error) for error in errors] == [
        "Danh sách học sinh: Thiếu cột bắt buộc “Ngày sinh”."
    ]


def test_bad_date_and_bad_values_reject_the_whole_file(world: World) -> None:
    file = export(
        [
            pupil(),
            pupil(**{"Mã học sinh": "2400000002", "Ngày sinh": "31/02/2016"}),
            pupil(**{"Mã học sinh": "123", "Giới tính": "K", "Trạng thái": "Đang nghỉ ốm"}),
        ],
        [staff_member(**{"Email": "khong-phai-email"})],
    )
    errors = reject(world, file)
    places = {(error.sheet, error.row, error.column, error.column_title) for error in errors}
    assert ("Danh sách học sinh", 8, "D", "Ngày sinh") in places
    assert ("Danh sách học sinh", 9, "B", "Mã học sinh") in places
    assert ("Danh sách học sinh", 9, "E", "Giới tính") in places
    assert ("Danh sách học sinh", 9, "P", "Trạng thái") in places
    assert ("DS cán bộ", 7, "I", "Email") in places
    date_error = next(error for error in errors if error.row == 8)
    assert str(date_error) == (
        "Danh sách học sinh, dòng 8, cột D (Ngày sinh): “31/02/2016” không phải là ngày hợp lệ; "
        "cần dạng dd/mm/yyyy, ví dụ 15/03/2018."
    )
    assert not Pupil.objects.filter(ministry_code="2400000001").exists()


def test_duplicate_codes_in_the_file_are_errors(world: World) -> None:
    errors = reject(world, export([pupil(), pupil(**{"Họ và tên": "Lê Thị Mai"})]))
    assert [(error.row, error.message) for error in errors] == [
        (8, "Mã học sinh trùng với dòng 7.")
    ]


def test_a_template_file_is_still_read_as_the_template(world: World) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Lớp"
    sheet.append(["Tên lớp", "Khối"])
    sheet.append(["5C", 5])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run(world, buffer.getvalue())
    assert report.layout == "template" and report.created_classes == ["5C"]


def test_header_variants_synonyms_and_date_forms_are_read(world: World) -> None:
    header = [
        "STT",
        "MÃ HS",
        "HỌ VÀ TÊN",
        "Ngày tháng năm sinh (dd/mm/yyyy)",
        "Giới tính",
        "Tên lớp",
        "Số định danh cá nhân",
        "Nơi ở hiện nay",
    ]
    records = [
        {
            "MÃ HS": "2400000001",
            "HỌ VÀ TÊN": "Đỗ Minh Khôi",
            "Ngày tháng năm sinh (dd/mm/yyyy)": "05-09-2016",
            "Giới tính": "Nam",
            "Tên lớp": "3a",
            "Nơi ở hiện nay": "Phường Ba Đình, Hà Nội",
        },
        {
            "MÃ HS": "2400000002",
            "HỌ VÀ TÊN": "Lò Thị Ánh",
            "Ngày tháng năm sinh (dd/mm/yyyy)": 42500,  # an unformatted Excel day number
            "Giới tính": "Nữ",
            "Tên lớp": "3A",
        },
    ]
    report = run(world, export(records, pupil_header=header))
    assert report.created_pupils == ["2400000001", "2400000002"]
    khoi = Pupil.objects.get(ministry_code="2400000001")
    assert khoi.date_of_birth == datetime.date(2016, 9, 5)
    assert khoi.address == "Phường Ba Đình, Hà Nội" and khoi.ethnicity == "Kinh"
    assert Pupil.objects.get(ministry_code="2400000002").date_of_birth == datetime.date(2016, 5, 10)


STAFF_WITH_HOMEROOM = [*STAFF_HEADER, "Lớp chủ nhiệm"]


def test_homeroom_class_column_sets_the_homeroom_teacher_once(world: World) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Cán bộ"
    sheet.append(["DANH SÁCH CÁN BỘ, GIÁO VIÊN, NHÂN VIÊN"])
    sheet.append(STAFF_WITH_HOMEROOM)
    member = staff_member(**{"Lớp chủ nhiệm": "4B"})
    sheet.append([1, *(member.get(title) for title in STAFF_WITH_HOMEROOM[1:])])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run(world, buffer.getvalue())
    assert report.updated_classes == ["4B"] and report.created_staff == ["tran.thi.hoa"]
    hoa = Staff.objects.get(staff_code="CB001")
    assert set(hoa.roles.values_list("role", flat=True)) == {
        Role.SUBJECT_TEACHER,
        Role.HOMEROOM_TEACHER,
    }
    assert SchoolClass.objects.get(pk=world.own.classes[1].pk).homeroom_teacher == hoa
    before = counts()
    again = run(world, buffer.getvalue())
    assert counts() == before and again.updated_classes == []


def test_login_names_are_numbered_when_taken(world: World) -> None:
    get_user_model().objects.create_user(username="tran.thi.hoa")
    file = export(None, [staff_member(), staff_member(**{"Mã cán bộ": "CB002"})])
    assert run(world, file).created_staff == ["tran.thi.hoa2", "tran.thi.hoa3"]


def test_too_long_text_is_an_error_not_cut(world: World) -> None:
    errors = reject(world, export([pupil(**{"Địa chỉ": "x" * 300})]))
    assert [(error.row, error.column, error.message) for error in errors] == [
        (7, "J", "Dài 300 ký tự, tối đa 255.")
    ]
