"""The hidden, protected sheet "_hocba": what the workbook is and what it held when downloaded.

The identity, one key and value per row (``format``, ``kind``, ``school``, ``school_year``,
``class_id``, ``class``, ``subject``, ``period``, ``generated_at``), then ``data`` rows whose second
cells, joined, hold one JSON list of records (split because a cell holds at most 32,767
characters; a few long cells parse much faster than thousands of small ones):

* ``["sheet", name, kind, subject]`` for each data sheet;
* ``["column", sheet, column index, cell sheet, key, period, field, title, group]``;
* ``["pupil", sheet, Mã học sinh, enrolment id, {row key: version}, digests]``: the digests are a
  short fingerprint of each column's value as downloaded (the text the cell history stores),
  space-separated.

The versions are sent back as ``expected_version`` (optimistic concurrency); the digests tell which
cells the teacher changed, so only those are written and a value changed on the web after the
download is never overwritten by an untouched cell. Digests rather than values keep the hidden
sheet small and do not copy pupils' comments a second time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from hocba.assessment.cells import CellAddress
from hocba.assessment.excel_files import (
    AssessmentImportRejected,
    file_rejected,
    sheet_rows,
    write_row,
)
from hocba.assessment.excel_grid import (
    COMPETENCY,
    FACTS,
    FORMAT_NAME,
    FORMAT_VERSION,
    HIDDEN_SHEET,
    KINDS,
    SUBJECT,
    GridColumn,
    GridSheet,
    Identity,
)
from hocba.assessment.models import Period

META_KEYS = frozenset(
    {"format", "kind", "school", "school_year", "class_id", "class", "subject", "period"}
)
META_ROWS = 9  # format ... generated_at
CHUNK = 30_000
MAX_HIDDEN_ROWS = 1_000
MAX_HIDDEN_COLUMNS = 4
ALLOWED_FIELDS = {
    "subject": {"level", "score", "comment"},
    "competency": {"level", "comment"},
    "facts": {"value"},
}


@dataclass(frozen=True)
class PupilSnapshot:
    enrolment_id: int
    versions: dict[str, int]
    digests: tuple[str, ...]  # of each column's downloaded value, in column order


@dataclass
class HiddenData:
    identity: Identity
    sheets: list[GridSheet] = field(default_factory=list)
    pupils: dict[tuple[str, str], PupilSnapshot] = field(default_factory=dict)  # (sheet, code)


def write_hidden(
    workbook: Any, identity: Identity, sheets: list[GridSheet], pupil_rows: list[list[Any]]
) -> None:
    """Add the hidden sheet. ``pupil_rows`` are ready ``pupil`` records."""
    hidden = workbook.create_sheet(HIDDEN_SHEET)
    records: list[list[Any]] = [
        ["format", FORMAT_NAME, FORMAT_VERSION],
        ["kind", identity.kind],
        ["school", identity.school_code],
        ["school_year", identity.school_year],
        ["class_id", identity.class_id],
        ["class", identity.class_name],
        ["subject", identity.subject],
        ["period", identity.period],
        ["generated_at", timezone.now().isoformat(timespec="seconds")],
    ]
    for sheet in sheets:
        records.append(["sheet", sheet.name, sheet.kind, sheet.subject])
        for column in sheet.columns:
            address = column.address
            records.append(
                [
                    "column",
                    sheet.name,
                    column.index,
                    address.sheet,
                    address.key,
                    address.period,
                    address.field,
                    column.title,
                    column.group,
                ]
            )
    payload = json.dumps([*records[META_ROWS:], *pupil_rows], ensure_ascii=False)
    chunks = [payload[i : i + CHUNK] for i in range(0, len(payload), CHUNK)]
    rows = [*records[:META_ROWS], *(["data", chunk] for chunk in chunks)]
    for number, record in enumerate(rows, start=1):
        write_row(hidden, number, record)
    hidden.sheet_state = "hidden"
    hidden.protection.sheet = True


def digest(text: str) -> str:
    """A short fingerprint of a cell's text: enough to notice that a teacher changed it."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=6).hexdigest()


def pupil_record(
    sheet: GridSheet, code: str, enrolment_id: int, versions: dict[str, int], values: list[str]
) -> list[Any]:
    digests = " ".join(digest(value) for value in values)
    return ["pupil", sheet.name, code, enrolment_id, versions, digests]


def _broken() -> AssessmentImportRejected:
    return file_rejected(
        _(
            "Vùng thông tin ẩn “_hocba” của tệp bị thiếu hoặc đã bị sửa, nên không biết tệp "
            "thuộc lớp, môn, thời điểm nào. Hãy tải tệp mẫu mới từ hệ thống rồi nhập lại."
        )
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _broken()
    try:
        return int(value)
    except ValueError:
        raise _broken() from None


def read_hidden(workbook: Any) -> HiddenData:
    """The hidden sheet's records; a missing or inconsistent sheet rejects the file."""
    if HIDDEN_SHEET not in workbook.sheetnames:
        raise file_rejected(
            _(
                "Tệp không phải tệp mẫu tải từ hệ thống (thiếu vùng thông tin “_hocba”). Hãy "
                "tải tệp mẫu của bảng này, điền vào đó rồi nhập lại."
            )
        )
    rows = sheet_rows(workbook[HIDDEN_SHEET], max_rows=MAX_HIDDEN_ROWS, max_col=MAX_HIDDEN_COLUMNS)
    meta = {_text(row[0]): row[1:] for row in rows if _text(row[0]) in META_KEYS}
    if meta.get("format", (None, None))[:2] != (FORMAT_NAME, FORMAT_VERSION):
        raise _broken()
    try:
        identity = Identity(
            kind=_text(meta["kind"][0]),
            school_code=_text(meta["school"][0]),
            school_year=_text(meta["school_year"][0]),
            class_id=_integer(meta["class_id"][0]),
            class_name=_text(meta["class"][0]),
            subject=_text(meta["subject"][0]),
            period=_text(meta["period"][0]),
        )
    except KeyError:
        raise _broken() from None
    if identity.kind not in KINDS:
        raise _broken()
    data = HiddenData(identity)
    try:
        records = json.loads("".join(_text(row[1]) for row in rows if row[0] == "data"))
        if not isinstance(records, list) or not all(isinstance(r, list) for r in records):
            raise _broken()
        data.sheets = _read_sheets(records, identity)
        data.pupils = _read_pupils(records, data.sheets)
    except (ValueError, IndexError, TypeError, AttributeError) as exc:
        raise _broken() from exc
    return data


def _read_sheets(rows: list[list[Any]], identity: Identity) -> list[GridSheet]:
    sheets: dict[str, tuple[str, str]] = {}
    columns: dict[str, list[GridColumn]] = {}
    for row in rows:
        if row[0] == "sheet":
            kind, subject = _text(row[2]), _text(row[3])
            if kind not in (SUBJECT, COMPETENCY, FACTS) or _text(row[1]) in sheets:
                raise _broken()
            sheets[_text(row[1])] = (kind, subject)
        elif row[0] == "column":
            name = _text(row[1])
            address = CellAddress(_text(row[3]), _text(row[4]), _text(row[5]), _text(row[6]))
            column = GridColumn(_integer(row[2]), _text(row[7]), _text(row[8]), address)
            columns.setdefault(name, []).append(column)
    if not sheets or set(columns) - set(sheets):
        raise _broken()
    result = []
    for name, (kind, subject) in sheets.items():
        sheet_columns = tuple(columns.get(name, []))
        for column in sheet_columns:
            _check_column(column, kind, subject, identity)
        indexes = [column.index for column in sheet_columns]
        if indexes != list(range(5, 5 + len(indexes))):
            raise _broken()
        result.append(GridSheet(name, kind, subject, "", (), sheet_columns))
    return result


def _check_column(column: GridColumn, kind: str, subject: str, identity: Identity) -> None:
    """Each column must address a cell of this sheet's kind, subject and period."""
    address = column.address
    expected_period = "" if kind == FACTS else identity.period
    if (
        address.sheet != kind
        or address.field not in ALLOWED_FIELDS[kind]
        or address.period != expected_period
        or (kind == SUBJECT and address.key != subject)
        or (kind != FACTS and address.period not in Period.values)
    ):
        raise _broken()


def _read_pupils(
    rows: list[list[Any]], sheets: list[GridSheet]
) -> dict[tuple[str, str], PupilSnapshot]:
    widths = {sheet.name: len(sheet.columns) for sheet in sheets}
    pupils: dict[tuple[str, str], PupilSnapshot] = {}
    for row in rows:
        if row[0] != "pupil":
            continue
        name, code = _text(row[1]), _text(row[2])
        if name not in widths:
            raise _broken()
        versions = row[4]
        if not isinstance(versions, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in versions.values()
        ):
            raise _broken()
        digests = tuple(_text(row[5]).split())
        if len(digests) != widths[name]:
            raise _broken()
        pupils[(name, code)] = PupilSnapshot(_integer(row[3]), versions, digests)
    return pupils
