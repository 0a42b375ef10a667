"""CSV (UTF-8 with BOM) and Excel exports carry the page's figures under Vietnamese headers."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
from django.urls import reverse

from hocba.monitoring import reports
from hocba.monitoring.tests.conftest import Rollout


def _download(client: Any, name: str, pk: int, fmt: str) -> Any:
    response = client.get(reverse(f"monitoring:{name}_export", args=[pk, fmt]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return response


def test_province_csv(rollout: Rollout, client: Any) -> None:
    world = rollout.world
    client.force_login(world.users["department_staff"])
    response = _download(client, "province", world.province.pk, "csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, lines = rows[0], rows[1:]
    assert header[:5] == [
        "Quận/huyện",
        "Mã",
        "Số giáo viên",
        "Giáo viên có chứng thư số",
        "Giáo viên có chứng thư số (%)",
    ]
    assert "Đã phát hành" in header and "Đã đồng bộ lên cấp trên" in header
    table = {line[0]: dict(zip(header, line, strict=True)) for line in lines}
    ba_dinh = table["Quận Ba Đình"]
    assert ba_dinh["Mã"] == "001"
    assert (ba_dinh["Đã phát hành"], ba_dinh["Đã phát hành (%)"]) == ("1", "16.7")
    assert ba_dinh["Lớp đã khoá sổ"] == "1" and ba_dinh["Số lớp"] == "2"
    assert table["Toàn tỉnh/thành phố"]["Đã phát hành"] == "2"
    report = reports.province_report(world.province, world.year)
    assert int(table["Quận Hoàn Kiếm"]["Đã đồng bộ lên cấp trên"]) == report.rows[1].figures.synced


def test_school_xlsx(rollout: Rollout, client: Any) -> None:
    world = rollout.world
    client.force_login(world.own.users["principal"])
    response = _download(client, "school", world.own.school.pk, "xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    assert sheet is not None and sheet.title == "Trường Tiểu học A"
    values = list(sheet.iter_rows(values_only=True))
    header = values[0]
    rows = {row[0]: dict(zip(header, row, strict=True)) for row in values[1:]}
    report = reports.school_report(world.own.school, world.year)
    for row in report.rows:
        line = rows[row.label]
        assert line["Đã tổng hợp"] == row.figures.compiled
        assert line["Giáo viên chủ nhiệm đã ký"] == row.figures.teacher_signed
        assert line["Số học sinh"] == row.figures.pupils
    assert rows["Toàn trường"]["Số giáo viên"] == 2
    assert (
        rows["4B"]["Giáo viên có chứng thư số (%)"] is None
    )  # no homeroom teacher: nothing to divide


def test_class_exports(rollout: Rollout, client: Any) -> None:
    world = rollout.world
    client.force_login(world.users["district_staff"])
    response = _download(client, "school_class", world.own.classes[0].pk, "csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row["Họ và tên"] for row in rows] == ["Lê Văn An", "Trần Thị Ánh", "Phạm Minh Đức"]
    first = next(r for r in rows if r["Mã học sinh"] == world.own.pupils[0].ministry_code)
    assert (first["Trạng thái học bạ"], first["Phiên bản"], first["Đã phát hành"]) == (
        "Đã tổng hợp",
        "2",
        "Có",
    )
    assert first["Ngày sinh"] == "10/01/2015"
    response = _download(client, "school_class", world.own.classes[0].pk, "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None and sheet.max_row == 4
