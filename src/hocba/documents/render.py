"""Render year records and booklets to PDF with Typst (issue 4 §2-4, ARCHITECTURE §5 and §10).

Input is the canonical year-record document (``hocba.year-record/1``, see
``records/schemas/example-year-record.json``); nothing here reads the database. The document is
turned into a *view* (every string NFC, dates dd/mm/yyyy, the form's fixed row order) that the
Typst templates only lay out. A year-record PDF is PDF/A-3b with:

- the canonical JSON attached as ``hocba-year-record.json`` (``application/json``), byte for byte;
- title, author and keywords (pupil code, school code, school year, schema version);
- a QR code of ``record.verify_url`` with the short code printed beside it;
- three empty signature fields ``gvcn``, ``hieu_truong``, ``con_dau`` placed over the boxes the
  template reserves, added in one incremental update with pyHanko.

Output is byte-stable: the PDF timestamp comes from ``record.compiled_at`` and only the shipped
Liberation Serif fonts are used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import unicodedata
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import rfc8785
import segno
import typst
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import DocumentMetadata
from pyhanko.sign.fields import SigFieldSpec, append_signature_field

PACKAGE_DIR = Path(__file__).resolve().parent
FONTS_DIR = PACKAGE_DIR / "fonts"
TEMPLATES_DIR = PACKAGE_DIR / "templates"

# typst-py accepts in-memory files ({path: bytes}) but its stub only declares paths and bytes.
_typst: Any = typst

ATTACHMENT_NAME = "hocba-year-record.json"
PDF_STANDARD = "a-3b"
A4_HEIGHT_PT = 841.89  # Typst's A4 is 595.28 x 841.89 pt

# Signature fields, in the order they are signed (DOMAIN §4): teacher, principal, then the seal.
SIGNATURE_FIELDS = ("gvcn", "hieu_truong", "con_dau")

# Table 1 of the form: every row is printed, in this order, even when the grade lacks the subject.
# (code, label printed by the form, take the document's label when present — it names the language)
FORM_SUBJECT_ROWS: tuple[tuple[str, str, bool], ...] = (
    ("tieng_viet", "Tiếng Việt", False),
    ("toan", "Toán", False),
    ("ngoai_ngu_1", "Ngoại ngữ 1", True),
    ("lich_su_dia_li", "Lịch sử và Địa lí", False),
    ("khoa_hoc", "Khoa học", False),
    ("tin_hoc", "Tin học và Công nghệ (Tin học)", False),
    ("cong_nghe", "(Công nghệ)", False),
    ("dao_duc", "Đạo đức", False),
    ("tu_nhien_xa_hoi", "Tự nhiên và Xã hội", False),
    ("giao_duc_the_chat", "Giáo dục thể chất", False),
    ("am_nhac", "Nghệ thuật (Âm nhạc)", False),
    ("mi_thuat", "(Mĩ thuật)", False),
    ("hoat_dong_trai_nghiem", "Hoạt động trải nghiệm", False),
    ("tieng_dan_toc", "Tiếng dân tộc", True),
)
FORM_QUALITY_ROWS = (
    ("pc.yeu_nuoc", "Yêu nước"),
    ("pc.nhan_ai", "Nhân ái"),
    ("pc.cham_chi", "Chăm chỉ"),
    ("pc.trung_thuc", "Trung thực"),
    ("pc.trach_nhiem", "Trách nhiệm"),
)
FORM_GENERAL_ROWS = (
    ("nlc.tu_chu_tu_hoc", "Tự chủ và tự học"),
    ("nlc.giao_tiep_hop_tac", "Giao tiếp và hợp tác"),
    ("nlc.giai_quyet_van_de", "Giải quyết vấn đề và sáng tạo"),
)
FORM_SPECIFIC_ROWS = (
    ("nld.ngon_ngu", "Ngôn ngữ"),
    ("nld.tinh_toan", "Tính toán"),
    ("nld.khoa_hoc", "Khoa học"),
    ("nld.cong_nghe", "Công nghệ"),
    ("nld.tin_hoc", "Tin học"),
    ("nld.tham_mi", "Thẩm mĩ"),
    ("nld.the_chat", "Thể chất"),
)


class RenderError(RuntimeError):
    """A document could not be rendered; the message names the record and the Typst error."""


@dataclass(frozen=True)
class SignatureBox:
    """A reserved box in PDF user space (whole points, origin bottom-left), page 0-based."""

    field: str
    page: int
    x1: int
    y1: int
    x2: int
    y2: int

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.x1, self.y1, self.x2, self.y2)


# ---------------------------------------------------------------------------- helpers


def nfc(value: Any) -> Any:
    """NFC-normalise every string in a JSON-like structure (ARCHITECTURE §10)."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {nfc(k): nfc(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [nfc(v) for v in value]
    return value


def format_date(iso: str | None) -> str:
    """``2025-05-28`` → ``28/05/2025``; empty for a missing date."""
    if not iso:
        return ""
    day = dt.date.fromisoformat(iso[:10])
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def place_date(place: str, iso: str | None) -> str:
    """``Cầu Giấy, ngày 28 tháng 05 năm 2025`` (DOMAIN §3); blanks to fill in without a date."""
    if not iso:
        return f"{place}, ngày ..... tháng ..... năm ........"
    day = dt.date.fromisoformat(iso[:10])
    return f"{place}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year:04d}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(value)


def _decimal(value: Any) -> str:
    """Measurements print with the Vietnamese decimal comma: ``132.5`` → ``132,5``."""
    return _text(value).replace(".", ",")


def _timestamp(document: dict[str, Any]) -> int:
    """The PDF creation date: the record's compilation time, so output is byte-stable."""
    compiled_at = document.get("record", {}).get("compiled_at")
    if not compiled_at:
        return 0
    return int(dt.datetime.fromisoformat(compiled_at).timestamp())


def _utc(timestamp: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)


def _rows(
    form_rows: Iterable[tuple[str, str]], items: Sequence[dict[str, Any]]
) -> list[dict[str, str]]:
    """The form's fixed rows filled from the document; items the form lacks follow at the end."""
    by_code = {item.get("code"): item for item in items}
    rows = []
    for code, label in form_rows:
        item = by_code.pop(code, None) or {}
        rows.append(
            {
                "label": label,
                "level": _text(item.get("level")),
                "comment": _text(item.get("comment")),
            }
        )
    for item in by_code.values():
        rows.append(
            {
                "label": _text(item.get("label")),
                "level": _text(item.get("level")),
                "comment": _text(item.get("comment")),
            }
        )
    return rows


def _subject_rows(subjects: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    by_code = {s.get("code"): s for s in subjects}
    rows = []
    for code, label, document_label in FORM_SUBJECT_ROWS:
        item = by_code.pop(code, None) or {}
        if document_label and item.get("label"):
            label = item["label"]
        rows.append(
            {
                "label": label,
                "level": _text(item.get("level")),
                "score": _text(item.get("score")),
                "comment": _text(item.get("comment")),
            }
        )
    for item in by_code.values():
        rows.append(
            {
                "label": _text(item.get("label")),
                "level": _text(item.get("level")),
                "score": _text(item.get("score")),
                "comment": _text(item.get("comment")),
            }
        )
    return rows


def _awards(year_end: dict[str, Any]) -> str:
    parts: list[str] = []
    for award in year_end.get("awards") or []:
        if isinstance(award, dict):
            parts.append(_text(award.get("label") or award.get("title") or award.get("code")))
        else:
            parts.append(_text(award))
    if year_end.get("exemplary"):
        reason = _text(year_end.get("exemplary_reason")).strip()
        parts.append(f"Học sinh Tiêu biểu ({reason})" if reason else "Học sinh Tiêu biểu")
    adhoc = _text(year_end.get("adhoc_awards")).strip()
    if adhoc:
        parts.append(adhoc)
    return "; ".join(p for p in parts if p)


@lru_cache(maxsize=256)
def _qr_svg(url: str) -> bytes:
    """The verification URL as an SVG QR code (printed 3.2 cm wide, ARCHITECTURE §10)."""
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        buffer, kind="svg", border=4, xmldecl=False, svgns=True, dark="#000"
    )
    return buffer.getvalue()


def year_view(document: dict[str, Any], qr_file: str = "qr.svg") -> dict[str, Any]:
    """The printable strings of one year block."""
    record = document.get("record", {})
    facts = document.get("facts", {})
    year_end = document.get("year_end", {})
    signing = document.get("signing", {})
    klass = document.get("class", {})
    height = _decimal(facts.get("height_cm"))
    weight = _decimal(facts.get("weight_kg"))
    return {
        "school_year": _text(document.get("school_year")),
        "class_name": _text(klass.get("name")),
        "height": f"{height} cm" if height else "",
        "weight": f"{weight} kg" if weight else "",
        "days_excused": _text(facts.get("days_absent_excused")),
        "days_unexcused": _text(facts.get("days_absent_unexcused")),
        "subjects": _subject_rows(document.get("subjects", [])),
        "qualities": _rows(FORM_QUALITY_ROWS, document.get("qualities", [])),
        "general_competencies": _rows(FORM_GENERAL_ROWS, document.get("general_competencies", [])),
        "specific_competencies": _rows(
            FORM_SPECIFIC_ROWS, document.get("specific_competencies", [])
        ),
        "result": _text(year_end.get("result_label")),
        "awards": _awards(year_end),
        "completion": _text(year_end.get("completion")),
        "place_date": place_date(
            _text(signing.get("place") or document.get("school", {}).get("place_name")),
            signing.get("date"),
        ),
        "principal_title": _text(signing.get("principal_title") or "HIỆU TRƯỞNG"),
        "principal_name": _text(signing.get("principal_name")),
        "homeroom_teacher_name": _text(signing.get("homeroom_teacher_name")),
        "short_code": _text(record.get("short_code")),
        "access_code": _text(record.get("access_code")),
        "verify_url": _text(record.get("verify_url")),
        "corrects": corrects_line(record.get("corrects"), record.get("version")),
        "qr_file": qr_file,
    }


def corrects_line(corrects: dict[str, Any] | None, version: Any) -> str:
    """The line a corrected version prints under its QR code ("" for a first issue)."""
    if not corrects:
        return ""
    return (
        f"Bản đính chính (phiên bản {_text(version)}), thay thế học bạ "
        f"mã {_text(corrects.get('short_code'))}. Lý do: {_text(corrects.get('reason'))}"
    )


def pupil_view(document: dict[str, Any]) -> dict[str, Any]:
    pupil = dict(document.get("pupil", {}))
    pupil["date_of_birth"] = format_date(pupil.get("date_of_birth"))
    return {key: _text(value) for key, value in pupil.items()}


def metadata(document: dict[str, Any]) -> dict[str, Any]:
    pupil = document.get("pupil", {})
    school = document.get("school", {})
    return {
        "title": f"Học bạ {_text(pupil.get('full_name'))} – {_text(document.get('school_year'))}",
        "author": [_text(school.get("name"))],
        "keywords": [
            f"pupil:{_text(pupil.get('ministry_code'))}",
            f"school:{_text(school.get('code'))}",
            f"school_year:{_text(document.get('school_year'))}",
            f"schema:{_text(document.get('schema'))}",
            f"short_code:{_text(document.get('record', {}).get('short_code'))}",
        ],
        "attachment_name": ATTACHMENT_NAME,
    }


# ---------------------------------------------------------------------------- Typst


@cache
def _template(name: str) -> bytes:
    return (TEMPLATES_DIR / name).read_bytes()


@cache
def fonts() -> typst.Fonts:
    """The shipped Liberation Serif only: no system fonts, no Typst-embedded fallbacks."""
    return typst.Fonts(
        include_system_fonts=False, include_embedded_fonts=False, font_paths=[str(FONTS_DIR)]
    )


def _compile(files: dict[str, bytes], timestamp: int) -> bytes:
    try:
        pdf = _typst.compile(
            files,
            font_paths=fonts(),
            ignore_system_fonts=True,
            format="pdf",
            pdf_standards=PDF_STANDARD,
            timestamp=timestamp,
        )
    except typst.TypstError as exc:
        raise RenderError(f"Typst: {exc.message}\n{exc.diagnostic}") from exc
    assert isinstance(pdf, bytes)
    return pdf


def _year_files(document: dict[str, Any], canonical_json: bytes) -> dict[str, bytes]:
    doc = nfc(document)
    view = {
        "meta": metadata(doc),
        "pupil": pupil_view(doc),
        "year": year_view(doc),
    }
    return {
        "main.typ": _template("year-record.typ"),
        "hocba.typ": _template("hocba.typ"),
        "view.json": json.dumps(view, ensure_ascii=False).encode(),
        "canonical.json": canonical_json,
        "qr.svg": _qr_svg(view["year"]["verify_url"] or "-"),
    }


def signature_boxes(files: dict[str, bytes]) -> list[SignatureBox]:
    """Where the template reserved the signature and seal boxes (ARCHITECTURE §10)."""
    try:
        raw = _typst.query(
            files,
            "<sigbox>",
            field="value",
            format="json",
            font_paths=fonts(),
            ignore_system_fonts=True,
        )
    except typst.TypstError as exc:
        raise RenderError(f"Typst query: {exc.message}") from exc
    boxes = []
    for item in json.loads(raw):
        # Typst: pt from the top-left corner; PDF: from the bottom-left. Round to whole points.
        top = A4_HEIGHT_PT - float(item["y"])
        left = float(item["x"])
        boxes.append(
            SignatureBox(
                field=item["field"],
                page=int(item["page"]) - 1,
                x1=round(left),
                y1=round(top - float(item["h"])),
                x2=round(left + float(item["w"])),
                y2=round(top),
            )
        )
    return boxes


class _PinnedMetadata(DocumentMetadata):
    """pyHanko stamps ModDate with the current time on every write; pin it for stable bytes."""

    def __init__(self, when: dt.datetime) -> None:
        super().__init__(last_modified=when)
        self.__dict__["_pinned"] = when

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "last_modified":
            value = self.__dict__.get("_pinned", value)
        super().__setattr__(name, value)


def add_signature_fields(
    pdf: bytes, boxes: Sequence[SignatureBox], modified: dt.datetime | None = None
) -> bytes:
    """Append the empty signature fields in ONE incremental update (ARCHITECTURE §10).

    ``modified`` pins the ModDate pyHanko writes (the record's compilation time), so the same
    document always gives the same bytes.
    """
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    if modified is not None:
        writer._meta = _PinnedMetadata(modified)
    # The second half of the file ID is random in pyHanko; derive it from the content instead.
    first_id = writer._document_id[0]
    writer._document_id = generic.ArrayObject(
        [first_id, generic.ByteStringObject(hashlib.sha256(pdf).digest()[:16])]
    )
    by_field = {b.field: b for b in boxes}
    for name in SIGNATURE_FIELDS:
        box = by_field[name]
        append_signature_field(
            writer, SigFieldSpec(sig_field_name=name, on_page=box.page, box=box.box)
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# ---------------------------------------------------------------------------- public API


def canonical_bytes(document: dict[str, Any]) -> bytes:
    """RFC 8785 serialisation of the document (what ``records`` stores and hashes)."""
    return bytes(rfc8785.dumps(document))


def render_year_record(document: dict[str, Any], canonical_json: bytes | None = None) -> bytes:
    """One year record as a PDF/A-3b with attachment, metadata, QR and empty signature fields.

    ``canonical_json`` is attached byte for byte; without it the document is serialised with
    RFC 8785 here. Pass the stored bytes so the attachment hashes to the record's content hash.
    """
    if canonical_json is None:
        canonical_json = canonical_bytes(document)
    files = _year_files(document, canonical_json)
    timestamp = _timestamp(document)
    pdf = _compile(files, timestamp)
    return add_signature_fields(pdf, signature_boxes(files), modified=_utc(timestamp))


@lru_cache(maxsize=64)
def render_stamp(
    lines: tuple[str, ...], width: float, height: float, kind: str = "person"
) -> bytes:
    """A one-page PDF of ``width`` x ``height`` pt showing a signature's visible appearance.

    ``kind`` is ``"person"`` (a framed block) or ``"seal"`` (a round red frame). Identical inputs
    give identical bytes, and the last 64 are cached: a batch draws each signer's stamp once.
    """
    size = 9.5 if kind == "person" else 7.5
    stamp = {
        "width": width,
        "height": height,
        "kind": kind,
        "size": size,
        "lines": [unicodedata.normalize("NFC", line) for line in lines],
    }
    files = {
        "main.typ": _template("stamp.typ"),
        "stamp.json": json.dumps(stamp, ensure_ascii=False).encode(),
    }
    try:
        pdf = _typst.compile(
            files, font_paths=fonts(), ignore_system_fonts=True, format="pdf", timestamp=0
        )
    except typst.TypstError as exc:
        raise RenderError(f"Typst: {exc.message}\n{exc.diagnostic}") from exc
    assert isinstance(pdf, bytes)
    return pdf


def render_class(
    documents: Sequence[dict[str, Any]],
    canonical_jsons: Sequence[bytes | None] | None = None,
    workers: int | None = None,
) -> list[bytes]:
    """The year records of a class, one PDF each, in order (same bytes as ``render_year_record``).

    Each record keeps its own attachment and signature fields, so each is its own compile; the
    fonts are loaded once and the template sources read once. The Typst compiler releases the
    GIL, so records compile on ``workers`` threads (default: the number of CPUs, at most 4);
    docs/rendering.md has the measurements.
    """
    jsons = list(canonical_jsons) if canonical_jsons is not None else [None] * len(documents)
    if len(jsons) != len(documents):
        raise ValueError("canonical_jsons must match documents")
    workers = workers or min(4, os.cpu_count() or 1)
    if workers <= 1 or len(documents) <= 1:
        return [render_year_record(doc, cj) for doc, cj in zip(documents, jsons, strict=True)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(render_year_record, documents, jsons))


def render_booklet(pupil_documents: Sequence[dict[str, Any]]) -> bytes:
    """The printable booklet of one pupil: cover, pupil page, study history, every year block.

    Built from compiled year records only. The latest record (by school year) supplies the pupil,
    the school and the study history. The booklet carries no signature fields or attachments: the
    signed year records are the legal documents.
    """
    if not pupil_documents:
        raise ValueError("a booklet needs at least one year record")
    docs = sorted((nfc(d) for d in pupil_documents), key=lambda d: _text(d.get("school_year")))
    latest = docs[-1]
    school = latest.get("school", {})
    signing = latest.get("signing", {})
    files: dict[str, bytes] = {}
    years = []
    for index, doc in enumerate(docs):
        qr_file = f"qr-{index}.svg"
        years.append(year_view(doc, qr_file=qr_file))
        files[qr_file] = _qr_svg(_text(doc.get("record", {}).get("verify_url")) or "-")
    first = docs[0]
    meta = metadata(latest)
    meta["title"] = f"Học bạ {_text(latest.get('pupil', {}).get('full_name'))}"
    view = {
        "meta": meta,
        "pupil": pupil_view(latest),
        "school": {
            "name": _text(school.get("name")),
            "address_levels": [
                {"label": _text(a.get("label")), "value": _text(a.get("value"))}
                for a in school.get("address_levels", [])
            ],
        },
        "cover_place_date": place_date(
            _text(first.get("signing", {}).get("place") or school.get("place_name")),
            _first_joined_on(latest) or first.get("signing", {}).get("date"),
        ),
        "cover_principal_name": _text(signing.get("principal_name")),
        "study_history": [
            {
                "school_year": _text(row.get("school_year")),
                "class_name": _text(row.get("class_name")),
                "school_name": _text(row.get("school_name")),
                "register_number": _text(row.get("register_number")),
                "joined_on": format_date(row.get("joined_on")),
            }
            for row in latest.get("study_history", [])
        ],
        "years": years,
    }
    files.update(
        {
            "main.typ": _template("booklet.typ"),
            "hocba.typ": _template("hocba.typ"),
            "view.json": json.dumps(view, ensure_ascii=False).encode(),
        }
    )
    return _compile(files, _timestamp(latest))


def _first_joined_on(document: dict[str, Any]) -> str | None:
    history = document.get("study_history") or []
    return history[0].get("joined_on") if history else None
