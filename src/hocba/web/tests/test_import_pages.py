"""The Excel import pages: template download, a rejected upload listing errors, a good upload."""

from __future__ import annotations

import io

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from hocba.conftest import World
from hocba.schools.import_columns import SHEETS
from hocba.schools.models import Pupil

TITLES = {spec.name: [column.title for column in spec.columns] for spec in SHEETS}


def _workbook(pupils: list[dict[str, str]]) -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Học sinh"
    sheet.append(TITLES["Học sinh"])
    for record in pupils:
        sheet.append([record.get(title) for title in TITLES["Học sinh"]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("hoc-sinh.xlsx", buffer.getvalue())


def _pupil(code: str) -> dict[str, str]:
    return {
        "Mã học sinh": code,
        "Họ": "Nguyễn",
        "Tên đệm": "Thị",
        "Tên": "Mai",
        "Giới tính": "Nữ",
        "Ngày sinh": "15/03/2015",
        "Lớp": "4B",
    }


def test_principal_downloads_the_template(client: Client, world: World) -> None:
    client.force_login(world.own.users["principal"])
    response = client.get(reverse("web:import_template", args=[world.own.school.pk]))
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert {"Lớp", "Học sinh", "Cán bộ"} <= set(workbook.sheetnames)


def test_rejected_upload_lists_errors_by_row_and_column_and_imports_nothing(
    client: Client, world: World
) -> None:
    client.force_login(world.own.users["school_admin"])
    before = Pupil.objects.count()
    response = client.post(
        reverse("web:import", args=[world.own.school.pk]),
        {"school_year": world.year.pk, "workbook": _workbook([_pupil("12345")])},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Tệp có 1 lỗi, chưa nhập dữ liệu nào." in page
    assert "(Mã học sinh)" in page
    assert "phải có đúng 10 chữ số" in page
    assert Pupil.objects.count() == before


def test_good_upload_reports_what_was_created(client: Client, world: World) -> None:
    client.force_login(world.own.users["principal"])
    response = client.post(
        reverse("web:import", args=[world.own.school.pk]),
        {"school_year": world.year.pk, "workbook": _workbook([_pupil("2400000001")])},
    )
    assert response.status_code == 200
    assert "Đã nhập xong." in response.content.decode()
    assert Pupil.objects.filter(ministry_code="2400000001").exists()


def test_teachers_and_authorities_cannot_reach_the_import(client: Client, world: World) -> None:
    url = reverse("web:import", args=[world.own.school.pk])
    for user, status in [
        (world.own.users["homeroom_teacher"], 403),
        (world.users["district_staff"], 403),
        (world.foreign.users["principal"], 404),
    ]:
        client.force_login(user)
        before = Pupil.objects.count()
        upload = _workbook([_pupil("2400000002")])
        response = client.post(url, {"school_year": world.year.pk, "workbook": upload})
        assert response.status_code == status
        assert client.get(url).status_code == status
        assert Pupil.objects.count() == before


def _sector_export(codes: list[str], status: str = "Đang học") -> SimpleUploadedFile:
    """A pupil list as the sector database exports it: title block, full name in one column."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "DS học sinh"
    sheet.append(["TRƯỜNG TIỂU HỌC A"])
    sheet.merge_cells("A1:F1")
    sheet.append(["DANH SÁCH HỌC SINH NĂM HỌC 2024-2025"])
    sheet.append(["STT", "Mã học sinh", "Họ và tên", "Ngày sinh", "Giới tính", "Lớp", "Trạng thái"])
    for index, code in enumerate(codes, start=1):
        sheet.append([index, code, "Nguyễn Thị Mai", "15/03/2015", "Nữ", "4B", status])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("ds-hoc-sinh.xlsx", buffer.getvalue())


def test_sector_export_is_recognised_and_skipped_rows_are_listed(
    client: Client, world: World
) -> None:
    client.force_login(world.own.users["principal"])
    url = reverse("web:import", args=[world.own.school.pk])
    assert "Danh sách xuất từ cơ sở dữ liệu ngành" in client.get(url).content.decode()
    response = client.post(
        url, {"school_year": world.year.pk, "workbook": _sector_export(["2400000001"])}
    )
    assert response.status_code == 200
    assert Pupil.objects.get(ministry_code="2400000001").given_name == "Mai"
    again = client.post(
        url,
        {
            "school_year": world.year.pk,
            "layout": "csdl",
            "workbook": _sector_export(["2400000001"]),
        },
    )
    page = again.content.decode()
    assert again.status_code == 200 and "1 dòng được bỏ qua" in page
    assert "đã có tên ở lớp 4B năm học 2024-2025, không nhập lại." in page
    assert Pupil.objects.filter(ministry_code="2400000001").count() == 1


def test_sector_export_with_a_bad_date_is_rejected_by_row_and_column(
    client: Client, world: World
) -> None:
    client.force_login(world.own.users["school_admin"])
    upload = _sector_export(["2400000001"])
    workbook = openpyxl.load_workbook(upload)
    workbook.active["D4"] = "32/13/2015"
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = client.post(
        reverse("web:import", args=[world.own.school.pk]),
        {"school_year": world.year.pk, "workbook": SimpleUploadedFile("x.xlsx", buffer.getvalue())},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Tệp có 1 lỗi, chưa nhập dữ liệu nào." in page and "D (Ngày sinh)" in page
    assert not Pupil.objects.filter(ministry_code="2400000001").exists()
