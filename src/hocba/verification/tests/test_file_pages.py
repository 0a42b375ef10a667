# ruff: noqa: F811, F401 — pytest fixtures imported from reportfixtures
"""Verify a file on the web page and through the API: report, downloads, refusals, limits."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from hocba.api import keys
from hocba.api.models import ApiScope
from hocba.records.models import YearRecord
from hocba.verification.tests.reportfixtures import issued_pdf, lta_issued

pytestmark = pytest.mark.django_db


def _upload(data: bytes, name: str = "hoc-ba.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def test_an_issued_file_is_valid_and_the_report_downloads(lta_issued: list[YearRecord]) -> None:
    client = Client()
    record = lta_issued[0]
    page = client.post("/kiem-tra-tep/", {"file": _upload(issued_pdf(record))})
    assert page.status_code == 200
    content = page.content.decode()
    assert 'data-verdict="VALID"' in content and "Hợp lệ" in content
    assert record.short_code in content
    assert "Giáo viên chủ nhiệm" in content
    report = json.loads(client.get("/kiem-tra-tep/bao-cao.json").content)
    assert report["verdict"] == "VALID" and report["mode"] == "stored"
    pdf = client.get("/kiem-tra-tep/bao-cao.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_a_changed_byte_is_invalid(lta_issued: list[YearRecord]) -> None:
    data = bytearray(issued_pdf(lta_issued[0]))
    data[len(data) // 3] ^= 0x01
    content = Client().post("/kiem-tra-tep/", {"file": _upload(bytes(data))}).content.decode()
    assert 'data-verdict="VALID"' not in content


def test_refusals_are_clear_and_keep_nothing(settings: object) -> None:
    client = Client()
    response = client.post("/kiem-tra-tep/", {"file": _upload(b"not a pdf at all")})
    assert response.status_code == 400
    assert "Tệp không phải là tệp PDF." in response.content.decode()
    assert client.get("/kiem-tra-tep/bao-cao.json").status_code == 404
    settings.HOCBA_VERIFY_MAX_BYTES = 1000  # type: ignore[attr-defined]
    response = client.post("/kiem-tra-tep/", {"file": _upload(b"%PDF-1.7\n" + b" " * 2000)})
    assert response.status_code == 400 and "Tệp quá lớn" in response.content.decode()
    assert client.post("/kiem-tra-tep/", {}).status_code == 400


def test_uploads_are_rate_limited(settings: object) -> None:
    settings.HOCBA_RATE_LIMITS = {"verify_upload": (2, 600)}  # type: ignore[attr-defined]
    client = Client()
    for _ in range(2):
        assert client.post("/kiem-tra-tep/", {"file": _upload(b"x")}).status_code == 400
    response = client.post("/kiem-tra-tep/", {"file": _upload(b"x")})
    assert response.status_code == 429 and response["Retry-After"]


def test_the_api_verifies_a_file(lta_issued: list[YearRecord]) -> None:
    data = issued_pdf(lta_issued[1])
    response = Client().post("/api/v1/verify/file", {"file": _upload(data)})
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["schema"] == "hocba.verification-report/1"
    assert report["verdict"] == "VALID"
    assert report["data"]["short_code"] == lta_issued[1].short_code


def test_the_api_file_scope(lta_issued: list[YearRecord]) -> None:
    _key, secret = keys.create_key(
        actor=None, name="Tra cứu", institution="Trường THCS Nhận", scopes=[ApiScope.VERIFY_READ]
    )
    response = Client().post(
        "/api/v1/verify/file",
        {"file": _upload(b"%PDF-1.7")},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 403
    bad = Client().post("/api/v1/verify/file", {"file": _upload(b"plain text")})
    assert bad.status_code == 400 and "PDF" in bad.json()["detail"]
