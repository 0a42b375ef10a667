"""Golden tests of the học bạ form (issue 4): pages as images, text in the right place.

Each case is rendered, every page rasterised with ``pdftoppm -r 60`` and compared with the reviewed
reference PNG in ``golden/``. Regenerate after a deliberate layout change, then LOOK at every
image before committing::

    HOCBA_UPDATE_GOLDEN=1 .venv/bin/pytest -q src/hocba/documents/tests/test_golden.py
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from hocba.documents import render
from hocba.documents.tests import variants

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("HOCBA_UPDATE_GOLDEN") == "1"
DPI = 60
MAX_MEAN_DIFF = 2.0  # mean absolute difference, 0-255 grayscale
MAX_CHANGED_SHARE = 0.01  # share of pixels differing by more than 64

pytestmark = pytest.mark.skipif(
    subprocess.run(["which", "pdftoppm"], capture_output=True).returncode != 0,
    reason="poppler-utils (pdftoppm, pdftotext) is not installed",
)


def _booklet_with_transfer() -> bytes:
    earlier = variants.for_grade(3)
    latest = variants.transfer()
    earlier["study_history"] = latest["study_history"][:3]
    earlier["school_year"] = "2023-2024"
    earlier["class"] = {"name": "3A", "grade": 3}
    earlier["record"]["compiled_at"] = "2024-05-28T10:15:00+07:00"
    earlier["signing"]["date"] = "2024-05-28"
    return render.render_booklet([latest, earlier])


CASES: dict[str, Callable[[], bytes]] = {
    name: (lambda build=build: render.render_year_record(build()))
    for name, build in variants.VARIANTS.items()
    if name != "transfer"
}
CASES["booklet_transfer"] = _booklet_with_transfer


def rasterise(pdf: bytes, dpi: int = DPI) -> list[Image.Image]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(path), str(Path(tmp) / "page")],
            check=True,
            capture_output=True,
        )
        pages = sorted(Path(tmp).glob("page-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
        return [Image.open(p).convert("L").copy() for p in pages]


def pdftotext(pdf: bytes) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(pdf)
        return subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
        ).stdout


def compare(actual: Image.Image, reference: Image.Image) -> tuple[float, float]:
    """(mean absolute difference, share of pixels differing by more than 64)."""
    assert actual.size == reference.size, (actual.size, reference.size)
    diff = ImageChops.difference(actual, reference)
    histogram = diff.histogram()
    total = actual.size[0] * actual.size[1]
    mean = sum(value * count for value, count in enumerate(histogram)) / total
    changed = sum(histogram[65:]) / total
    return mean, changed


@pytest.mark.parametrize("case", sorted(CASES))
def test_pages_match_reviewed_images(case: str) -> None:
    pages = rasterise(CASES[case]())
    references = sorted(GOLDEN.glob(f"{case}-p*.png"))
    if UPDATE:
        for old in references:
            old.unlink()
        GOLDEN.mkdir(exist_ok=True)
        for number, page in enumerate(pages, start=1):
            page.save(GOLDEN / f"{case}-p{number}.png", optimize=True)
        pytest.skip(f"golden images of {case} regenerated: look at them before committing")
    assert references, f"no reference images for {case}; run with HOCBA_UPDATE_GOLDEN=1"
    assert len(pages) == len(references), f"{case}: {len(pages)} pages, {len(references)} expected"
    for number, (page, reference_path) in enumerate(zip(pages, references, strict=True), start=1):
        mean, changed = compare(page, Image.open(reference_path).convert("L"))
        assert mean < MAX_MEAN_DIFF and changed < MAX_CHANGED_SHARE, (
            f"{case} page {number} differs from {reference_path.name}: "
            f"mean {mean:.2f}, {changed:.2%} of pixels changed"
        )


def _assert_row(text: str, label: str, *cells: str) -> None:
    """A table row: the label and its cells on one extracted line, in that order."""
    pattern = r"\s+".join(re.escape(part) for part in (label, *cells))
    assert re.search(pattern, text), f"row {label!r} with {cells!r} not found"


def _check_year_text(text: str, doc: dict[str, Any]) -> None:
    assert doc["pupil"]["full_name"] in text
    assert f"Lớp: {doc['class']['name']}" in text
    assert f"Năm học: {doc['school_year']}" in text
    by_code = {s["code"]: s for s in doc["subjects"]}
    for code, label, document_label in render.FORM_SUBJECT_ROWS:
        subject = by_code.get(code)
        shown = subject["label"] if (document_label and subject) else label
        assert shown in text, shown
        if subject:
            cells = [subject["level"]] + ([str(subject["score"])] if subject["score"] else [])
            _assert_row(text, shown, *cells)
    for key in ("qualities", "general_competencies", "specific_competencies"):
        for item in doc[key]:
            _assert_row(text, item["label"], item["level"])
    assert f"Đánh giá kết quả giáo dục: {doc['year_end']['result_label']}" in text
    if doc["year_end"]["completion"]:
        assert doc["year_end"]["completion"] in text
    assert doc["signing"]["principal_name"] in text
    assert doc["signing"]["homeroom_teacher_name"] in text
    assert f"Mã tra cứu: {doc['record']['short_code']}" in text


@pytest.mark.parametrize("name", ["grade1", "grade3", "grade5", "long_comment", "cht"])
def test_text_extraction_finds_every_field(name: str) -> None:
    doc = variants.VARIANTS[name]()
    text = pdftotext(render.render_year_record(doc))
    _check_year_text(text, doc)
    year, month, day = doc["signing"]["date"].split("-")
    assert f"ngày {day} tháng {month} năm {year}" in text


def test_example_date_line_and_subject_rows() -> None:
    doc = variants.example()
    text = pdftotext(render.render_year_record(doc))
    assert "Cầu Giấy, ngày 28 tháng 05 năm 2025" in text
    _assert_row(text, "Tiếng Việt", "T", "9")
    _assert_row(text, "Toán", "T", "10")
    _assert_row(text, "Ngoại ngữ 1 (Tiếng Anh)", "H", "8")
    _assert_row(text, "(Công nghệ)", "H", "7")
    assert "Hoàn thành chương trình lớp 4" in text
    assert "có phép 2, không phép 0" in text


def test_cht_has_no_completion_and_grade5_completes_primary() -> None:
    cht_text = pdftotext(render.render_year_record(variants.cht()))
    assert "Chưa hoàn thành" in cht_text
    assert "Hoàn thành chương trình lớp 4" not in cht_text
    assert "Hoàn thành chương trình tiểu học" in pdftotext(
        render.render_year_record(variants.grade5())
    )


def test_booklet_has_cover_pupil_page_history_and_years() -> None:
    text = pdftotext(_booklet_with_transfer())
    for needle in (
        "BỘ GIÁO DỤC VÀ ĐÀO TẠO",
        "HỌC BẠ",
        "TIỂU HỌC",
        "Họ và tên học sinh: Vũ Bảo An",
        "Xã (Phường, Thị trấn): Phường Dịch Vọng",
        "Tỉnh (Thành phố): Thành phố Hà Nội",
        "Ngày sinh: 27/09/2015",
        "Người giám hộ (nếu có)",
        "QUÁ TRÌNH HỌC TẬP",
        "Năm học: 2023-2024",
        "Năm học: 2024-2025",
    ):
        assert needle in text, needle
    # The other school's long name wraps inside its cell; the row's other cells stay on one line.
    assert "Trường Tiểu học Lê Quý Đôn" in text
    _assert_row(text, "2021-2022", "1A", "112/2021", "05/09/2021")
    _assert_row(text, "2023-2024", "3A", "Trường Tiểu học Dịch Vọng A", "88/2023", "20/11/2023")


def test_long_comment_wraps_inside_the_page() -> None:
    """A 600-character comment wraps within its cell: nothing is cut or runs off the page."""
    doc = variants.long_comment()
    pdf = render.render_year_record(doc)
    text = pdftotext(pdf)
    words = " ".join(text.split())
    # The comment's last words are all there (wrapping, not clipping).
    assert "mở rộng vốn từ theo chủ điểm." in words
    for page in rasterise(pdf, dpi=30):
        # Right margin (1.5 cm) stays blank: no text ran past the table.
        width, height = page.size
        margin = page.crop((width - 12, 0, width, height))
        assert margin.getextrema()[0] > 200
