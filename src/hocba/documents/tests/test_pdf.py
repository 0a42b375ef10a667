"""The year-record PDF carries the canonical JSON, metadata, a QR code and three empty fields."""

from __future__ import annotations

import hashlib
import io
import json

import rfc8785
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields

from hocba.documents import render
from hocba.documents.tests import variants


def _embedded_files(pdf: bytes) -> dict[str, tuple[bytes, str]]:
    reader = PdfFileReader(io.BytesIO(pdf))
    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    found = {}
    for index in range(0, len(names), 2):
        spec = names[index + 1].get_object()
        stream = spec["/EF"]["/F"].get_object()
        found[str(names[index])] = (stream.data, str(stream.get("/Subtype", "")))
    return found


def test_attachment_is_the_exact_canonical_bytes() -> None:
    doc = variants.example()
    canonical = rfc8785.dumps(doc)
    pdf = render.render_year_record(doc, canonical_json=canonical)
    files = _embedded_files(pdf)
    data, subtype = files[render.ATTACHMENT_NAME]
    assert data == canonical
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(canonical).hexdigest()
    assert subtype == "/application/json"
    assert json.loads(data) == doc
    # Associated file (PDF/A-3): the catalog lists it in /AF.
    reader = PdfFileReader(io.BytesIO(pdf))
    assert "/AF" in reader.root


def test_default_serialisation_is_rfc8785() -> None:
    doc = variants.grade3()
    data, _ = _embedded_files(render.render_year_record(doc))[render.ATTACHMENT_NAME]
    assert data == rfc8785.dumps(doc)


def test_three_empty_signature_fields_over_the_reserved_boxes() -> None:
    doc = variants.long_comment()
    pdf = render.render_year_record(doc)
    reader = PdfFileReader(io.BytesIO(pdf))
    fields = {name: (value, ref) for name, value, ref in enumerate_sig_fields(reader)}
    assert set(fields) == {"gvcn", "hieu_truong", "con_dau"}
    assert all(value is None for value, _ in fields.values())  # unsigned
    # One incremental update on top of Typst's output.
    assert pdf.count(b"%%EOF") == 2
    files = render._year_files(doc, render.canonical_bytes(doc))
    boxes = {b.field: b for b in render.signature_boxes(files)}
    last_page = int(reader.root["/Pages"]["/Count"]) - 1
    for name, (_, ref) in fields.items():
        widget = ref.get_object()
        rect = [float(x) for x in widget["/Rect"]]
        box = boxes[name]
        assert rect == [box.x1, box.y1, box.x2, box.y2]
        assert box.page == last_page
        assert 0 < box.x1 < box.x2 < 595.28 and 0 < box.y1 < box.y2 < 841.89
    # Side by side: principal left, seal in the middle, teacher right, none overlapping.
    assert boxes["hieu_truong"].x2 < boxes["con_dau"].x1 < boxes["con_dau"].x2 < boxes["gvcn"].x1


def test_metadata_and_verification_text() -> None:
    doc = variants.example()
    pdf = render.render_year_record(doc)
    reader = PdfFileReader(io.BytesIO(pdf))
    info = reader.trailer["/Info"].get_object()
    assert str(info["/Title"]) == "Học bạ Vũ Bảo An – 2024-2025"
    assert str(info["/Author"]) == "Trường Tiểu học Dịch Vọng A"
    keywords = str(info["/Keywords"])
    for needle in ("0155727301", "01005101", "2024-2025", "hocba.year-record/1"):
        assert needle in keywords
    assert b'pdfaid:part="3"' in reader.root["/Metadata"].get_object().data


def test_output_is_byte_stable_and_nfc() -> None:
    doc = variants.example()
    assert render.render_year_record(doc) == render.render_year_record(doc)
    decomposed = variants.example()
    decomposed["pupil"]["full_name"] = "Vu\u0303 Ba\u0309o An"  # NFD input still renders NFC
    files = render._year_files(decomposed, b"{}")
    assert "Vũ Bảo An".encode() in files["view.json"]


def test_qr_encodes_the_verify_url() -> None:
    svg = render._qr_svg("http://127.0.0.1:8000/xac-thuc/HB7K-2M9Q-XD4T")
    assert svg.startswith(b"<svg")


def test_render_class_matches_single_renders() -> None:
    docs = [variants.example(), variants.cht()]
    assert render.render_class(docs) == [render.render_year_record(d) for d in docs]
