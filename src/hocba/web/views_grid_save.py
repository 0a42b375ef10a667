"""The grids' one JSON endpoint: POST /lop/<class_id>/o/ with a batch of cell edits.

Request: ``{"edits": [{"enrolment", "sheet", "key", "period", "field", "value", "version"}]}``.
Answers: 200 ``{"saved": [...], "year_end": {...}}``; 400 ``{"errors": [{"index", "message",
"conflict"}]}`` (nothing stored; ``conflict`` marks a row someone else changed or created
meanwhile); 401 when the session has expired; 403 when the user may not enter one of the cells.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hocba.assessment import year_end
from hocba.assessment.cells import CellAddress
from hocba.assessment.models import Channel, CompetencyMark, PupilYearFacts, SubjectMark
from hocba.assessment.services import CellEdit, EditsRejected, apply_edits
from hocba.common.errors import DomainError, PermissionRefused
from hocba.schools import access
from hocba.schools.models import SchoolClass
from hocba.web.grid_data import END_OF_YEAR, display_value

MAX_EDITS = 2000  # a 35-pupil class × 15 items × 2 fields pasted at once, with room to spare
RowKey = tuple[int, str, str, str]


class BadPayload(ValueError):
    pass


def _errors(status: int, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"errors": [{"index": None, "message": message}], **extra}, status=status)


def _row_key(enrolment_id: int, address: CellAddress) -> RowKey:
    """Which versioned row a cell belongs to: the facts of a pupil are one row."""
    if address.sheet == "facts":
        return (enrolment_id, "facts", "", "")
    return (enrolment_id, address.sheet, address.key, address.period)


def _text(entry: dict[str, Any], name: str) -> str:
    value = entry.get(name, "")
    if not isinstance(value, str) or len(value) > 40:
        raise BadPayload(name)
    return value


def _parse_entry(entry: object) -> tuple[int, CellAddress, object, int]:
    if not isinstance(entry, dict):
        raise BadPayload("edit")
    enrolment, version, value = entry.get("enrolment"), entry.get("version"), entry.get("value")
    if not isinstance(enrolment, int) or isinstance(enrolment, bool):
        raise BadPayload("enrolment")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise BadPayload("version")
    if value is not None and not isinstance(value, str | int | float):
        raise BadPayload("value")
    fields = (_text(entry, name) for name in ("sheet", "key", "period", "field"))
    return enrolment, CellAddress(*fields), value, version


def parse_edits(body: bytes) -> tuple[list[CellEdit], list[int]]:
    """The batch as service edits, plus the version the page sent for each.

    Several edits of one row in one batch (a pasted "T, 9, comment") are made against the same
    version, so only the first of them carries it: the rest run after it in the same transaction,
    on the row it locked. (The header facts are one row whatever the field.)
    """
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadPayload("json") from error
    raw = payload.get("edits") if isinstance(payload, dict) else None
    if not isinstance(raw, list) or not raw or len(raw) > MAX_EDITS:
        raise BadPayload("edits")
    edits, versions = [], []
    checked: dict[RowKey, int] = {}
    for entry in raw:
        enrolment, address, value, version = _parse_entry(entry)
        row = _row_key(enrolment, address)
        expected = None if checked.get(row) == version else version
        checked.setdefault(row, version)
        edits.append(CellEdit(enrolment, address, value, expected))
        versions.append(version)
    return edits, versions


def _current_version(edit: CellEdit) -> int:
    address = edit.address
    rows: Any
    if address.sheet == "facts":
        rows = PupilYearFacts.objects.filter(enrolment_id=edit.enrolment_id)
    elif address.sheet == "subject":
        rows = SubjectMark.objects.filter(subject=address.key, period=address.period)
    else:
        rows = CompetencyMark.objects.filter(item=address.key, period=address.period)
    version = rows.filter(enrolment_id=edit.enrolment_id).values_list("version", flat=True).first()
    return int(version or 0)


def _rejected(rejected: EditsRejected, versions: list[int]) -> JsonResponse:
    """400 with each refused cell; 403 when the user may not enter some of the cells at all."""
    refusals = [e for e in rejected.errors if e.is_permission_refusal]
    if refusals:
        errors = [{"index": e.index, "message": e.message} for e in refusals]
        return JsonResponse({"message": rejected.message, "errors": errors}, status=403)
    errors = []
    for error in rejected.errors:
        known_row = error.edit.address.sheet in ("facts", "subject", "competency")
        conflict = error.is_conflict or (
            known_row and _current_version(error.edit) != versions[error.index]
        )
        errors.append({"index": error.index, "message": error.message, "conflict": conflict})
    return JsonResponse({"message": rejected.message, "errors": errors}, status=400)


def _year_end(school_class: SchoolClass, edits: list[CellEdit]) -> dict[str, Any]:
    """Live year-end results of the pupils an end-of-year mark changed for."""
    affected = {
        edit.enrolment_id
        for edit in edits
        if edit.address.period == END_OF_YEAR and edit.address.sheet in ("subject", "competency")
    }
    if not affected:
        return {}
    results = {}
    for enrolment_id, evaluation in year_end.evaluate_class(school_class).items():
        if enrolment_id in affected:
            shown = evaluation.result_label or _("Chưa đủ dữ liệu")
            results[str(enrolment_id)] = {**evaluation.as_dict(), "text": shown}
    return results


@require_POST
def save_cells(request: HttpRequest, class_id: int) -> JsonResponse:
    if not request.user.is_authenticated:
        return _errors(401, _("Phiên đăng nhập đã hết hạn, hãy đăng nhập lại."))
    school_class = get_object_or_404(
        SchoolClass.objects.select_related("school", "school_year"), pk=class_id
    )
    if not access.can_view(request.user, school_class):
        return _errors(403, _("Bạn không có quyền với lớp này."))
    try:
        edits, versions = parse_edits(request.body)
    except BadPayload:
        return _errors(400, _("Dữ liệu gửi lên không hợp lệ."))
    try:
        applied = apply_edits(
            actor=request.user, school_class=school_class, edits=edits, channel=Channel.GRID
        )
    except EditsRejected as rejected:
        return _rejected(rejected, versions)
    except PermissionRefused as error:
        return _errors(403, error.message)
    except DomainError as error:
        return _errors(400, error.message)
    saved = [
        {
            "enrolment": item.enrolment_id,
            "sheet": item.address.sheet,
            "key": item.address.key,
            "period": item.address.period,
            "field": item.address.field,
            "value": display_value(item.value),
            "version": item.version,
        }
        for item in applied
    ]
    return JsonResponse({"saved": saved, "year_end": _year_end(school_class, edits)})
