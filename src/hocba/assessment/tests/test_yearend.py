"""The year-end rule (DOMAIN §2.3-2.5) on the real Circular 27 rule set, grade by grade.

Boundary tests walk the table of DOMAIN §2.3 (scores 4/5, 6/7, 8/9; one H, one Đ, one C);
property tests check that the result never improves when one rating or score gets worse, that
the engine is deterministic and agrees with a direct reading of the table, and that a missing
field is always named.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hocba.assessment import cells
from hocba.assessment.rules import END_OF_YEAR, RuleOptions, load_ruleset
from hocba.assessment.yearend import (
    CHT,
    EXCELLENT_AWARD,
    HT,
    HTT,
    HTXS,
    RESULT_LABELS,
    PupilYear,
    counted_subjects,
    evaluate,
)
from hocba.common.errors import DomainError

RULES = load_ruleset("tt27-2020")
DEFAULTS = RuleOptions()
GRADES = (1, 2, 3, 4, 5)
RANK = {CHT: 0, HT: 1, HTT: 2, HTXS: 3}
SUBJECT_WORSE = {"T": ("H", "C"), "H": ("C",), "C": ()}
COMPETENCY_WORSE = {"T": ("Đ", "C"), "Đ": ("C",), "C": ()}


# --- Helpers ---------------------------------------------------------------------------------


def studied_subjects(grade: int, optional: Iterable[str] = ()) -> list[str]:
    """Required subjects of the grade plus the optional ones the pupil studies, in form order."""
    chosen = set(optional)
    return [
        rule.code
        for rule in RULES.subjects_for(grade)
        if rule.grades[grade] == "required" or rule.code in chosen
    ]


def scored_subjects(grade: int, options: RuleOptions = DEFAULTS) -> list[str]:
    return [
        code
        for code in studied_subjects(grade)
        if RULES.is_tested(code, grade, END_OF_YEAR, options)
    ]


def complete_year(
    grade: int,
    options: RuleOptions = DEFAULTS,
    *,
    optional: Iterable[str] = (),
    level: str = "T",
    score: int = 10,
    competency: str = "T",
) -> PupilYear:
    """A pupil with every end-of-year field of the grade filled in (all T and 10 by default)."""
    subjects = studied_subjects(grade, optional)
    return PupilYear(
        grade=grade,
        subject_levels=dict.fromkeys(subjects, level),
        scores={c: score for c in subjects if RULES.is_tested(c, grade, END_OF_YEAR, options)},
        competency_levels=dict.fromkeys(
            (item.code for item in RULES.competency_items(grade, options)), competency
        ),
        optional_subjects=frozenset(optional),
    )


def changed(
    pupil: PupilYear,
    *,
    levels: dict[str, str] | None = None,
    scores: dict[str, int] | None = None,
    competencies: dict[str, str] | None = None,
    without: tuple[str, str] | None = None,
) -> PupilYear:
    """A copy with fields replaced, or one field (``("levels"|"scores"|"items", key)``) removed."""
    subject_levels = {**pupil.subject_levels, **(levels or {})}
    all_scores = {**pupil.scores, **(scores or {})}
    competency_levels = {**pupil.competency_levels, **(competencies or {})}
    if without is not None:
        kind, key = without
        target = {"levels": subject_levels, "scores": all_scores, "items": competency_levels}
        del target[kind][key]
    return dataclasses.replace(
        pupil,
        subject_levels=subject_levels,
        scores=all_scores,
        competency_levels=competency_levels,
    )


def label(code: str) -> str:
    return RULES.label(code)


def completion_for(grade: int) -> str:
    return (
        "Hoàn thành chương trình tiểu học" if grade == 5 else f"Hoàn thành chương trình lớp {grade}"
    )


TESTED_PAIRS = [(grade, code) for grade in GRADES for code in scored_subjects(grade)]
SUBJECT_PAIRS = [(grade, code) for grade in GRADES for code in studied_subjects(grade)]
ITEM_PAIRS = [
    (grade, item.code) for grade in GRADES for item in RULES.competency_items(grade, DEFAULTS)
]


# --- The complete, perfect pupil ---------------------------------------------------------------


@pytest.mark.parametrize("grade", GRADES)
def test_all_t_and_10_is_htxs_with_completion_and_award(grade: int) -> None:
    evaluation = evaluate(complete_year(grade), RULES)
    assert evaluation.result == HTXS
    assert evaluation.result_label == "Hoàn thành xuất sắc"
    assert evaluation.completion == completion_for(grade)
    assert evaluation.award == EXCELLENT_AWARD == "Học sinh Xuất sắc"
    assert evaluation.reasons == []
    assert evaluation.missing == []
    assert evaluation.is_computable


def test_the_helper_fills_the_expected_fields() -> None:
    grade4 = complete_year(4)
    assert len(grade4.subject_levels) == 12
    assert set(grade4.scores) == {
        "tieng_viet",
        "toan",
        "ngoai_ngu_1",
        "lich_su_dia_li",
        "khoa_hoc",
        "tin_hoc",
        "cong_nghe",
    }
    assert len(grade4.competency_levels) == 15
    grade1 = complete_year(1)
    assert set(grade1.scores) == {"tieng_viet", "toan"}
    assert len(grade1.competency_levels) == 13


# --- Scores at the boundaries 4/5, 6/7, 8/9 ----------------------------------------------------

SCORE_TABLE = [
    (10, HTXS),
    (9, HTXS),
    (8, HTT),
    (7, HTT),
    (6, HT),
    (5, HT),
    (4, CHT),
    (1, CHT),
]


@pytest.mark.parametrize(("score", "expected"), SCORE_TABLE)
@pytest.mark.parametrize(("grade", "code"), TESTED_PAIRS)
def test_one_score_decides_the_result(grade: int, code: str, score: int, expected: str) -> None:
    evaluation = evaluate(changed(complete_year(grade), scores={code: score}), RULES)
    assert evaluation.result == expected
    assert evaluation.missing == []
    assert evaluation.award == (EXCELLENT_AWARD if expected == HTXS else None)
    assert evaluation.completion == (None if expected == CHT else completion_for(grade))


@pytest.mark.parametrize(
    ("score", "reason"),
    [(8, "điểm 8 < 9"), (6, "điểm 6 < 7"), (4, "điểm 4 < 5")],
)
@pytest.mark.parametrize(("grade", "code"), TESTED_PAIRS)
def test_a_low_score_is_named_in_the_reasons(
    grade: int, code: str, score: int, reason: str
) -> None:
    evaluation = evaluate(changed(complete_year(grade), scores={code: score}), RULES)
    assert any(line.endswith(f"{label(code)}: {reason}") for line in evaluation.reasons), (
        evaluation.reasons
    )
    assert len(evaluation.reasons) == 1


def test_the_reason_reads_like_the_example_in_the_issue() -> None:
    evaluation = evaluate(changed(complete_year(4), scores={"toan": 6}), RULES)
    assert evaluation.result == HT
    assert evaluation.reasons == ["Chưa đạt Hoàn thành tốt: Toán: điểm 6 < 7"]


def test_several_shortfalls_are_all_listed() -> None:
    pupil = changed(complete_year(5), scores={"toan": 6, "khoa_hoc": 8}, levels={"dao_duc": "H"})
    evaluation = evaluate(pupil, RULES)
    assert evaluation.result == HT
    assert evaluation.reasons == [
        "Chưa đạt Hoàn thành tốt: Toán: điểm 6 < 7",
        "Chưa đạt Hoàn thành tốt: Đạo đức: mức H (Hoàn thành)",
    ]


# --- One H, one Đ, one C -------------------------------------------------------------------------


@pytest.mark.parametrize(("grade", "code"), SUBJECT_PAIRS)
def test_one_h_among_t_is_ht(grade: int, code: str) -> None:
    evaluation = evaluate(changed(complete_year(grade), levels={code: "H"}), RULES)
    assert evaluation.result == HT
    assert evaluation.completion == completion_for(grade)
    assert evaluation.award is None
    assert evaluation.reasons == [f"Chưa đạt Hoàn thành tốt: {label(code)}: mức H (Hoàn thành)"]


@pytest.mark.parametrize(("grade", "code"), ITEM_PAIRS)
def test_one_d_among_t_is_ht(grade: int, code: str) -> None:
    evaluation = evaluate(changed(complete_year(grade), competencies={code: "Đ"}), RULES)
    assert evaluation.result == HT
    assert evaluation.award is None
    assert evaluation.reasons == [f"Chưa đạt Hoàn thành tốt: {RULES.label(code)}: mức Đ (Đạt)"]


@pytest.mark.parametrize(("grade", "code"), SUBJECT_PAIRS)
def test_one_c_in_a_subject_is_cht(grade: int, code: str) -> None:
    evaluation = evaluate(changed(complete_year(grade), levels={code: "C"}), RULES)
    assert evaluation.result == CHT
    assert evaluation.result_label == "Chưa hoàn thành"
    assert evaluation.completion is None
    assert evaluation.award is None
    assert evaluation.reasons == [f"Chưa đạt Hoàn thành: {label(code)}: mức C (Chưa hoàn thành)"]


@pytest.mark.parametrize(("grade", "code"), ITEM_PAIRS)
def test_one_c_in_a_quality_or_competency_is_cht(grade: int, code: str) -> None:
    evaluation = evaluate(changed(complete_year(grade), competencies={code: "C"}), RULES)
    assert evaluation.result == CHT
    assert evaluation.completion is None
    assert evaluation.reasons == [f"Chưa đạt Hoàn thành: {RULES.label(code)}: mức C (Cần cố gắng)"]


@pytest.mark.parametrize("grade", GRADES)
def test_h_and_d_everywhere_with_five_is_still_ht(grade: int) -> None:
    pupil = complete_year(grade, level="H", score=5, competency="Đ")
    assert evaluate(pupil, RULES).result == HT


@pytest.mark.parametrize("grade", GRADES)
def test_an_h_caps_the_result_whatever_the_scores(grade: int) -> None:
    pupil = changed(complete_year(grade, score=10), levels={"tieng_viet": "H"})
    assert evaluate(pupil, RULES).result == HT


def test_a_c_with_perfect_scores_is_cht() -> None:
    pupil = changed(complete_year(3), levels={"giao_duc_the_chat": "C"})
    assert evaluate(pupil, RULES).result == CHT


# --- Completion text and awards -----------------------------------------------------------------


@pytest.mark.parametrize("grade", GRADES)
@pytest.mark.parametrize("score", [10, 8, 6])
def test_completion_text_for_every_passing_result(grade: int, score: int) -> None:
    evaluation = evaluate(changed(complete_year(grade), scores={"toan": score}), RULES)
    expected = {1: "lớp 1", 2: "lớp 2", 3: "lớp 3", 4: "lớp 4", 5: "tiểu học"}[grade]
    assert evaluation.completion == f"Hoàn thành chương trình {expected}"


@pytest.mark.parametrize("grade", GRADES)
def test_cht_has_neither_completion_nor_award(grade: int) -> None:
    evaluation = evaluate(changed(complete_year(grade), scores={"toan": 4}), RULES)
    assert (evaluation.result, evaluation.completion, evaluation.award) == (CHT, None, None)


def test_only_htxs_gets_the_computable_award() -> None:
    awards = {
        score: evaluate(changed(complete_year(4), scores={"toan": score}), RULES).award
        for score in range(1, 11)
    }
    assert awards == {s: (EXCELLENT_AWARD if s >= 9 else None) for s in range(1, 11)}


def test_as_dict_is_what_the_command_and_the_api_print() -> None:
    evaluation = evaluate(changed(complete_year(2), scores={"toan": 7}), RULES)
    assert evaluation.as_dict() == {
        "result": HTT,
        "result_label": "Hoàn thành tốt",
        "completion": "Hoàn thành chương trình lớp 2",
        "award": None,
        "reasons": ["Chưa đạt Hoàn thành xuất sắc: Toán: điểm 7 < 9"],
        "missing": [],
    }


# --- Missing fields: not computable, never guessed ----------------------------------------------


@pytest.mark.parametrize(("grade", "code"), SUBJECT_PAIRS)
def test_a_missing_level_is_named(grade: int, code: str) -> None:
    evaluation = evaluate(changed(complete_year(grade), without=("levels", code)), RULES)
    assert evaluation.result is None
    assert not evaluation.is_computable
    assert evaluation.result_label is None
    assert (evaluation.completion, evaluation.award, evaluation.reasons) == (None, None, [])
    assert evaluation.missing == [f"{label(code)}: thiếu mức đạt được cuối năm"]


@pytest.mark.parametrize(("grade", "code"), TESTED_PAIRS)
def test_a_missing_score_is_named(grade: int, code: str) -> None:
    evaluation = evaluate(changed(complete_year(grade), without=("scores", code)), RULES)
    assert evaluation.result is None
    assert evaluation.missing == [f"{label(code)}: thiếu điểm kiểm tra cuối năm"]


@pytest.mark.parametrize(("grade", "code"), ITEM_PAIRS)
def test_a_missing_quality_or_competency_is_named(grade: int, code: str) -> None:
    evaluation = evaluate(changed(complete_year(grade), without=("items", code)), RULES)
    assert evaluation.result is None
    assert evaluation.missing == [f"{RULES.label(code)}: thiếu mức đánh giá cuối năm"]


def test_missing_beats_a_failing_field_and_every_gap_is_listed() -> None:
    pupil = changed(complete_year(4), levels={"toan": "C"}, without=("scores", "khoa_hoc"))
    pupil = changed(pupil, without=("items", "pc.trung_thuc"))
    pupil = changed(pupil, without=("levels", "am_nhac"))
    evaluation = evaluate(pupil, RULES)
    assert evaluation.result is None
    assert evaluation.missing == [
        "Khoa học: thiếu điểm kiểm tra cuối năm",
        "Nghệ thuật (Âm nhạc): thiếu mức đạt được cuối năm",
        "Trung thực: thiếu mức đánh giá cuối năm",
    ]


def test_an_empty_pupil_lists_every_field() -> None:
    evaluation = evaluate(PupilYear(3, {}, {}, {}), RULES)
    assert evaluation.result is None
    expected_count = len(studied_subjects(3)) + len(scored_subjects(3)) + 15
    assert len(evaluation.missing) == expected_count


@pytest.mark.parametrize("bad", ["", "X", "Đ", "t"])
def test_a_level_outside_t_h_c_counts_as_missing(bad: str) -> None:
    evaluation = evaluate(changed(complete_year(4), levels={"toan": bad}), RULES)
    assert evaluation.result is None
    assert evaluation.missing == ["Toán: thiếu mức đạt được cuối năm"]


def test_a_competency_level_outside_t_d_c_counts_as_missing() -> None:
    evaluation = evaluate(changed(complete_year(1), competencies={"pc.nhan_ai": "H"}), RULES)
    assert evaluation.missing == ["Nhân ái: thiếu mức đánh giá cuối năm"]


def test_scores_of_untested_subjects_are_ignored() -> None:
    pupil = changed(complete_year(2), scores={"dao_duc": 1, "am_nhac": 2})
    assert evaluate(pupil, RULES).result == HTXS


# --- Optional subjects (DOMAIN §2.1, §8) --------------------------------------------------------


@pytest.mark.parametrize(("grade", "code"), [(1, "ngoai_ngu_1"), (2, "ngoai_ngu_1")])
def test_a_studied_foreign_language_in_grades_1_2_counts_by_default(grade: int, code: str) -> None:
    pupil = complete_year(grade, optional=[code])
    assert code in counted_subjects(pupil, RULES, DEFAULTS)
    assert evaluate(changed(pupil, levels={code: "C"}), RULES).result == CHT
    assert evaluate(changed(pupil, levels={code: "H"}), RULES).result == HT
    missing = evaluate(changed(pupil, without=("levels", code)), RULES)
    assert missing.missing == ["Ngoại ngữ 1: thiếu mức đạt được cuối năm"]


@pytest.mark.parametrize("grade", GRADES)
def test_a_studied_ethnic_language_counts_by_default(grade: int) -> None:
    pupil = complete_year(grade, optional=["tieng_dan_toc"])
    assert evaluate(pupil, RULES).result == HTXS
    assert evaluate(changed(pupil, levels={"tieng_dan_toc": "C"}), RULES).result == CHT
    # Not tested at any period in this rule set: no score is asked for.
    assert "tieng_dan_toc" not in pupil.scores


@pytest.mark.parametrize(
    ("grade", "code"), [(1, "ngoai_ngu_1"), (2, "ngoai_ngu_1"), (4, "tieng_dan_toc")]
)
def test_an_optional_subject_not_studied_is_not_counted(grade: int, code: str) -> None:
    pupil = complete_year(grade)  # not in optional_subjects
    assert code not in counted_subjects(pupil, RULES, DEFAULTS)
    assert evaluate(changed(pupil, levels={code: "C"}), RULES).result == HTXS


@pytest.mark.parametrize(("grade", "code"), [(1, "ngoai_ngu_1"), (4, "tieng_dan_toc")])
def test_the_setting_can_leave_optional_subjects_out(grade: int, code: str) -> None:
    options = RuleOptions(optional_subjects_count=False)
    pupil = changed(complete_year(grade, options, optional=[code]), levels={code: "C"})
    assert code not in counted_subjects(pupil, RULES, options)
    assert evaluate(pupil, RULES, options).result == HTXS
    assert evaluate(changed(pupil, without=("levels", code)), RULES, options).result == HTXS


def test_a_required_foreign_language_counts_even_if_not_listed_as_optional() -> None:
    pupil = complete_year(3)
    assert "ngoai_ngu_1" in counted_subjects(pupil, RULES, DEFAULTS)
    options = RuleOptions(optional_subjects_count=False)
    assert evaluate(changed(pupil, levels={"ngoai_ngu_1": "C"}), RULES, options).result == CHT


# --- Tin học và Công nghệ with one score (DOMAIN §8) --------------------------------------------


@pytest.mark.parametrize("grade", [3, 4, 5])
def test_single_score_removes_the_cong_nghe_score(grade: int) -> None:
    options = RuleOptions(single_score_tin_hoc_cong_nghe=True)
    pupil = complete_year(grade, options)
    assert "cong_nghe" not in pupil.scores
    assert "tin_hoc" in pupil.scores
    assert evaluate(pupil, RULES, options).result == HTXS
    assert evaluate(pupil, RULES).missing == [
        "Tin học và Công nghệ (Công nghệ): thiếu điểm kiểm tra cuối năm"
    ]
    # The Công nghệ level still counts, and a stray Công nghệ score is ignored.
    assert evaluate(changed(pupil, levels={"cong_nghe": "H"}), RULES, options).result == HT
    assert evaluate(changed(pupil, scores={"cong_nghe": 3}), RULES, options).result == HTXS
    assert evaluate(changed(pupil, scores={"tin_hoc": 6}), RULES, options).result == HT


# --- Specific competencies per grade, overridable (DOMAIN §2.2) ---------------------------------


def test_the_override_changes_which_competencies_are_required() -> None:
    options = RuleOptions(specific_competencies_by_grade={1: ("nld.ngon_ngu", "nld.tinh_toan")})
    pupil = complete_year(1, options)
    assert len(pupil.competency_levels) == 10
    assert evaluate(pupil, RULES, options).result == HTXS
    assert evaluate(pupil, RULES).missing == [
        "Khoa học: thiếu mức đánh giá cuối năm",
        "Thẩm mĩ: thiếu mức đánh giá cuối năm",
        "Thể chất: thiếu mức đánh giá cuối năm",
    ]


# --- Score domain: 0 behind a setting (DOMAIN §2.2, §8) -----------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", 1), ("10", 10), (" 7 ", 7), (9, 9), (9.0, 9), ("09", 9), ("", None), (None, None)],
)
def test_parse_score_accepts_whole_numbers_1_to_10(raw: object, expected: int | None) -> None:
    assert cells.parse_score(raw, DEFAULTS, RULES) == expected


@pytest.mark.parametrize("raw", ["0", 0, "11", "9.5", 9.5, "-1", "chín", "1e1", "²", "٩"])
def test_parse_score_refuses_the_rest(raw: object) -> None:
    with pytest.raises(DomainError):
        cells.parse_score(raw, DEFAULTS, RULES)


def test_allow_zero_score_opens_zero_and_nothing_else() -> None:
    options = RuleOptions(allow_zero_score=True)
    assert cells.parse_score("0", options, RULES) == 0
    assert cells.parse_score(0, options, RULES) == 0
    with pytest.raises(DomainError, match="từ 0 đến 10"):
        cells.parse_score("11", options, RULES)
    with pytest.raises(DomainError, match="từ 1 đến 10"):
        cells.parse_score("0", DEFAULTS, RULES)
    assert RULES.score_range(options) == range(0, 11)
    assert RULES.score_range(DEFAULTS) == range(1, 11)


def test_a_zero_score_is_cht() -> None:
    options = RuleOptions(allow_zero_score=True)
    evaluation = evaluate(changed(complete_year(4, options), scores={"toan": 0}), RULES, options)
    assert evaluation.result == CHT
    assert evaluation.reasons == ["Chưa đạt Hoàn thành: Toán: điểm 0 < 5"]


# --- Property-based tests ---------------------------------------------------------------------


@st.composite
def options_strategy(draw: st.DrawFn) -> RuleOptions:
    return RuleOptions(
        allow_zero_score=draw(st.booleans()),
        optional_subjects_count=draw(st.booleans()),
        single_score_tin_hoc_cong_nghe=draw(st.booleans()),
    )


@st.composite
def complete_pupils(draw: st.DrawFn) -> tuple[PupilYear, RuleOptions]:
    """Any complete pupil of any grade: levels T/H/C, competency levels T/Đ/C, scores in range."""
    grade = draw(st.integers(1, 5))
    options = draw(options_strategy())
    optional_codes = [r.code for r in RULES.subjects_for(grade) if r.grades[grade] == "optional"]
    studied = draw(st.frozensets(st.sampled_from(optional_codes)))
    lowest = RULES.score_range(options).start
    subjects = studied_subjects(grade, studied)
    return (
        PupilYear(
            grade=grade,
            subject_levels={c: draw(st.sampled_from("THC")) for c in subjects},
            scores={
                c: draw(st.integers(lowest, 10))
                for c in subjects
                if RULES.is_tested(c, grade, END_OF_YEAR, options)
            },
            competency_levels={
                item.code: draw(st.sampled_from(["T", "Đ", "C"]))
                for item in RULES.competency_items(grade, options)
            },
            optional_subjects=studied,
        ),
        options,
    )


def worsenings(pupil: PupilYear, options: RuleOptions) -> list[tuple[str, str, object]]:
    """Every way to make exactly one field worse: (kind, key, worse value)."""
    lowest = RULES.score_range(options).start
    found: list[tuple[str, str, object]] = []
    for code, level in pupil.subject_levels.items():
        found += [("levels", code, worse) for worse in SUBJECT_WORSE[level]]
    for code, level in pupil.competency_levels.items():
        found += [("items", code, worse) for worse in COMPETENCY_WORSE[level]]
    for code, score in pupil.scores.items():
        found += [("scores", code, worse) for worse in range(lowest, score)]
    return found


def with_one_change(pupil: PupilYear, kind: str, key: str, value: object) -> PupilYear:
    if kind == "levels":
        return changed(pupil, levels={key: str(value)})
    if kind == "items":
        return changed(pupil, competencies={key: str(value)})
    return changed(pupil, scores={key: int(str(value))})


def table_result(pupil: PupilYear, options: RuleOptions) -> str:
    """DOMAIN §2.3 read directly, as an independent oracle."""
    counted = counted_subjects(pupil, RULES, options)
    levels = {pupil.subject_levels[c] for c in counted}
    items = {pupil.competency_levels[i.code] for i in RULES.competency_items(pupil.grade, options)}
    scores = [
        pupil.scores[c] for c in counted if RULES.is_tested(c, pupil.grade, END_OF_YEAR, options)
    ]
    lowest = min(scores, default=10)
    if levels <= {"T"} and items <= {"T"} and lowest >= 9:
        return HTXS
    if levels <= {"T"} and items <= {"T"} and lowest >= 7:
        return HTT
    if levels <= {"T", "H"} and items <= {"T", "Đ"} and lowest >= 5:
        return HT
    return CHT


@given(complete_pupils(), st.data())
def test_making_one_field_worse_never_improves_the_result(
    case: tuple[PupilYear, RuleOptions], data: st.DataObject
) -> None:
    pupil, options = case
    candidates = worsenings(pupil, options)
    assume(candidates)
    kind, key, worse = data.draw(st.sampled_from(candidates))
    before = evaluate(pupil, RULES, options)
    after = evaluate(with_one_change(pupil, kind, key, worse), RULES, options)
    assert before.result is not None and after.result is not None
    assert RANK[after.result] <= RANK[before.result], (kind, key, worse)


@given(complete_pupils())
def test_every_single_worsening_never_improves_the_result(
    case: tuple[PupilYear, RuleOptions],
) -> None:
    pupil, options = case
    before = RANK[str(evaluate(pupil, RULES, options).result)]
    for kind, key, worse in worsenings(pupil, options):
        after = evaluate(with_one_change(pupil, kind, key, worse), RULES, options)
        assert RANK[str(after.result)] <= before, (kind, key, worse)


@given(complete_pupils())
def test_evaluation_is_deterministic_and_one_of_four(case: tuple[PupilYear, RuleOptions]) -> None:
    pupil, options = case
    first = evaluate(pupil, RULES, options)
    again = evaluate(copy.deepcopy(pupil), RULES, options)
    assert first == again
    assert first.result in RESULT_LABELS
    assert first.missing == []
    assert first.result == table_result(pupil, options)
    assert (first.completion is None) == (first.result == CHT)
    assert (first.award == EXCELLENT_AWARD) == (first.result == HTXS)
    assert (first.reasons == []) == (first.result == HTXS)


def required_fields(pupil: PupilYear, options: RuleOptions) -> list[tuple[str, str, str]]:
    """(kind, key, the missing-field line the engine must print) for every required field."""
    fields: list[tuple[str, str, str]] = []
    for code in counted_subjects(pupil, RULES, options):
        fields.append(("levels", code, f"{label(code)}: thiếu mức đạt được cuối năm"))
        if RULES.is_tested(code, pupil.grade, END_OF_YEAR, options):
            fields.append(("scores", code, f"{label(code)}: thiếu điểm kiểm tra cuối năm"))
    for item in RULES.competency_items(pupil.grade, options):
        fields.append(("items", item.code, f"{item.label}: thiếu mức đánh giá cuối năm"))
    return fields


@given(complete_pupils(), st.data())
def test_a_missing_field_is_always_named(
    case: tuple[PupilYear, RuleOptions], data: st.DataObject
) -> None:
    pupil, options = case
    kind, key, line = data.draw(st.sampled_from(required_fields(pupil, options)))
    evaluation = evaluate(changed(pupil, without=(kind, key)), RULES, options)
    assert evaluation.result is None
    assert evaluation.missing == [line]
    assert (evaluation.completion, evaluation.award, evaluation.reasons) == (None, None, [])


@given(complete_pupils(), st.data())
def test_several_missing_fields_are_all_named(
    case: tuple[PupilYear, RuleOptions], data: st.DataObject
) -> None:
    pupil, options = case
    fields = required_fields(pupil, options)
    removed = data.draw(st.lists(st.sampled_from(fields), min_size=1, unique=True))
    for kind, key, _line in removed:
        pupil = changed(pupil, without=(kind, key))
    evaluation = evaluate(pupil, RULES, options)
    assert evaluation.result is None
    assert sorted(evaluation.missing) == sorted(line for _k, _c, line in removed)
