"""``hocba records export``: folder and zip, names in Vietnamese name order, skipped, permission."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pyhanko.pdf_utils.reader import PdfFileReader

from hocba.conftest import World
from hocba.documents.render import ATTACHMENT_NAME
from hocba.records.export import ascii_fallback, safe_component
from hocba.records.models import YearRecord
from hocba.records.tests.conftest import compile_4a, finish

NAMES_4A = [
    "4A/01 - Lê Văn An - 0000000002.pdf",
    "4A/02 - Trần Thị Ánh - 0000000001.pdf",
    "4A/03 - Phạm Minh Đức - 0000000003.pdf",
]


def _attachment(pdf: bytes) -> bytes:
    reader = PdfFileReader(io.BytesIO(pdf))
    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    for index in range(0, len(names), 2):
        if str(names[index]) == ATTACHMENT_NAME:
            return bytes(names[index + 1].get_object()["/EF"]["/F"].get_object().data)
    raise AssertionError("no attachment")


def _export(*args: str) -> str:
    out = io.StringIO()
    call_command("records", "export", *args, stdout=out)
    return out.getvalue()


def test_export_a_class_to_a_folder(filled: World, tmp_path: Path) -> None:
    finish(filled)
    compile_4a(filled)
    target = tmp_path / "xuat"
    output = _export(
        "--school", "01001", "--class", "4A", "--year", "2024-2025",
        "--out", str(target), "--user", "a_ht",
    )  # fmt: skip
    written = sorted(str(p.relative_to(target)) for p in target.rglob("*.pdf"))
    assert written == NAMES_4A
    hashes = set(YearRecord.objects.values_list("content_hash", flat=True))
    for path in target.rglob("*.pdf"):
        data = path.read_bytes()
        assert data.startswith(b"%PDF")
        assert hashlib.sha256(_attachment(data)).hexdigest() in hashes
    assert "Đã xuất 3 học bạ năm học và 0 sổ học bạ của 1 lớp" in output
    assert "bỏ qua 0 học sinh" in output


def test_export_a_school_to_a_zip_with_booklets_lists_skipped(
    filled: World, tmp_path: Path
) -> None:
    finish(filled)
    compile_4a(filled)
    target = tmp_path / "hoc-ba.zip"
    output = _export(
        "--school", "01001", "--year", "2024-2025", "--out", str(target),
        "--booklets", "--user", "a_gvcn",
    )  # fmt: skip
    with zipfile.ZipFile(target) as archive:
        names = sorted(archive.namelist())
        booklet = archive.read("so-hoc-ba/4A/02 - Trần Thị Ánh - 0000000001.pdf")
    assert names == sorted(NAMES_4A + [f"so-hoc-ba/{name}" for name in NAMES_4A])
    assert booklet.startswith(b"%PDF")
    # Class 4B has no records: its pupils are listed with the reason, in name order.
    assert "Bỏ qua: lớp 4B, 01 - Lê Văn An - 0000000005" in output
    assert "Chưa tính được kết quả cuối năm" in output
    assert "Đã xuất 3 học bạ năm học và 3 sổ học bạ của 2 lớp" in output
    assert "bỏ qua 3 học sinh" in output


def test_export_refused_to_a_user_of_another_school(filled: World, tmp_path: Path) -> None:
    finish(filled)
    compile_4a(filled)
    target = tmp_path / "khong"
    with pytest.raises(CommandError, match="Bạn không có quyền xuất học bạ"):
        _export(
            "--school", "01001", "--year", "2024-2025", "--out", str(target),
            "--user", "b_ht",
        )  # fmt: skip
    assert not target.exists()


def test_unknown_class_is_an_error(filled: World, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Không tìm thấy lớp"):
        _export(
            "--school", "01001", "--class", "9Z", "--year", "2024-2025",
            "--out", str(tmp_path), "--user", "a_ht",
        )  # fmt: skip


def test_names_are_safe_on_every_system() -> None:
    assert safe_component('4A/B: "x"?') == "4A B x"
    assert ascii_fallback("Phạm Minh Đức - lớp 4A") == "Pham Minh Duc - lop 4A"
