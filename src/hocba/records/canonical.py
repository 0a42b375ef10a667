"""The canonical year-record document (``hocba.year-record/1``) built from live data.

The shape is ``schemas/example-year-record.json`` and the JSON Schema next to it; see
``docs/year-record-format.md``. Rules that keep the SHA-256 stable:

* text is NFC-normalised here, whatever was stored;
* no floats anywhere: decimals are strings with their fixed places ("132.5"), counts are ints
  (RFC 8785 serialises numbers as ECMAScript doubles, so a float is a trap);
* dates are ISO ``yyyy-mm-dd``; the compilation time is ISO with the Việt Nam offset (+07:00);
* labels are Vietnamese constants, never ``gettext``: the document is in the record's language,
  not the clerk's.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import unicodedata
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import rfc8785
from django.utils.translation import gettext as _

from hocba.assessment import selectors as assessment_selectors
from hocba.assessment.models import CompetencyMark, Period, SubjectMark, YearEndRecord
from hocba.assessment.rules import END_OF_YEAR, Item, RuleOptions, RuleSet
from hocba.assessment.year_end import evaluate_enrolment
from hocba.assessment.yearend import (
    CHT,
    COMPETENCY_LEVEL_LABELS,
    RESULT_LABELS,
    SUBJECT_LEVEL_LABELS,
    Evaluation,
    completion_text,
)
from hocba.common.errors import DomainError
from hocba.records.models import SCHEMA_VERSION, PriorStudy
from hocba.schools.models import Enrolment, Role, School, SchoolYear, SchoolYearProfile, Staff

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
SEX_LABELS = {"nam": "Nam", "nu": "Nữ"}
EXEMPLARY_AWARD = "Học sinh Tiêu biểu hoàn thành tốt trong học tập và rèn luyện"
SUMMER_LABELS = {
    "completed": "Hoàn thành sau đánh giá bổ sung",
    "not_completed": "Chưa hoàn thành sau đánh giá bổ sung",
}
PRINCIPAL_TITLE = "HIỆU TRƯỞNG"


class NotComputable(DomainError):
    """The year-end result cannot be computed: fields are missing (listed in ``missing``)."""

    def __init__(self, message: str, missing: list[str]) -> None:
        super().__init__(message)
        self.missing = missing


def text(value: object) -> str:
    """NFC, trimmed, Windows line ends folded; inner line breaks of comments are kept."""
    if value is None:
        return ""
    normalised = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(" ".join(line.split()) for line in normalised.strip().split("\n"))


def decimal_text(value: decimal.Decimal | None, places: int = 1) -> str | None:
    if value is None:
        return None
    return format(decimal.Decimal(value).quantize(decimal.Decimal(1).scaleb(-places)), "f")


def local_iso(moment: datetime.datetime) -> str:
    return moment.astimezone(VIETNAM).isoformat(timespec="seconds")


# --- School, places, people --------------------------------------------------------------------


def _profile(school: School, school_year: SchoolYear) -> SchoolYearProfile | None:
    return SchoolYearProfile.objects.filter(school=school, school_year=school_year).first()


def _fallback_address_levels(school: School) -> list[dict[str, str]]:
    levels = []
    if school.district is not None:
        levels.append({"label": "Huyện (Quận, Thị xã, Thành phố)", "value": school.district.name})
    levels.append({"label": "Tỉnh (Thành phố)", "value": school.province.name})
    return levels


def school_part(school: School, school_year: SchoolYear) -> dict[str, Any]:
    profile = _profile(school, school_year)
    district = school.district.name if school.district is not None else ""
    levels = profile.address_levels if profile and profile.address_levels else None
    place = profile.place_name if profile and profile.place_name else ""
    return {
        "code": text(school.code),
        "name": text(profile.school_name if profile else school.name),
        "province": text(school.province.name),
        "district": text(district),
        "place_name": text(place or district or school.province.name),
        "address_levels": [
            {"label": text(level.get("label")), "value": text(level.get("value"))}
            for level in (levels or _fallback_address_levels(school))
        ],
    }


def pupil_part(enrolment: Enrolment) -> dict[str, Any]:
    pupil = enrolment.pupil
    return {
        "ministry_code": text(pupil.ministry_code),
        "personal_id": text(pupil.personal_id),
        "family_name": text(pupil.family_name),
        "middle_name": text(pupil.middle_name),
        "given_name": text(pupil.given_name),
        "full_name": text(pupil.full_name),
        "sex": pupil.sex,
        "sex_label": SEX_LABELS.get(pupil.sex, ""),
        "date_of_birth": pupil.date_of_birth.isoformat(),
        "ethnicity": text(pupil.ethnicity),
        "nationality": text(pupil.nationality),
        "birthplace": text(pupil.birthplace),
        "hometown": text(pupil.hometown),
        "address": text(pupil.address),
        "father_name": text(pupil.father_name),
        "mother_name": text(pupil.mother_name),
        "guardian_name": text(pupil.guardian_name),
    }


def study_history(enrolment: Enrolment) -> list[dict[str, Any]]:
    """Every enrolment of the pupil up to this record's year, oldest first (transfers included).

    Later years are left out so recompiling an old year does not change with the pupil's future.
    """
    up_to = enrolment.school_year.start_year
    rows = (
        Enrolment.objects.filter(pupil_id=enrolment.pupil_id, school_year__start_year__lte=up_to)
        .select_related("school_year", "school_class__school")
        .order_by("school_year__start_year", "joined_on", "pk")
    )
    profiles = {
        (p.school_id, p.school_year_id): p.school_name
        for p in SchoolYearProfile.objects.filter(
            school_id__in={row.school_class.school_id for row in rows}
        )
    }
    lines = [
        (
            row.school_year.start_year,
            row.joined_on,
            {
                "school_year": row.school_year.name,
                "class_name": text(row.school_class.name),
                "school_name": text(
                    profiles.get((row.school_class.school_id, row.school_year_id))
                    or row.school_class.school.name
                ),
                "register_number": text(row.register_number),
                "joined_on": row.joined_on.isoformat(),
            },
        )
        for row in rows
    ]
    # Years at schools outside this deployment, brought by a transfer package (issue 9 §1).
    lines += [
        (
            prior.start_year,
            prior.joined_on,
            {
                "school_year": prior.school_year,
                "class_name": text(prior.class_name),
                "school_name": text(prior.school_name),
                "register_number": text(prior.register_number),
                "joined_on": prior.joined_on.isoformat(),
            },
        )
        for prior in PriorStudy.objects.filter(pupil_id=enrolment.pupil_id, start_year__lte=up_to)
    ]
    return [line for _year, _joined, line in sorted(lines, key=lambda item: item[:2])]


def principal_name(school: School) -> str:
    principal = (
        Staff.objects.filter(school=school, roles__role=Role.PRINCIPAL, user__is_active=True)
        .order_by("pk")
        .first()
    )
    return text(principal.full_name) if principal else ""


# --- Assessment --------------------------------------------------------------------------------


def facts_part(enrolment: Enrolment) -> dict[str, Any]:
    facts = getattr(enrolment, "facts", None)
    return {
        "height_cm": decimal_text(facts.height_cm) if facts else None,
        "weight_kg": decimal_text(facts.weight_kg) if facts else None,
        "days_absent_excused": facts.days_absent_excused if facts else None,
        "days_absent_unexcused": facts.days_absent_unexcused if facts else None,
    }


def subjects_part(enrolment: Enrolment, rules: RuleSet, options: RuleOptions) -> list[dict]:
    school_class = enrolment.school_class
    marks = {
        mark.subject: mark
        for mark in SubjectMark.objects.filter(enrolment=enrolment, period=Period.CN)
    }
    rows = []
    for code in assessment_selectors.class_subjects(school_class, rules):
        mark = marks.get(code)
        level = mark.level if mark else ""
        tested = rules.is_tested(code, school_class.grade, END_OF_YEAR, options)
        rows.append(
            {
                "code": code,
                # The foreign language is not stored yet; the label stays the rule set's.
                "label": text(rules.subject(code).label),
                "level": level,
                "level_label": SUBJECT_LEVEL_LABELS.get(level, ""),
                "tested": tested,
                "score": mark.score if mark and tested else None,
                "comment": text(mark.comment) if mark else "",
            }
        )
    return rows


def _competency_rows(items: list[Item], marks: dict[str, CompetencyMark]) -> list[dict]:
    rows = []
    for item in items:
        mark = marks.get(item.code)
        level = mark.level if mark else ""
        rows.append(
            {
                "code": item.code,
                "label": text(item.label),
                "level": level,
                "level_label": COMPETENCY_LEVEL_LABELS.get(level, ""),
                "comment": text(mark.comment) if mark else "",
            }
        )
    return rows


def competencies_part(
    enrolment: Enrolment, rules: RuleSet, options: RuleOptions
) -> dict[str, list[dict]]:
    marks = {
        mark.item: mark
        for mark in CompetencyMark.objects.filter(enrolment=enrolment, period=Period.CN)
    }
    rated = {item.code for item in rules.competency_items(enrolment.school_class.grade, options)}
    specific = [item for item, _grades in rules.specific_competencies if item.code in rated]
    return {
        "qualities": _competency_rows(list(rules.qualities), marks),
        "general_competencies": _competency_rows(list(rules.general_competencies), marks),
        "specific_competencies": _competency_rows(specific, marks),
    }


def year_end_part(enrolment: Enrolment, evaluation: Evaluation) -> dict[str, Any]:
    """The computed result plus the stored human decisions (DOMAIN §2.4-2.5)."""
    result = evaluation.result or ""
    stored = YearEndRecord.objects.filter(enrolment=enrolment).first()
    exemplary = bool(stored and stored.exemplary)
    adhoc = text(stored.adhoc_awards) if stored else ""
    summer_outcome = stored.summer_outcome if stored and result == CHT else ""
    completion = evaluation.completion or ""
    if result == CHT and summer_outcome == "completed":
        completion = completion_text("HT", enrolment.school_class.grade) or ""
    awards = [evaluation.award] if evaluation.award else []
    awards += [EXEMPLARY_AWARD] if exemplary else []
    awards += [adhoc] if adhoc else []
    return {
        "result": result,
        "result_label": RESULT_LABELS.get(result, ""),
        "completion": completion,
        "awards": awards,
        "exemplary": exemplary,
        "exemplary_reason": text(stored.exemplary_reason) if exemplary and stored else "",
        "adhoc_awards": adhoc,
        "summer": (
            {
                "outcome": summer_outcome,
                "outcome_label": SUMMER_LABELS[summer_outcome],
                "note": text(stored.summer_note) if stored else "",
            }
            if summer_outcome
            else None
        ),
        "promotion": (stored.promotion or None) if stored and result == CHT else None,
    }


def stored_result_mismatch(enrolment: Enrolment, evaluation: Evaluation) -> bool:
    """The stored year-end row was computed from other marks: its decisions may be stale."""
    stored = YearEndRecord.objects.filter(enrolment=enrolment).first()
    return stored is not None and stored.result != (evaluation.result or "")


# --- The document ------------------------------------------------------------------------------


def build_document(
    enrolment: Enrolment,
    *,
    record_id: uuid.UUID | str,
    version: int,
    short_code: str,
    compiled_at: datetime.datetime,
    verify_base_url: str,
    evaluation: Evaluation | None = None,
    corrects: dict[str, Any] | None = None,
    access_code: str = "",
) -> dict[str, Any]:
    """One pupil's year as the canonical document; raises :class:`NotComputable`.

    ``corrects`` (``version``, ``short_code``, ``reason``) marks a correction of an issued
    version: the form prints it, so a paper copy says what it replaces."""
    evaluation = evaluation or evaluate_enrolment(enrolment)
    if not evaluation.is_computable:
        raise NotComputable(_("Chưa tính được kết quả cuối năm."), evaluation.missing)
    school_class = enrolment.school_class
    school_year = enrolment.school_year
    rules = assessment_selectors.rules_for(school_year)
    options = assessment_selectors.options_for(school_year)
    school = school_part(school_class.school, school_year)
    homeroom = school_class.homeroom_teacher
    return {
        "schema": SCHEMA_VERSION,
        "record": {
            "id": str(record_id),
            "version": version,
            "short_code": short_code,
            **({"access_code": access_code} if access_code else {}),
            "compiled_at": local_iso(compiled_at),
            "verify_url": f"{verify_base_url.rstrip('/')}/xac-thuc/{short_code}",
            **({"corrects": corrects} if corrects else {}),
        },
        "rule_set": rules.version,
        "school_year": school_year.name,
        "pupil": pupil_part(enrolment),
        "school": school,
        "class": {"name": text(school_class.name), "grade": school_class.grade},
        "study_history": study_history(enrolment),
        "facts": facts_part(enrolment),
        "subjects": subjects_part(enrolment, rules, options),
        **competencies_part(enrolment, rules, options),
        "year_end": year_end_part(enrolment, evaluation),
        "signing": {
            "place": school["place_name"],
            "date": compiled_at.astimezone(VIETNAM).date().isoformat(),
            "principal_title": PRINCIPAL_TITLE,
            "principal_name": principal_name(school_class.school),
            "homeroom_teacher_name": text(homeroom.full_name) if homeroom else "",
        },
    }


def canonical_bytes(document: dict[str, Any]) -> bytes:
    """RFC 8785 (JCS): sorted keys, no whitespace, UTF-8, ECMAScript number forms."""
    return rfc8785.dumps(document)


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
