"""A record's full facts, read from its canonical document: shown only after the second factor."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from hocba.records.models import YearRecord


@dataclass(frozen=True)
class Assessment:
    label: str
    level: str
    score: int | None = None


@dataclass
class RecordDetails:
    full_name: str
    date_of_birth: dt.date | None
    sex: str
    ministry_code: str
    school: str
    school_year: str
    class_name: str
    result: str
    completion: str
    subjects: list[Assessment] = field(default_factory=list)
    competencies: list[Assessment] = field(default_factory=list)
    qualities: list[Assessment] = field(default_factory=list)


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _levels(items: list[dict[str, Any]]) -> list[Assessment]:
    return [
        Assessment(
            label=item.get("label", ""),
            level=item.get("level_label") or item.get("level") or "",
            score=item.get("score"),
        )
        for item in items
    ]


def record_details(record: YearRecord) -> RecordDetails:
    document = json.loads(record.canonical_json)
    pupil, year_end = document["pupil"], document.get("year_end") or {}
    return RecordDetails(
        full_name=pupil["full_name"],
        date_of_birth=_date(pupil.get("date_of_birth")),
        sex=pupil.get("sex_label") or pupil.get("sex", ""),
        ministry_code=pupil.get("ministry_code", ""),
        school=document["school"]["name"],
        school_year=document["school_year"],
        class_name=document["class"]["name"],
        result=year_end.get("result_label") or year_end.get("result") or "",
        completion=year_end.get("completion") or "",
        subjects=_levels(document.get("subjects") or []),
        competencies=_levels(
            (document.get("general_competencies") or [])
            + (document.get("specific_competencies") or [])
        ),
        qualities=_levels(document.get("qualities") or []),
    )
