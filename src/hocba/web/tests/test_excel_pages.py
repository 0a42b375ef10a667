"""Excel pages: viewers download, those who enter the cells upload, errors in Vietnamese."""

from __future__ import annotations

import io

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from hocba.assessment.models import CellChange, CommentBankEntry, SubjectMark
from hocba.audit.models import AuditEvent
from hocba.conftest import World

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _maths_urls(world: World) -> tuple[str, str]:
    class_id = world.own.classes[0].pk
    return (
        reverse("web:excel_subject_download", args=[class_id, "toan", "ck1"]),
        reverse("web:excel_subject_upload", args=[class_id, "toan", "ck1"]),
    )


def _upload(data: bytes, name: str = "toan.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=XLSX)


def _edited(data: bytes, cells: dict[str, object]) -> bytes:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    for address, value in cells.items():
        workbook["Toán"][address] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_class_page_lists_downloads_and_only_allowed_uploads(client: Client, world: World) -> None:
    school_class = world.own.classes[0]
    download, upload = _maths_urls(world)
    client.force_login(world.own.users["subject_teacher"])
    page = client.get(reverse("web:excel_class", args=[school_class.pk])).content.decode()
    assert download in page and upload in page
    assert reverse("web:excel_summary", args=[school_class.pk, "cn"]) in page
    assert reverse("web:excel_competency_upload", args=[school_class.pk, "ck1"]) not in page
    client.force_login(world.own.users["homeroom_teacher"])
    page = client.get(reverse("web:excel_class", args=[school_class.pk])).content.decode()
    assert upload not in page
    assert reverse("web:excel_competency_upload", args=[school_class.pk, "ck1"]) in page


def test_teacher_downloads_fixes_and_uploads_a_grid(client: Client, world: World) -> None:
    download, upload = _maths_urls(world)
    client.force_login(world.own.users["subject_teacher"])
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == 'attachment; filename="4a-toan-ck1.xlsx"'
    assert client.get(upload).status_code == 200

    bad = _edited(response.content, {"E11": "X", "F12": 7.5})
    before = (SubjectMark.objects.count(), CellChange.objects.count())
    rejected = client.post(upload, {"workbook": _upload(bad)})
    page = rejected.content.decode()
    assert rejected.status_code == 400
    assert "Tệp có 2 lỗi, chưa nhập dữ liệu nào." in page
    assert "E (Mức đạt được)" in page and "F (Điểm KTĐK)" in page
    assert "không có phần thập phân" in page
    assert (SubjectMark.objects.count(), CellChange.objects.count()) == before

    good = _edited(response.content, {"E11": "T", "F12": 8})
    accepted = client.post(upload, {"workbook": _upload(good)})
    assert accepted.status_code == 200
    assert "Đã nhập 2 ô thay đổi của 2 học sinh." in accepted.content.decode()
    assert set(CellChange.objects.values_list("channel", flat=True)) == {"import"}


def test_upload_of_something_else_is_refused_in_vietnamese(client: Client, world: World) -> None:
    _download, upload = _maths_urls(world)
    client.force_login(world.own.users["subject_teacher"])
    response = client.post(upload, {"workbook": _upload(b"hello", "diem.csv")})
    assert response.status_code == 400
    assert "Tệp không phải là bảng tính Excel (.xlsx) hợp lệ." in response.content.decode()


def test_uploads_are_for_those_who_enter_the_cells(client: Client, world: World) -> None:
    download, upload = _maths_urls(world)
    client.force_login(world.own.users["principal"])
    data = client.get(download).content  # a manager may download
    for user in ("principal", "homeroom_teacher"):
        client.force_login(world.own.users[user])
        assert client.get(upload).status_code == 403
        assert client.post(upload, {"workbook": _upload(data)}).status_code == 403
    client.force_login(world.foreign.users["subject_teacher"])
    assert client.get(download).status_code == 404
    assert client.get(upload).status_code == 404


def test_unknown_grids_are_not_found(client: Client, world: World) -> None:
    class_id = world.own.classes[0].pk
    client.force_login(world.own.users["subject_teacher"])
    for url in (
        reverse("web:excel_subject_download", args=[class_id, "toan", "hk9"]),
        reverse("web:excel_subject_download", args=[class_id, "bong_da", "ck1"]),
        reverse("web:excel_subject_upload", args=[class_id, "tin_hoc", "x"]),
        reverse("web:excel_summary", args=[class_id, "hk9"]),
    ):
        assert client.get(url).status_code == 404, url


def test_homeroom_teacher_uses_competency_facts_and_whole_class_pages(
    client: Client, world: World
) -> None:
    class_id = world.own.classes[0].pk
    client.force_login(world.own.users["homeroom_teacher"])
    for name, args in (
        ("excel_competency", [class_id, "cn"]),
        ("excel_facts", [class_id]),
        ("excel_class", [class_id, "ck1"]),
    ):
        download = client.get(reverse(f"web:{name}_download", args=args))
        assert download.status_code == 200 and download["Content-Type"] == XLSX
        upload = reverse(f"web:{name}_upload", args=args)
        response = client.post(upload, {"workbook": _upload(download.content)})
        assert response.status_code == 200, name
        assert "không có gì thay đổi" in response.content.decode()


def test_summary_for_every_viewer_and_audited_above_the_school(
    client: Client, world: World
) -> None:
    url = reverse("web:excel_summary", args=[world.own.classes[0].pk, "cn"])
    for user in (world.own.users["subject_teacher"], world.users["district_staff"]):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert AuditEvent.objects.filter(action="assessment.excel.exported").count() == 1
    client.force_login(world.foreign.users["principal"])
    assert client.get(url).status_code == 404


def test_comment_bank_pages(client: Client, world: World) -> None:
    school = world.own.school
    shared_page = reverse("web:excel_comments_upload", args=[school.pk, "chung"])
    own_page = reverse("web:excel_comments_upload", args=[school.pk, "cua-toi"])
    client.force_login(world.own.users["principal"])
    data = client.get(reverse("web:excel_comments_download", args=[school.pk, "chung"])).content
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    workbook["Mã nhận xét"].append(["TOT", "Toán", "Tính toán nhanh, chính xác."])
    workbook["Mã nhận xét"].append(["XAU", "Bóng đá", "Không có môn này."])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = client.post(shared_page, {"workbook": _upload(buffer.getvalue())})
    assert response.status_code == 400
    assert "B (Môn học/Phẩm chất/Năng lực)" in response.content.decode()
    assert not CommentBankEntry.objects.exists()
    workbook["Mã nhận xét"].delete_rows(3)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = client.post(shared_page, {"workbook": _upload(buffer.getvalue())})
    assert response.status_code == 200
    assert "Đã thêm 1 mã" in response.content.decode()
    teacher = world.own.users["subject_teacher"]
    client.force_login(teacher)
    assert client.get(shared_page).status_code == 403
    assert client.get(own_page).status_code == 200
    own = client.get(reverse("web:excel_comments_download", args=[school.pk, "cua-toi"]))
    assert own.status_code == 200
    client.force_login(world.foreign.users["principal"])
    assert client.get(shared_page).status_code == 404
