"""Bulk export of year-record PDFs and booklets (issue 4 §6), and the helpers the web pages share.

Every PDF is rendered from the record's *stored* canonical JSON (the exact RFC 8785 bytes are
embedded, so the attachment hashes to ``content_hash``); nothing is read from live assessment
data. Files are named so a person can find a pupil::

    <class>/<NN> - <Full Name> - <ministry code>.pdf
    so-hoc-ba/<class>/<NN> - <Full Name> - <ministry code>.pdf     (with booklets)

``NN`` is the pupil's position in the class's Vietnamese name order (``class_roster``). The output
is a folder, or a zip archive when the target ends with ``.zip``.
"""

from __future__ import annotations

import io
import json
import re
import time
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from django.utils.translation import gettext as _

from hocba.assessment.year_end import evaluate_enrolment
from hocba.common.errors import PermissionRefused
from hocba.documents.render import render_booklet, render_class
from hocba.records import selectors
from hocba.records.models import UNSIGNED_STATUSES, YearRecord, YearRecordStatus
from hocba.schools import access
from hocba.schools.models import Enrolment, Pupil, School, SchoolClass, SchoolYear
from hocba.schools.selectors import class_roster

BOOKLET_FOLDER = "so-hoc-ba"
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


# --- Names --------------------------------------------------------------------------------------


def safe_component(value: str) -> str:
    """One path component: NFC, no separators or characters Windows refuses, no leading dot."""
    cleaned = _UNSAFE.sub(" ", unicodedata.normalize("NFC", value))
    cleaned = " ".join(cleaned.split()).strip(" .")
    return cleaned or "_"


def ascii_fallback(value: str) -> str:
    """Vietnamese without diacritics (đ → d), for ``filename=`` in Content-Disposition."""
    value = value.replace("đ", "d").replace("Đ", "D")
    stripped = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return re.sub(r'["\\]', "", stripped)


def pupil_filename(position: int, pupil: Pupil) -> str:
    return safe_component(f"{position:02d} - {pupil.full_name} - {pupil.ministry_code}") + ".pdf"


# --- What a class has -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassEntry:
    """One pupil of a class in name order, with their current record (None: not compiled)."""

    position: int
    enrolment: Enrolment
    record: YearRecord | None

    @property
    def pupil(self) -> Pupil:
        return self.enrolment.pupil


def current_records_of_class(school_class: SchoolClass) -> dict[int, YearRecord]:
    """The current (not superseded) record of each enrolment of the class, by enrolment id."""
    records = selectors.current_versions(
        YearRecord.objects.filter(enrolment__school_class=school_class)
    ).select_related("pupil")
    return {record.enrolment_id: record for record in records}


def class_entries(school_class: SchoolClass) -> list[ClassEntry]:
    records = current_records_of_class(school_class)
    return [
        ClassEntry(position=index, enrolment=enrolment, record=records.get(enrolment.pk))
        for index, enrolment in enumerate(class_roster(school_class), start=1)
    ]


def missing_reasons(enrolment: Enrolment) -> list[str]:
    """Why a pupil has no record: the year-end result's missing fields, or not compiled yet."""
    evaluation = evaluate_enrolment(enrolment)
    if not evaluation.is_computable:
        return [_("Chưa tính được kết quả cuối năm:"), *[str(m) for m in evaluation.missing]]
    return [_("Chưa tổng hợp")]


def stored_document(record: YearRecord) -> tuple[dict[str, Any], bytes]:
    data = record.canonical_json.encode("utf-8")
    return json.loads(data), data


def render_records(records: list[YearRecord]) -> list[bytes]:
    """The PDFs of the records, in order, each embedding its stored canonical bytes."""
    pairs = [stored_document(record) for record in records]
    return render_class([doc for doc, _ in pairs], canonical_jsons=[data for _, data in pairs])


def booklet_records(pupil: Pupil) -> list[YearRecord]:
    """The pupil's current records across years, oldest school year first."""
    return list(
        selectors.current_versions(YearRecord.objects.filter(pupil=pupil))
        .exclude(status=YearRecordStatus.REVOKED)
        .select_related("school_year")
        .order_by("school_year__start_year", "pk")
    )


def render_pupil_booklet(records: list[YearRecord]) -> bytes:
    return render_booklet([stored_document(record)[0] for record in records])


def class_zip(school_class: SchoolClass, user: Any = None) -> bytes:
    """The current year records of one class as a zip (the web's "Tải cả lớp")."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        writer = _ZipWriter(archive)
        _write_class(writer, school_class, booklets=False, report=ExportReport(), user=user)
    return buffer.getvalue()


# --- Writers --------------------------------------------------------------------------------------


class _Writer(Protocol):
    def write(self, relative: str, data: bytes) -> None: ...


class _FolderWriter:
    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, relative: str, data: bytes) -> None:
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


class _ZipWriter:
    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive

    def write(self, relative: str, data: bytes) -> None:
        # PDFs are already compressed; names are UTF-8 (zipfile sets the language flag).
        self.archive.writestr(relative, data, compress_type=zipfile.ZIP_STORED)


# --- The export -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SkippedPupil:
    class_name: str
    position: int
    full_name: str
    ministry_code: str
    reasons: tuple[str, ...]


@dataclass
class ExportReport:
    classes: int = 0
    records: int = 0
    booklets: int = 0
    files: list[str] = field(default_factory=list)
    skipped: list[SkippedPupil] = field(default_factory=list)
    seconds: float = 0.0


def _write_class(
    writer: _Writer,
    school_class: SchoolClass,
    *,
    booklets: bool,
    report: ExportReport,
    user: Any = None,
) -> None:
    folder = safe_component(school_class.name)
    entries = class_entries(school_class)
    present = [entry for entry in entries if entry.record is not None]
    for entry in entries:
        if entry.record is None:
            report.skipped.append(
                SkippedPupil(
                    class_name=school_class.name,
                    position=entry.position,
                    full_name=entry.pupil.full_name,
                    ministry_code=entry.pupil.ministry_code,
                    reasons=tuple(missing_reasons(entry.enrolment)),
                )
            )
    pdfs = _class_pdfs([entry.record for entry in present if entry.record is not None])
    for entry, pdf in zip(present, pdfs, strict=True):
        name = f"{folder}/{pupil_filename(entry.position, entry.pupil)}"
        writer.write(name, pdf)
        report.files.append(name)
        report.records += 1
        if user is not None:
            # Reads from above the school are audited (no-op for the school's own staff).
            access.log_personal_data_read(user, entry.pupil)
    if user is not None:
        _log_copies(user, [entry.record for entry in present if entry.record is not None])
    if booklets:
        for entry in present:
            booklet = render_pupil_booklet(booklet_records(entry.pupil))
            name = f"{BOOKLET_FOLDER}/{folder}/{pupil_filename(entry.position, entry.pupil)}"
            writer.write(name, booklet)
            report.files.append(name)
            report.booklets += 1
    report.classes += 1


def _class_pdfs(records: list[YearRecord]) -> list[bytes]:
    """Signed records as signed (with their signatures and seal), the others rendered afresh."""
    from hocba.signing.batch import current_pdf  # signing builds on records

    unsigned = [record for record in records if record.status in UNSIGNED_STATUSES]
    rendered = iter(render_records(unsigned))
    return [
        next(rendered) if record.status in UNSIGNED_STATUSES else current_pdf(record)
        for record in records
    ]


def _log_copies(user: Any, records: list[YearRecord]) -> None:
    """Issued records handed out in an export are copies (issue 6 §6), logged as such."""
    from hocba.ledger import copies  # the ledger builds on records
    from hocba.ledger.models import CopyChannel, CopyPurpose

    copies.record_copies(
        actor=user, records=records, channel=CopyChannel.CLASS_ZIP, purpose=CopyPurpose.ARCHIVE
    )


def _classes(school: School, school_year: SchoolYear, class_name: str | None) -> list[SchoolClass]:
    classes = SchoolClass.objects.filter(school=school, school_year=school_year).select_related(
        "school", "school_year"
    )
    if class_name:
        classes = classes.filter(name=class_name)
    return sorted(classes, key=lambda c: (c.grade, c.name))


@contextmanager
def _writer_for(out: Path) -> Iterator[_Writer]:
    if out.suffix.lower() == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w") as archive:
            yield _ZipWriter(archive)
    else:
        out.mkdir(parents=True, exist_ok=True)
        yield _FolderWriter(out)


def export_records(
    *,
    user: Any,
    school: School,
    school_year: SchoolYear,
    out: Path,
    class_name: str | None = None,
    booklets: bool = False,
) -> ExportReport:
    """Write the current year records (and booklets) of a school's year, or of one class."""
    if not access.can_view(user, school):
        raise PermissionRefused(
            _("Bạn không có quyền xuất học bạ của %(school)s.") % {"school": school.name}
        )
    started = time.perf_counter()
    report = ExportReport()
    classes = _classes(school, school_year, class_name)
    with _writer_for(Path(out)) as writer:
        for school_class in classes:
            _write_class(writer, school_class, booklets=booklets, report=report, user=user)
    report.seconds = time.perf_counter() - started
    return report
