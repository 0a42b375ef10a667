"""Excel round-trip of the assessment grids, the class summary and the comment bank (issue 3 §5)."""

from __future__ import annotations

import decimal
import io
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from hocba.assessment import comment_bank, excel, services
from hocba.assessment.cells import CellAddress
from hocba.assessment.models import (
    AssessmentSettings,
    CellChange,
    CommentBankEntry,
    CompetencyMark,
    PupilYearFacts,
    SubjectMark,
)
from hocba.audit.models import AuditEvent
from hocba.common.errors import PermissionRefused
from hocba.conftest import World
from hocba.schools.models import Enrolment, SchoolClass, TeachingAssignment

LEVEL, SCORE, COMMENT = "E", "F", "G"


def _class(world: World) -> SchoolClass:
    return world.own.classes[0]  # 4A: three pupils, toan taught by the subject teacher


def _enrolment(code: str) -> Enrolment:
    return Enrolment.objects.get(pupil__ministry_code=code, left_on__isnull=True)


def _edit(code: str, sheet: str, key: str, period: str, field: str, value: Any) -> Any:
    return services.CellEdit(_enrolment(code).pk, CellAddress(sheet, key, period, field), value)


def _enter_maths(world: World) -> None:
    edits = []
    for code, level, score, comment in (
        ("0000000001", "T", 9, "Làm bài cẩn thận."),
        ("0000000002", "H", 7, "Cần luyện thêm phép chia."),
        ("0000000003", "C", 4, ""),
    ):
        edits += [
            _edit(code, "subject", "toan", "ck1", "level", level),
            _edit(code, "subject", "toan", "ck1", "score", score),
            _edit(code, "subject", "toan", "ck1", "comment", comment),
        ]
    services.apply_edits(
        actor=world.own.users["subject_teacher"], school_class=_class(world), edits=edits
    )


def _maths_workbook(world: World, user: str = "subject_teacher") -> openpyxl.Workbook:
    data = excel.grid_workbook(
        actor=world.own.users[user],
        school_class=_class(world),
        kind="subject",
        period="ck1",
        subject="toan",
    )
    return openpyxl.load_workbook(io.BytesIO(data))


def _bytes(workbook: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _row(sheet: Worksheet, code: str) -> int:
    for row in range(1, sheet.max_row + 1):
        if sheet.cell(row=row, column=2).value == code:
            return row
    raise AssertionError(code)


def _import_maths(world: World, data: bytes, user: str = "subject_teacher") -> Any:
    return excel.import_grid_workbook(
        actor=world.own.users[user],
        school_class=_class(world),
        kind="subject",
        period="ck1",
        subject="toan",
        file=data,
    )


def _counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count() for model in (SubjectMark, CompetencyMark, PupilYearFacts, CellChange)
    )


def _rejected(call: Callable[[], Any]) -> list[excel.AssessmentImportIssue]:
    before = _counts()
    with pytest.raises(excel.AssessmentImportRejected) as caught:
        call()
    assert _counts() == before, "a rejected file must leave the database unchanged"
    return caught.value.errors


def _mark(code: str) -> SubjectMark:
    return SubjectMark.objects.get(enrolment=_enrolment(code), subject="toan", period="ck1")


# The download ---------------------------------------------------------------------------------


def test_download_is_filled_in_name_order_and_ready_for_excel(world: World) -> None:
    _enter_maths(world)
    workbook = _maths_workbook(world)
    sheet = workbook["Toán"]
    assert workbook.sheetnames == ["Toán", "_hocba"]
    assert [sheet.cell(row=10, column=c).value for c in range(1, 8)] == [
        "STT",
        "Mã học sinh",
        "Họ và tên",
        "Ngày sinh",
        "Mức đạt được",
        "Điểm KTĐK",
        "Nhận xét",
    ]
    names = [sheet.cell(row=r, column=3).value for r in (11, 12, 13)]
    assert names == ["Lê Văn An", "Trần Thị Ánh", "Phạm Minh Đức"]  # by given name
    assert [sheet[f"{c}12"].value for c in (LEVEL, SCORE, COMMENT)] == [
        "T",
        9,
        "Làm bài cẩn thận.",
    ]
    identity = {
        sheet.cell(row=r, column=2).value: sheet.cell(row=r, column=3).value for r in range(2, 8)
    }
    assert identity["Mã trường"] == "01001" and identity["Lớp"] == "4A"
    assert identity["Môn học"] == "Toán" and identity["Thời điểm"] == "Cuối học kì I"
    assert sheet.freeze_panes == "E11"
    assert sheet.protection.sheet and not sheet["E11"].protection.locked
    assert sheet["B11"].protection.locked and sheet["B11"].number_format == "@"
    rules = {dv.type: (dv.formula1, str(dv.sqref)) for dv in sheet.data_validations.dataValidation}
    assert rules["list"] == ('"T,H,C"', "E11:E13")
    assert rules["whole"] == ("1", "F11:F13")
    assert workbook["_hocba"].sheet_state == "hidden" and workbook["_hocba"].protection.sheet


def test_score_column_only_where_the_subject_is_tested_and_zero_follows_the_setting(
    world: World,
) -> None:
    school_class = _class(world)
    TeachingAssignment.objects.create(
        teacher=world.own.users["subject_teacher"].staff,
        school_class=school_class,
        subject="dao_duc",
    )
    data = excel.grid_workbook(
        actor=world.own.users["subject_teacher"],
        school_class=school_class,
        kind="subject",
        period="ck1",
        subject="dao_duc",
    )
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Đạo đức"]
    assert [sheet.cell(row=10, column=c).value for c in (5, 6, 7)] == [
        "Mức đạt được",
        "Nhận xét",
        None,
    ]
    AssessmentSettings.objects.create(school_year=world.year, allow_zero_score=True)
    sheet = _maths_workbook(world)["Toán"]
    whole = next(dv for dv in sheet.data_validations.dataValidation if dv.type == "whole")
    assert whole.formula1 == "0"


# Round trip -----------------------------------------------------------------------------------


def test_unchanged_upload_changes_nothing_and_writes_no_history(world: World) -> None:
    _enter_maths(world)
    versions = list(SubjectMark.objects.order_by("pk").values_list("version", flat=True))
    before = _counts()
    report = _import_maths(world, _bytes(_maths_workbook(world)))
    assert report.changed_cells == 0
    assert "không có gì thay đổi" in report.summary()
    assert _counts() == before
    assert list(SubjectMark.objects.order_by("pk").values_list("version", flat=True)) == versions


def test_changed_cells_land_exactly_through_the_import_channel(world: World) -> None:
    _enter_maths(world)
    workbook = _maths_workbook(world)
    sheet = workbook["Toán"]
    an, anh, duc = (_row(sheet, code) for code in ("0000000002", "0000000001", "0000000003"))
    sheet[f"{LEVEL}{an}"] = "t"  # lower case is read as T
    sheet[f"{SCORE}{anh}"] = 10
    sheet[f"{COMMENT}{anh}"] = None  # a blank cell clears what was stored
    sheet[f"{COMMENT}{duc}"] = "Tiến bộ rõ."
    sheet[f"{SCORE}{duc}"] = 4.0  # Excel's whole float is the same score: unchanged
    history = CellChange.objects.count()
    report = _import_maths(world, _bytes(workbook))
    assert report.changed_cells == 4 and report.changed_pupils == 3
    changes = set(
        CellChange.objects.order_by("pk")[history:].values_list(
            "enrolment__pupil__ministry_code", "field", "old_value", "new_value", "channel"
        )
    )
    assert changes == {
        ("0000000002", "level", "H", "T", "import"),
        ("0000000001", "score", "9", "10", "import"),
        ("0000000001", "comment", "Làm bài cẩn thận.", "", "import"),
        ("0000000003", "comment", "", "Tiến bộ rõ.", "import"),
    }
    assert _mark("0000000001").score == 10 and _mark("0000000001").comment == ""
    assert _mark("0000000001").version == 2  # one version per row per upload
    # The same file again: nothing left to change.
    assert _import_maths(world, _bytes(_maths_workbook(world))).changed_cells == 0


def test_a_value_changed_on_the_web_is_kept_when_the_file_did_not_touch_it(world: World) -> None:
    _enter_maths(world)
    workbook = _maths_workbook(world)
    services.apply_edits(
        actor=world.own.users["subject_teacher"],
        school_class=_class(world),
        edits=[_edit("0000000003", "subject", "toan", "ck1", "comment", "Sửa trên web.")],
    )
    sheet = workbook["Toán"]
    sheet[f"{LEVEL}{_row(sheet, '0000000001')}"] = "H"
    assert _import_maths(world, _bytes(workbook)).changed_cells == 1
    assert _mark("0000000003").comment == "Sửa trên web."
    assert _mark("0000000001").level == "H"


def test_a_row_changed_on_the_web_since_the_download_is_a_conflict(world: World) -> None:
    _enter_maths(world)
    workbook = _maths_workbook(world)
    services.apply_edits(
        actor=world.own.users["subject_teacher"],
        school_class=_class(world),
        edits=[_edit("0000000001", "subject", "toan", "ck1", "level", "H")],
    )
    sheet = workbook["Toán"]
    row = _row(sheet, "0000000001")
    sheet[f"{COMMENT}{row}"] = "Nhận xét mới."
    errors = _rejected(lambda: _import_maths(world, _bytes(workbook)))
    assert [(e.sheet, e.row, e.column, e.column_title) for e in errors] == [
        ("Toán", row, COMMENT, "Nhận xét")
    ]
    assert "Nguyễn Văn A vừa sửa dòng này lúc" in errors[0].message
    assert _mark("0000000001").comment == "Làm bài cẩn thận."


# Bad cells ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "fragment"),
    [
        (LEVEL, "X", "Mức đạt được “X” không hợp lệ"),
        (LEVEL, "Tốt", "chỉ nhập T, H hoặc C"),
        (SCORE, 7.5, "không có phần thập phân"),
        (SCORE, "8,5", "không có phần thập phân"),
        (SCORE, 11, "ngoài thang điểm"),
        (SCORE, 0, "chỉ nhập từ 1 đến 10"),
        (COMMENT, "x" * 1001, "tối đa 1000"),
    ],
)
def test_each_bad_cell_is_reported_at_its_row_and_column(
    world: World, column: str, value: Any, fragment: str
) -> None:
    _enter_maths(world)
    workbook = _maths_workbook(world)
    sheet = workbook["Toán"]
    row = _row(sheet, "0000000002")
    sheet[f"{column}{row}"] = value
    errors = _rejected(lambda: _import_maths(world, _bytes(workbook)))
    assert len(errors) == 1
    assert (errors[0].sheet, errors[0].row, errors[0].column) == ("Toán", row, column)
    assert errors[0].column_title == sheet[f"{column}10"].value
    assert fragment in errors[0].message
    assert "dòng" in str(errors[0]) and f"cột {column}" in str(errors[0])


def test_every_problem_of_a_file_is_listed_at_once(world: World) -> None:
    _enter_maths(world)
    workbook = _maths_workbook(world)
    sheet = workbook["Toán"]
    an, anh = _row(sheet, "0000000002"), _row(sheet, "0000000001")
    sheet[f"{LEVEL}{an}"], sheet[f"{SCORE}{an}"] = "A", 12
    sheet[f"{SCORE}{anh}"] = "chín"
    errors = _rejected(lambda: _import_maths(world, _bytes(workbook)))
    assert [(e.row, e.column) for e in errors] == [(an, LEVEL), (an, SCORE), (anh, SCORE)]


def test_a_score_where_the_subject_is_no_longer_tested_is_refused(world: World) -> None:
    school_class = _class(world)
    teacher = world.own.users["subject_teacher"]
    TeachingAssignment.objects.create(
        teacher=teacher.staff, school_class=school_class, subject="cong_nghe"
    )
    data = excel.grid_workbook(
        actor=teacher, school_class=school_class, kind="subject", period="ck1", subject="cong_nghe"
    )
    # The school year now keeps one score for Tin học và Công nghệ (DOMAIN §8).
    AssessmentSettings.objects.create(school_year=world.year, single_score_tin_hoc_cong_nghe=True)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook["Công nghệ"]
    sheet["F11"] = 8
    errors = _rejected(
        lambda: excel.import_grid_workbook(
            actor=teacher,
            school_class=school_class,
            kind="subject",
            period="ck1",
            subject="cong_nghe",
            file=_bytes(workbook),
        )
    )
    assert [(e.row, e.column, e.column_title) for e in errors] == [(11, "F", "Điểm KTĐK")]
    assert "không có bài kiểm tra định kì" in errors[0].message


def test_values_outside_the_table_are_refused(world: World) -> None:
    _enter_maths(world)
    workbook = _maths_workbook(world)
    sheet = workbook["Toán"]
    sheet["H10"], sheet["H11"] = "Điểm KTĐK", 9
    errors = _rejected(lambda: _import_maths(world, _bytes(workbook)))
    assert [(e.row, e.column, e.column_title) for e in errors] == [(11, "H", "Điểm KTĐK")]
    assert "ngoài các cột của bảng" in errors[0].message


def test_row_problems_unknown_pupil_other_class_duplicate_name_and_lost_zeros(
    world: World,
) -> None:
    _enter_maths(world)
    workbook = _maths_workbook(world)
    sheet = workbook["Toán"]
    sheet.insert_rows(14, 3)
    rows = [
        ("0000009999", "Ai Đó"),  # no such pupil
        ("0000000004", "Trần Thị Ánh"),  # a pupil of 4B
        ("0000000001", "Trần Thị Ánh"),  # second row for the same pupil
    ]
    for offset, (code, name) in enumerate(rows):
        sheet.cell(row=14 + offset, column=2, value=code)
        sheet.cell(row=14 + offset, column=3, value=name)
        sheet.cell(row=14 + offset, column=5, value="T")
    sheet["B11"] = 2  # a code typed as a number lost its zeros
    sheet["C13"] = "Phạm Minh Đúc"  # the name no longer matches the code
    sheet["E12"] = "H"  # a valid change, but the file is refused as a whole
    errors = _rejected(lambda: _import_maths(world, _bytes(workbook)))
    found = [(e.row, e.column, e.column_title) for e in errors]
    assert found == [
        (11, "B", "Mã học sinh"),
        (13, "C", "Họ và tên"),
        (14, "B", "Mã học sinh"),
        (15, "B", "Mã học sinh"),
        (16, "B", "Mã học sinh"),
    ]
    messages = [e.message for e in errors]
    assert "số 0 ở đầu đã bị mất" in messages[0]
    assert "không khớp với học sinh mã 0000000003" in messages[1]
    assert "Không có học sinh nào mang mã “0000009999”" in messages[2]
    assert "không có tên trong lớp 4A" in messages[3]
    assert "đã có ở dòng 12" in messages[4]


# Identity, permission, locks, hostile files ---------------------------------------------------


def test_a_file_for_another_class_subject_or_period_is_refused_clearly(world: World) -> None:
    _enter_maths(world)
    teacher = world.own.users["subject_teacher"]
    other_class = world.own.classes[1]
    TeachingAssignment.objects.create(
        teacher=teacher.staff, school_class=other_class, subject="toan"
    )
    data = _bytes(_maths_workbook(world))
    errors = _rejected(
        lambda: excel.import_grid_workbook(
            actor=teacher,
            school_class=other_class,
            kind="subject",
            period="ck1",
            subject="toan",
            file=data,
        )
    )
    assert len(errors) == 1 and errors[0].row is None
    assert "Tệp này là bảng của lớp 4A" in errors[0].message
    assert "không phải của lớp 4B" in errors[0].message
    errors = _rejected(
        lambda: excel.import_grid_workbook(
            actor=teacher,
            school_class=_class(world),
            kind="subject",
            period="cn",
            subject="toan",
            file=data,
        )
    )
    assert "Cuối học kì I, không phải của" in errors[0].message
    assert errors[0].message.endswith("mở trang nhập của bảng trong tệp.")


def test_edited_identity_and_header_are_reported(world: World) -> None:
    _enter_maths(world)
    workbook = _maths_workbook(world)
    sheet = workbook["Toán"]
    sheet["C4"] = "4B"
    sheet["F10"] = "Điểm"
    sheet["E11"] = "T"
    errors = _rejected(lambda: _import_maths(world, _bytes(workbook)))
    assert [(e.row, e.column, e.column_title) for e in errors] == [
        (4, "C", "Lớp"),
        (10, "F", "Điểm KTĐK"),
    ]
    assert "thông tin nhận dạng" in errors[0].message
    assert "cần “Điểm KTĐK”, đang là “Điểm”" in errors[1].message


def test_a_workbook_without_the_hidden_sheet_is_not_a_template(world: World) -> None:
    workbook = _maths_workbook(world)
    del workbook["_hocba"]
    errors = _rejected(lambda: _import_maths(world, _bytes(workbook)))
    assert "không phải tệp mẫu tải từ hệ thống" in errors[0].message
    workbook = _maths_workbook(world)
    workbook["_hocba"]["B2"] = "lạ"
    errors = _rejected(lambda: _import_maths(world, _bytes(workbook)))
    assert "bị thiếu hoặc đã bị sửa" in errors[0].message


def test_only_those_who_enter_the_cells_may_upload(world: World) -> None:
    _enter_maths(world)
    data = _bytes(_maths_workbook(world, user="principal"))  # managers may download
    for user in ("homeroom_teacher", "principal"):
        with pytest.raises(PermissionRefused):
            _import_maths(world, data, user=user)
    with pytest.raises(PermissionRefused):
        excel.grid_workbook(
            actor=world.foreign.users["subject_teacher"],
            school_class=_class(world),
            kind="subject",
            period="ck1",
            subject="toan",
        )
    with pytest.raises(PermissionRefused):
        excel.import_grid_workbook(
            actor=world.own.users["subject_teacher"],
            school_class=_class(world),
            kind="competency",
            period="ck1",
            file=data,
        )


def test_a_locked_grid_refuses_changes_but_not_an_unchanged_file(world: World) -> None:
    _enter_maths(world)
    teacher = world.own.users["subject_teacher"]
    workbook = _maths_workbook(world)
    services.lock(
        actor=teacher, school_class=_class(world), subject="toan", period="ck1", reason="Đã xong"
    )
    assert _import_maths(world, _bytes(workbook)).changed_cells == 0
    workbook["Toán"]["E11"] = "T"
    errors = _rejected(lambda: _import_maths(world, _bytes(workbook)))
    assert [(e.sheet, e.row) for e in errors] == [("Toán", None)]
    assert "đã bị khoá (Đã xong)" in errors[0].message


def test_hostile_files_are_refused_with_clear_messages(world: World) -> None:
    errors = _rejected(lambda: _import_maths(world, b"PK not really a zip"))
    assert errors[0].message == "Tệp không phải là bảng tính Excel (.xlsx) hợp lệ."
    errors = _rejected(lambda: _import_maths(world, b"x" * (5 * 1024 * 1024 + 1)))
    assert "lớn hơn 5 MB" in errors[0].message
    workbook = _maths_workbook(world)
    for row in range(14, 1100):
        workbook["Toán"].cell(row=row, column=1, value=row)
    errors = _rejected(lambda: _import_maths(world, _bytes(workbook)))
    assert "quá nhiều dòng" in errors[0].message and errors[0].sheet == "Toán"


# Competencies, facts, the whole class ---------------------------------------------------------


def _homeroom_workbook(world: World, kind: str, period: str = "") -> openpyxl.Workbook:
    data = excel.grid_workbook(
        actor=world.own.users["homeroom_teacher"],
        school_class=_class(world),
        kind=kind,
        period=period,
    )
    return openpyxl.load_workbook(io.BytesIO(data))


def _import_homeroom(world: World, kind: str, workbook: openpyxl.Workbook, period: str = "") -> Any:
    return excel.import_grid_workbook(
        actor=world.own.users["homeroom_teacher"],
        school_class=_class(world),
        kind=kind,
        period=period,
        file=_bytes(workbook),
    )


def test_competency_round_trip(world: World) -> None:
    workbook = _homeroom_workbook(world, "competency", "cn")
    sheet = workbook["Phẩm chất, năng lực"]
    assert (sheet["E10"].value, sheet["E11"].value, sheet["F11"].value) == (
        "Yêu nước",
        "Mức",
        "Nhận xét",
    )
    assert sheet.max_column == 4 + 2 * 15  # grade 4: 5 qualities, 3 general, 7 specific
    row = _row(sheet, "0000000001")
    sheet[f"E{row}"], sheet[f"F{row}"], sheet[f"G{row}"] = "d", "Yêu quê hương.", "T"
    report = _import_homeroom(world, "competency", workbook, "cn")
    assert report.changed_cells == 3
    marks = CompetencyMark.objects.filter(enrolment=_enrolment("0000000001"), period="cn")
    assert {(m.item, m.level, m.comment) for m in marks} == {
        ("pc.yeu_nuoc", "Đ", "Yêu quê hương."),
        ("pc.nhan_ai", "T", ""),
    }
    fresh = _homeroom_workbook(world, "competency", "cn")
    assert _import_homeroom(world, "competency", fresh, "cn").changed_cells == 0
    fresh["Phẩm chất, năng lực"][f"G{row}"] = "H"  # H is a subject level, not a competency one
    errors = _rejected(lambda: _import_homeroom(world, "competency", fresh, "cn"))
    assert [(e.row, e.column, e.column_title) for e in errors] == [(row, "G", "Nhân ái – Mức")]
    assert "T, Đ (hoặc D) hoặc C" in errors[0].message


def test_facts_round_trip(world: World) -> None:
    workbook = _homeroom_workbook(world, "facts")
    sheet = workbook["Thông tin chung"]
    row = _row(sheet, "0000000002")
    sheet[f"E{row}"], sheet[f"F{row}"], sheet[f"G{row}"] = 132.5, "28,4", 2
    assert _import_homeroom(world, "facts", workbook).changed_cells == 3
    facts = PupilYearFacts.objects.get(enrolment=_enrolment("0000000002"))
    assert (facts.height_cm, facts.weight_kg, facts.days_absent_excused) == (
        decimal.Decimal("132.5"),
        decimal.Decimal("28.4"),
        2,
    )
    assert facts.version == 1  # one row, one version per upload
    before = _counts()
    assert _import_homeroom(world, "facts", _homeroom_workbook(world, "facts")).changed_cells == 0
    assert _counts() == before
    fresh = _homeroom_workbook(world, "facts")
    fresh["Thông tin chung"][f"H{row}"] = 1.5
    fresh["Thông tin chung"][f"E{row}"] = 250
    errors = _rejected(lambda: _import_homeroom(world, "facts", fresh))
    assert [(e.column, e.column_title) for e in errors] == [
        ("E", "Chiều cao (cm)"),
        ("H", "Nghỉ không phép (ngày)"),
    ]
    assert "ngoài khoảng hợp lý" in errors[0].message
    assert "Số ngày nghỉ phải là số nguyên." in errors[1].message


def test_whole_class_workbook_applies_what_the_teacher_enters_and_refuses_the_rest(
    world: World,
) -> None:
    _enter_maths(world)
    workbook = _homeroom_workbook(world, "class", "ck1")
    assert workbook.sheetnames[:2] == ["Tiếng Việt", "Toán"]
    assert workbook.sheetnames[-2:] == ["Phẩm chất, năng lực", "_hocba"]
    workbook["Phẩm chất, năng lực"]["E12"] = "T"  # under the item row and the "Mức" row
    assert _import_homeroom(world, "class", workbook, "ck1").changed_cells == 1
    workbook = _homeroom_workbook(world, "class", "ck1")
    workbook["Toán"]["E11"] = "T"  # maths belongs to the subject teacher
    errors = _rejected(lambda: _import_homeroom(world, "class", workbook, "ck1"))
    assert [(e.sheet, e.row) for e in errors] == [("Toán", None)]
    assert "không được phân công nhập trang này" in errors[0].message


# The class summary ----------------------------------------------------------------------------


def _complete_end_of_year(world: World, *, skip_score_of: str = "") -> None:
    """Every end-of-year rating and score of 4A, entered by a teacher of every subject."""
    school_class = _class(world)
    teacher = world.own.users["homeroom_teacher"]
    rules = excel.selectors.rules_for(world.year)
    options = excel.selectors.options_for(world.year)
    subjects = excel.selectors.class_subjects(school_class, rules)
    for code in subjects:
        TeachingAssignment.objects.get_or_create(
            teacher=teacher.staff, school_class=school_class, subject=code
        )
    edits = []
    for enrolment in school_class.enrolments.select_related("pupil"):
        code = enrolment.pupil.ministry_code
        for subject in subjects:
            edits.append(_edit(code, "subject", subject, "cn", "level", "T"))
            tested = rules.is_tested(subject, 4, "cn", options)
            if tested and not (code == skip_score_of and subject == "toan"):
                edits.append(_edit(code, "subject", subject, "cn", "score", 10))
        for item in rules.competency_items(4, options):
            edits.append(_edit(code, "competency", item.code, "cn", "level", "T"))
    services.apply_edits(actor=teacher, school_class=school_class, edits=edits)


def _summary(world: World, period: str = "cn", user: Any = None) -> Worksheet:
    data = excel.summary_workbook(
        actor=user or world.own.users["principal"], school_class=_class(world), period=period
    )
    return openpyxl.load_workbook(io.BytesIO(data)).active


def _summary_rows(sheet: Worksheet) -> dict[str, dict[str, Any]]:
    groups: list[str] = []
    group = ""
    for column in range(1, sheet.max_column + 1):
        group = sheet.cell(row=5, column=column).value or group
        groups.append(f"{group}|{sheet.cell(row=6, column=column).value or ''}")
    return {
        sheet.cell(row=row, column=2).value: dict(
            zip(groups, (c.value for c in sheet[row]), strict=True)
        )
        for row in range(7, sheet.max_row + 1)
    }


def test_summary_with_complete_data_shows_results(world: World) -> None:
    _complete_end_of_year(world)
    sheet = _summary(world)
    assert sheet["A1"].value == "BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ GIÁO DỤC"
    assert "Lớp: 4A" in sheet["A2"].value and "Cuối năm học" in sheet["A2"].value
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1
    rows = _summary_rows(sheet)
    assert list(rows) == ["0000000002", "0000000001", "0000000003"]
    anh = rows["0000000001"]
    assert anh["Giới tính|"] == "Nữ"
    assert (anh["Toán|Mức"], anh["Toán|Điểm"]) == ("T", 10)
    assert anh["Đạo đức|Mức"] == "T" and "Đạo đức|Điểm" not in anh
    assert anh["Phẩm chất chủ yếu|Yêu nước"] == "T"
    assert anh["Năng lực đặc thù|Tin học"] == "T"
    assert anh["Cuối năm học|Đánh giá kết quả giáo dục"] == "HTXS"
    assert anh["Cuối năm học|Hoàn thành chương trình"] == "Hoàn thành chương trình lớp 4"
    assert anh["Cuối năm học|Khen thưởng"] == "Học sinh Xuất sắc"


def test_summary_with_missing_data_says_so(world: World) -> None:
    _complete_end_of_year(world, skip_score_of="0000000003")
    sheet = _summary(world, user=world.own.users["subject_teacher"])
    rows = _summary_rows(sheet)
    assert rows["0000000003"]["Cuối năm học|Đánh giá kết quả giáo dục"] == "Chưa đủ dữ liệu"
    assert rows["0000000003"]["Toán|Điểm"] is None
    assert rows["0000000001"]["Cuối năm học|Đánh giá kết quả giáo dục"] == "HTXS"
    note = next(c for c in sheet[_row(sheet, "0000000003")] if c.comment)
    assert "Toán: thiếu điểm kiểm tra cuối năm" in note.comment.text
    mid_year = _summary_rows(_summary(world, period="gk1"))
    assert "Cuối năm học|Đánh giá kết quả giáo dục" not in mid_year["0000000001"]
    assert "Khoa học|Điểm" not in mid_year["0000000001"]  # tested at ck1 and cn only
    assert "Toán|Điểm" in mid_year["0000000001"]


def test_summary_download_from_above_the_school_is_audited(world: World) -> None:
    _summary(world, user=world.users["district_staff"])
    assert AuditEvent.objects.filter(action="assessment.excel.exported").count() == 1
    with pytest.raises(PermissionRefused):
        _summary(world, user=world.foreign.users["principal"])


# The comment bank -----------------------------------------------------------------------------


def _bank_rows(rows: list[tuple[Any, ...]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Mã nhận xét"
    sheet.append(["Mã", "Môn học/Phẩm chất/Năng lực", "Nội dung"])
    for row in rows:
        sheet.append(list(row))
    return _bytes(workbook)


def _row_by_code(sheet: Worksheet, code: str) -> int:
    return next(cell.row for cell in sheet["A"] if cell.value == code)


def test_comment_bank_export_import_round_trip(world: World) -> None:
    school, principal = world.own.school, world.own.users["principal"]
    for code, target, text in (
        ("TV1", "tieng_viet", "Đọc to, rõ ràng."),
        ("KH", "khoa_hoc", "Hiểu bài."),
        ("NLKH", "nld.khoa_hoc", "Biết quan sát."),
        ("C1", "", "Ngoan."),
    ):
        comment_bank.create_entry(
            actor=principal,
            school=school,
            data=comment_bank.EntryData(code=code, text=text, target=target),
            shared=True,
        )
    data = excel.export_comment_bank(actor=world.own.users["subject_teacher"], school=school)
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Mã nhận xét"]
    exported = [tuple(c.value for c in row) for row in sheet.iter_rows(min_row=2)]
    assert ("KH", "Môn Khoa học", "Hiểu bài.") in exported
    assert ("NLKH", "Năng lực Khoa học", "Biết quan sát.") in exported
    assert ("C1", None, "Ngoan.") in exported
    events = AuditEvent.objects.count()
    report = excel.import_comment_bank(actor=principal, school=school, file=data)
    assert (report.created, report.updated, report.unchanged) == ([], [], 4)
    assert AuditEvent.objects.count() == events
    sheet.append(["tv2", "Tiếng Việt", "Viết đúng chính tả."])
    sheet[f"C{_row_by_code(sheet, 'KH')}"] = "Hiểu bài, làm bài tốt."
    report = excel.import_comment_bank(actor=principal, school=school, file=_bytes(sheet.parent))
    assert (report.created, report.updated, report.unchanged) == (["TV2"], ["KH"], 3)
    new = CommentBankEntry.objects.get(school=school, code="TV2", owner__isnull=True)
    assert new.target == "tieng_viet"
    assert AuditEvent.objects.filter(action="assessment.comment_bank.created").count() == 5
    assert AuditEvent.objects.filter(action="assessment.comment_bank.updated").count() == 1


def test_comment_bank_import_lists_every_error_and_saves_nothing(world: World) -> None:
    school, principal = world.own.school, world.own.users["principal"]
    data = _bank_rows(
        [
            ("A1", "Toán", "Tính nhanh."),
            ("a1", "Toán", "Trùng mã."),
            ("B2", "Toán", ""),
            ("C3", "Bóng đá", "Không có môn này."),
            ("D4", "Khoa học", "Môn hay năng lực?"),
            ("E 5", "", "Mã có dấu cách."),
        ]
    )
    before = (CommentBankEntry.objects.count(), AuditEvent.objects.count())
    with pytest.raises(excel.AssessmentImportRejected) as caught:
        excel.import_comment_bank(actor=principal, school=school, file=data)
    found = [(e.row, e.column, e.column_title) for e in caught.value.errors]
    assert found[:4] == [
        (3, "A", "Mã"),
        (4, "C", "Nội dung"),
        (5, "B", "Môn học/Phẩm chất/Năng lực"),
        (6, "B", "Môn học/Phẩm chất/Năng lực"),
    ]
    assert "trùng với dòng 2" in caught.value.errors[0].message
    assert "“Năng lực Khoa học”" in caught.value.errors[3].message
    assert (CommentBankEntry.objects.count(), AuditEvent.objects.count()) == before


def test_comment_bank_permissions(world: World) -> None:
    school = world.own.school
    teacher = world.own.users["subject_teacher"]
    data = _bank_rows([("T1", "Toán", "Cố gắng hơn.")])
    with pytest.raises(PermissionRefused):
        excel.import_comment_bank(actor=teacher, school=school, file=data)
    with pytest.raises(PermissionRefused):
        excel.import_comment_bank(
            actor=world.own.users["principal"], school=school, owner=teacher.staff, file=data
        )
    report = excel.import_comment_bank(actor=teacher, school=school, owner=teacher.staff, file=data)
    assert report.created == ["T1"]
    assert CommentBankEntry.objects.get(code="T1").owner == teacher.staff
    exported = excel.export_comment_bank(actor=teacher, school=school, owner=teacher.staff)
    assert "Cố gắng hơn." in [
        c.value for c in openpyxl.load_workbook(io.BytesIO(exported))["Mã nhận xét"]["C"]
    ]
