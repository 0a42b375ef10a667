"""Assessment over the API: marks with their versions, edits, live year-end results, history.

The same services as the grids (STYLE §2): edits go through
:func:`hocba.assessment.services.apply_edits` with ``channel=api``, so locks, permissions,
validation, optimistic concurrency and the per-cell history are the grid's own.
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from hocba.api.errors import SESSION, DomainErrorOut
from hocba.assessment import selectors, services, year_end
from hocba.assessment.cells import CellAddress
from hocba.assessment.history import describe_cell
from hocba.assessment.models import (
    CellChange,
    Channel,
    CompetencyMark,
    Period,
    PupilYearFacts,
    SubjectMark,
    YearEndRecord,
)
from hocba.common.errors import DomainError
from hocba.schools import access
from hocba.schools.models import Enrolment, SchoolClass
from hocba.schools.selectors import class_roster

router = Router(tags=["assessment"])

MAX_EDITS = 2000
HISTORY_LIMIT = 1000
Sheet = Literal["subject", "competency", "facts"]


# --- Schemas ---------------------------------------------------------------------------------


class RosterRow(Schema):
    enrolment: int
    pupil_id: int
    full_name: str


class MarkOut(Schema):
    enrolment: int
    sheet: Sheet
    key: str
    period: str
    level: str
    score: int | None = None
    comment: str
    version: int


class FactsOut(Schema):
    enrolment: int
    height_cm: decimal.Decimal | None
    weight_kg: decimal.Decimal | None
    days_absent_excused: int | None
    days_absent_unexcused: int | None
    version: int


class ClassMarksOut(Schema):
    class_id: int
    grade: int
    school_year: str
    scheme: str
    pupils: list[RosterRow]
    marks: list[MarkOut] = Field(description="Ô chưa có dòng nào được coi là phiên bản 0.")
    facts: list[FactsOut]


class EditIn(Schema):
    enrolment: int
    sheet: Sheet
    key: str = Field(max_length=40)
    period: str = Field("", max_length=3)
    field: str = Field(max_length=20)
    value: str | int | float | None = None
    version: int | None = Field(
        None, ge=0, description="Phiên bản của dòng khi đọc; null: không so"
    )


class EditsIn(Schema):
    edits: list[EditIn] = Field(min_length=1, max_length=MAX_EDITS)


class SavedCell(Schema):
    index: int
    enrolment: int
    sheet: Sheet
    key: str
    period: str
    field: str
    value: str | int | None
    version: int


class SavedOut(Schema):
    saved: list[SavedCell]


class EditErrorOut(Schema):
    index: int
    message: str


class RejectedOut(Schema):
    detail: str
    errors: list[EditErrorOut] = Field(
        default_factory=list, description="Không có khi bị từ chối cả lô (quyền, CSRF)."
    )


class StoredYearEnd(Schema):
    result: str
    completion: str
    award: str
    computed_at: datetime.datetime | None
    exemplary: bool
    exemplary_reason: str
    adhoc_awards: str
    summer_outcome: str
    promotion: str
    is_pending_summer: bool


class YearEndRow(Schema):
    enrolment: int
    pupil_id: int
    full_name: str
    result: str | None
    result_label: str | None
    completion: str | None
    award: str | None
    reasons: list[str]
    missing: list[str]
    stored: StoredYearEnd | None


class HistoryRow(Schema):
    id: int
    at: datetime.datetime
    enrolment: int
    class_name: str
    school_year: str
    sheet: str
    key: str
    period: str
    field: str
    cell: str
    old_value: str
    new_value: str
    actor: str
    channel: str


class HistoryOut(Schema):
    pupil_id: int
    total: int
    changes: list[HistoryRow]


# --- Helpers ---------------------------------------------------------------------------------


def _visible_class(request: HttpRequest, class_id: int) -> SchoolClass:
    classes = access.visible_classes(request.user).select_related("school", "school_year")
    return get_object_or_404(classes, pk=class_id)


def _check_period(period: str | None) -> None:
    if period is not None and period not in Period.values:
        raise DomainError(_("Thời điểm đánh giá không hợp lệ."), field="period")


def _subject_marks(enrolments: list[int], period: str | None, subject: str | None) -> list[MarkOut]:
    marks = SubjectMark.objects.filter(enrolment_id__in=enrolments).order_by("subject", "period")
    marks = marks.filter(period=period) if period else marks
    marks = marks.filter(subject=subject) if subject else marks
    return [
        MarkOut(
            enrolment=m.enrolment_id,
            sheet="subject",
            key=m.subject,
            period=m.period,
            level=m.level,
            score=m.score,
            comment=m.comment,
            version=m.version,
        )
        for m in marks
    ]


def _competency_marks(enrolments: list[int], period: str | None, item: str | None) -> list[MarkOut]:
    marks = CompetencyMark.objects.filter(enrolment_id__in=enrolments).order_by("item", "period")
    marks = marks.filter(period=period) if period else marks
    marks = marks.filter(item=item) if item else marks
    return [
        MarkOut(
            enrolment=m.enrolment_id,
            sheet="competency",
            key=m.item,
            period=m.period,
            level=m.level,
            comment=m.comment,
            version=m.version,
        )
        for m in marks
    ]


def _facts(enrolments: list[int]) -> list[FactsOut]:
    rows = PupilYearFacts.objects.filter(enrolment_id__in=enrolments)
    return [
        FactsOut(
            enrolment=f.enrolment_id,
            height_cm=f.height_cm,
            weight_kg=f.weight_kg,
            days_absent_excused=f.days_absent_excused,
            days_absent_unexcused=f.days_absent_unexcused,
            version=f.version,
        )
        for f in rows
    ]


def _json_value(value: object) -> str | int | None:
    if value is None or isinstance(value, int | str):
        return value
    return str(value)  # decimals of height and weight


def _stored(record: YearEndRecord | None) -> StoredYearEnd | None:
    if record is None:
        return None
    return StoredYearEnd(
        result=record.result,
        completion=record.completion,
        award=record.award,
        computed_at=record.computed_at,
        exemplary=record.exemplary,
        exemplary_reason=record.exemplary_reason,
        adhoc_awards=record.adhoc_awards,
        summer_outcome=record.summer_outcome,
        promotion=record.promotion,
        is_pending_summer=record.is_pending_summer,
    )


# --- Endpoints -------------------------------------------------------------------------------


@router.get(
    "/classes/{class_id}/marks", response={200: ClassMarksOut, **SESSION, 400: DomainErrorOut}
)
def class_marks(
    request: HttpRequest,
    class_id: int,
    period: str | None = None,
    subject: str | None = None,
    item: str | None = None,
    sheet: Sheet | None = None,
) -> ClassMarksOut:
    """A class's marks with their row versions; filter by period, subject, item or sheet."""
    school_class = _visible_class(request, class_id)
    _check_period(period)
    roster = class_roster(school_class)
    ids = [e.pk for e in roster]
    marks: list[MarkOut] = []
    if sheet in (None, "subject") and not item:
        marks += _subject_marks(ids, period, subject)
    if sheet in (None, "competency") and not subject:
        marks += _competency_marks(ids, period, item)
    wants_facts = sheet in (None, "facts") and not (subject or item or period)
    return ClassMarksOut(
        class_id=school_class.pk,
        grade=school_class.grade,
        school_year=school_class.school_year.name,
        scheme=selectors.rules_for(school_class.school_year).version,
        pupils=[
            RosterRow(enrolment=e.pk, pupil_id=e.pupil_id, full_name=e.pupil.full_name)
            for e in roster
        ],
        marks=marks,
        facts=_facts(ids) if wants_facts else [],
    )


def _cell_edit(edit: EditIn) -> services.CellEdit:
    address = CellAddress(sheet=edit.sheet, key=edit.key, period=edit.period, field=edit.field)
    return services.CellEdit(edit.enrolment, address, edit.value, edit.version)


@router.post(
    "/classes/{class_id}/marks",
    response={**SESSION, 200: SavedOut, 400: RejectedOut, 403: RejectedOut, 409: RejectedOut},
)
def save_marks(request: HttpRequest, class_id: int, payload: EditsIn) -> Status[Any]:
    """Store a batch of cell edits, all or nothing; each names the row version it was made on."""
    school_class = _visible_class(request, class_id)
    edits = [_cell_edit(edit) for edit in payload.edits]
    try:
        applied = services.apply_edits(
            actor=request.user, school_class=school_class, edits=edits, channel=Channel.API
        )
    except services.EditsRejected as rejected:
        errors = [EditErrorOut(index=e.index, message=e.message) for e in rejected.errors]
        refused = any(e.is_permission_refusal for e in rejected.errors)
        conflict = any(e.is_conflict for e in rejected.errors)
        status = 403 if refused else 409 if conflict else 400
        return Status(status, RejectedOut(detail=rejected.message, errors=errors))
    saved = [
        SavedCell(
            index=index,
            enrolment=cell.enrolment_id,
            sheet=cell.address.sheet,  # type: ignore[arg-type]
            key=cell.address.key,
            period=cell.address.period,
            field=cell.address.field,
            value=_json_value(cell.value),
            version=cell.version,
        )
        for index, cell in enumerate(applied)
    ]
    return Status(200, SavedOut(saved=saved))


@router.get("/classes/{class_id}/year-end", response={200: list[YearEndRow], **SESSION})
def class_year_end(request: HttpRequest, class_id: int) -> list[YearEndRow]:
    """Live year-end results with their reasons, and what is stored (human decisions)."""
    school_class = _visible_class(request, class_id)
    evaluations = year_end.evaluate_class(school_class)
    roster = class_roster(school_class)
    records = {
        r.enrolment_id: r
        for r in YearEndRecord.objects.filter(enrolment__in=[e.pk for e in roster])
    }
    return [
        YearEndRow(
            enrolment=e.pk,
            pupil_id=e.pupil_id,
            full_name=e.pupil.full_name,
            **evaluations[e.pk].as_dict(),  # type: ignore[arg-type]
            stored=_stored(records.get(e.pk)),
        )
        for e in roster
    ]


def _pupil_enrolments(request: HttpRequest, pupil_id: int) -> QuerySet[Enrolment]:
    pupil = get_object_or_404(access.visible_pupils(request.user), pk=pupil_id)
    return Enrolment.objects.filter(pupil=pupil).select_related("school_class__school_year")


@router.get("/pupils/{pupil_id}/history", response={200: HistoryOut, **SESSION})
def pupil_history(request: HttpRequest, pupil_id: int, limit: int = 200) -> HistoryOut:
    """Every cell change of the pupil's years, newest first: who, when, old and new, channel."""
    enrolments = {e.pk: e for e in _pupil_enrolments(request, pupil_id)}
    changes = CellChange.objects.filter(enrolment_id__in=enrolments).order_by("-at", "-id")
    rules = {pk: selectors.rules_for(e.school_class.school_year) for pk, e in enrolments.items()}
    rows = [
        HistoryRow(
            id=c.pk,
            at=c.at,
            enrolment=c.enrolment_id,
            class_name=enrolments[c.enrolment_id].school_class.name,
            school_year=enrolments[c.enrolment_id].school_class.school_year.name,
            sheet=c.sheet,
            key=c.key,
            period=c.period,
            field=c.field,
            cell=describe_cell(c, rules[c.enrolment_id]),
            old_value=c.old_value,
            new_value=c.new_value,
            actor=c.actor_label,
            channel=c.channel,
        )
        for c in changes[: max(1, min(limit, HISTORY_LIMIT))]
    ]
    return HistoryOut(pupil_id=pupil_id, total=changes.count(), changes=rows)
