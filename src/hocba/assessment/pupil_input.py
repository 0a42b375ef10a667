"""One pupil's end-of-year data as JSON, for ``hocba rules evaluate`` (docs/rules-evaluate.md).

Parsing only: the result is a :class:`~hocba.assessment.yearend.PupilYear` with the rule set and
options to evaluate it under. Subjects and items may be named by code or by their Vietnamese
label (NFC, case-insensitive). Anything malformed raises :class:`InputRejected` with a
Vietnamese message naming what is wrong; nothing is guessed.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.utils.translation import gettext as _

from hocba.assessment import cells
from hocba.assessment.rules import END_OF_YEAR, Item, RuleOptions, RuleSet, load_ruleset
from hocba.assessment.yearend import PupilYear
from hocba.common.errors import DomainError

DEFAULT_SCHEME = "tt27-2020"
TOP_LEVEL_KEYS = (
    "grade",
    "school_year",
    "scheme",
    "subjects",
    "competencies",
    "optional_subjects",
    "options",
)
SUBJECT_KEYS = ("level", "score")
BOOLEAN_OPTIONS = ("allow_zero_score", "optional_subjects_count", "single_score_tin_hoc_cong_nghe")
OPTION_KEYS = (*BOOLEAN_OPTIONS, "specific_competencies_by_grade")

# A school year's stored scheme and settings, or None when the year is unknown.
YearSettings = Callable[[str], tuple[str, RuleOptions] | None]


class InputRejected(DomainError):
    """The JSON does not describe one pupil's year in the documented format."""


@dataclass(frozen=True)
class PupilInput:
    pupil: PupilYear
    rules: RuleSet
    options: RuleOptions
    school_year: str | None  # the school year whose stored settings apply; None: from the input


def _key(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().casefold()


def _names(entries: list[tuple[str, str]]) -> dict[str, str]:
    """Lookup from normalised code or label to code."""
    lookup: dict[str, str] = {}
    for code, label in entries:
        lookup[_key(code)] = code
        lookup[_key(label)] = code
    return lookup


def _object(data: Any, name: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InputRejected(_("“%(name)s” phải là một đối tượng JSON {…}.") % {"name": name})
    return data


def _unknown_keys(data: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = [key for key in data if key not in allowed]
    if unknown:
        raise InputRejected(
            _("Khoá không được hỗ trợ trong %(where)s: %(keys)s (chỉ dùng: %(allowed)s).")
            % {"where": where, "keys": ", ".join(unknown), "allowed": ", ".join(allowed)}
        )


def decode(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputRejected(
            _("Dữ liệu vào không phải JSON hợp lệ: dòng %(line)s, cột %(col)s (%(msg)s).")
            % {"line": error.lineno, "col": error.colno, "msg": error.msg}
        ) from None
    data = _object(data, _("dữ liệu vào"))
    _unknown_keys(data, TOP_LEVEL_KEYS, _("dữ liệu vào"))
    return data


def _grade(data: dict[str, Any]) -> int:
    grade = data.get("grade")
    if isinstance(grade, bool) or not isinstance(grade, int) or not 1 <= grade <= 5:
        raise InputRejected(_("“grade” (khối lớp) phải là số nguyên từ 1 đến 5."))
    return grade


def _options(data: dict[str, Any], rules: RuleSet) -> RuleOptions:
    raw = _object(data.get("options", {}), "options")
    _unknown_keys(raw, OPTION_KEYS, "options")
    flags: dict[str, bool] = {}
    for name in BOOLEAN_OPTIONS:
        if name in raw:
            if not isinstance(raw[name], bool):
                raise InputRejected(
                    _("“options.%(name)s” phải là true hoặc false.") % {"name": name}
                )
            flags[name] = raw[name]
    by_grade = _specific_by_grade(raw.get("specific_competencies_by_grade", {}), rules)
    return RuleOptions(**flags, specific_competencies_by_grade=by_grade)


def _specific_by_grade(raw: Any, rules: RuleSet) -> dict[int, tuple[str, ...]]:
    raw = _object(raw, "options.specific_competencies_by_grade")
    known = _names([(item.code, item.label) for item, _grades in rules.specific_competencies])
    by_grade: dict[int, tuple[str, ...]] = {}
    for grade, names in raw.items():
        if grade not in {"1", "2", "3", "4", "5"} or not isinstance(names, list):
            raise InputRejected(
                _('“options.specific_competencies_by_grade” cần dạng {"1": [mã, …]}, khối 1-5.')
            )
        codes = []
        for name in names:
            if not isinstance(name, str) or _key(name) not in known:
                raise InputRejected(_("Không có năng lực đặc thù “%(n)s”.") % {"n": name})
            codes.append(known[_key(name)])
        by_grade[int(grade)] = tuple(codes)
    return by_grade


def _rules_and_options(
    data: dict[str, Any], year_settings: YearSettings
) -> tuple[RuleSet, RuleOptions, str | None]:
    """The school year's stored scheme and settings when it is known; otherwise the input's."""
    scheme = data.get("scheme", DEFAULT_SCHEME)
    school_year = data.get("school_year")
    for name, value in (("scheme", scheme), ("school_year", school_year)):
        if value is not None and not isinstance(value, str):
            raise InputRejected(_("“%(name)s” phải là một chuỗi.") % {"name": name})
    stored = year_settings(school_year) if school_year else None
    if stored is not None:
        scheme = stored[0]
    try:
        rules = load_ruleset(scheme)
    except LookupError:
        raise InputRejected(_("Không có bộ quy tắc đánh giá “%(s)s”.") % {"s": scheme}) from None
    options = _options(data, rules)  # checked even when the school year's settings win
    if stored is not None:
        return rules, stored[1], school_year
    return rules, options, None


def _resolve_subject(name: str, rules: RuleSet, grade: int) -> str:
    code = _names([(rule.code, rule.label) for rule in rules.subjects]).get(_key(name))
    if code is None:
        raise InputRejected(_("Không có môn học “%(s)s”.") % {"s": name})
    if grade not in rules.subject(code).grades:
        raise InputRejected(
            _("Khối %(g)s không học môn %(s)s.") % {"g": grade, "s": rules.subject(code).label}
        )
    return code


def _resolve_item(name: str, items: list[Item], all_items: list[Item], grade: int) -> str:
    code = _names([(item.code, item.label) for item in items]).get(_key(name))
    if code is not None:
        return code
    if _key(name) in _names([(item.code, item.label) for item in all_items]):
        raise InputRejected(_("Khối %(g)s không đánh giá “%(n)s”.") % {"g": grade, "n": name})
    raise InputRejected(_("Không có phẩm chất hay năng lực “%(n)s”.") % {"n": name})


def _checked(label: str, parse: Callable[[], Any]) -> Any:
    """Run a cell parser; its refusal is reported with the subject or item it belongs to."""
    try:
        return parse()
    except DomainError as error:
        raise InputRejected(f"{label}: {error.message}") from None


def _subject_entry(raw: Any, label: str) -> tuple[Any, Any]:
    """(level, score) from ``"T"`` or ``{"level": "T", "score": 9}``."""
    if isinstance(raw, str) or raw is None:
        return raw, None
    if not isinstance(raw, dict):
        raise InputRejected(
            _('%(s)s: cần mức đạt được ("T") hoặc {"level": …, "score": …}.') % {"s": label}
        )
    _unknown_keys(raw, SUBJECT_KEYS, label)
    return raw.get("level"), raw.get("score")


def _score(raw: Any, label: str, rules: RuleSet, options: RuleOptions) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise InputRejected(_("%(s)s: điểm phải là một số nguyên.") % {"s": label})
    return _checked(label, partial(cells.parse_score, raw, options, rules))


def _subjects(
    raw: Any, rules: RuleSet, options: RuleOptions, grade: int
) -> tuple[dict[str, str], dict[str, int]]:
    levels: dict[str, str] = {}
    scores: dict[str, int] = {}
    seen: set[str] = set()
    for name, entry in _object(raw, "subjects").items():
        code = _resolve_subject(name, rules, grade)
        label = rules.subject(code).label
        if code in seen:
            raise InputRejected(_("Môn %(s)s được ghi hai lần.") % {"s": label})
        seen.add(code)
        raw_level, raw_score = _subject_entry(entry, label)
        if level := _checked(label, partial(cells.parse_subject_level, raw_level)):
            levels[code] = level
        score = _score(raw_score, label, rules, options)
        if score is not None and not rules.is_tested(code, grade, END_OF_YEAR, options):
            raise InputRejected(
                _("%(s)s: khối %(g)s không có bài kiểm tra cuối năm, bỏ điểm này đi.")
                % {"s": label, "g": grade}
            )
        if score is not None:
            scores[code] = score
    return levels, scores


def _competencies(raw: Any, rules: RuleSet, options: RuleOptions, grade: int) -> dict[str, str]:
    items = rules.competency_items(grade, options)
    all_items = [
        *rules.qualities,
        *rules.general_competencies,
        *(item for item, _grades in rules.specific_competencies),
    ]
    labels = {item.code: item.label for item in all_items}
    levels: dict[str, str] = {}
    for name, value in _object(raw, "competencies").items():
        code = _resolve_item(name, items, all_items, grade)
        if code in levels:
            raise InputRejected(_("Mục %(n)s được ghi hai lần.") % {"n": labels[code]})
        if value is not None and not isinstance(value, str):
            raise InputRejected(_("%(n)s: mức đánh giá phải là T, Đ hoặc C.") % {"n": labels[code]})
        if level := _checked(labels[code], partial(cells.parse_competency_level, value)):
            levels[code] = level
    return levels


def _optional_subjects(raw: Any, rules: RuleSet, grade: int) -> set[str]:
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        raise InputRejected(_("“optional_subjects” phải là danh sách tên hoặc mã môn học."))
    return {_resolve_subject(name, rules, grade) for name in raw}


def read_pupil(text: str, *, year_settings: YearSettings) -> PupilInput:
    """Parse the documented JSON format; raise :class:`InputRejected` on anything malformed."""
    data = decode(text)
    grade = _grade(data)
    rules, options, school_year = _rules_and_options(data, year_settings)
    levels, scores = _subjects(data.get("subjects", {}), rules, options, grade)
    competencies = _competencies(data.get("competencies", {}), rules, options, grade)
    listed = _optional_subjects(data.get("optional_subjects", []), rules, grade)
    # An optional subject counts when listed, or when the pupil has a rating or score in it.
    studied = {
        code
        for code in listed | set(levels) | set(scores)
        if rules.subject(code).grades.get(grade) == "optional"
    }
    pupil = PupilYear(grade, levels, scores, competencies, optional_subjects=frozenset(studied))
    return PupilInput(pupil=pupil, rules=rules, options=options, school_year=school_year)
