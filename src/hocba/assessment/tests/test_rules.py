"""The Circular 27 rule set as data (DOMAIN §2.1, §2.2, §3): subjects, tests, competencies."""

from __future__ import annotations

import json

import pytest
from django.utils import translation

from hocba.assessment.rules import RULESET_DIR, RuleOptions, available_versions, load_ruleset
from hocba.schools.subjects import Subject

RULES = load_ruleset("tt27-2020")
DEFAULTS = RuleOptions()

# DOMAIN §3: the form's row order, restricted to what each grade learns (§2.1).
FORM_ORDER = {
    1: ["tieng_viet", "toan", "ngoai_ngu_1", "dao_duc", "tu_nhien_xa_hoi", "giao_duc_the_chat",
        "am_nhac", "mi_thuat", "hoat_dong_trai_nghiem", "tieng_dan_toc"],
    3: ["tieng_viet", "toan", "ngoai_ngu_1", "tin_hoc", "cong_nghe", "dao_duc",
        "tu_nhien_xa_hoi", "giao_duc_the_chat", "am_nhac", "mi_thuat", "hoat_dong_trai_nghiem",
        "tieng_dan_toc"],
    4: ["tieng_viet", "toan", "ngoai_ngu_1", "lich_su_dia_li", "khoa_hoc", "tin_hoc",
        "cong_nghe", "dao_duc", "giao_duc_the_chat", "am_nhac", "mi_thuat",
        "hoat_dong_trai_nghiem", "tieng_dan_toc"],
}  # fmt: skip
FORM_ORDER[2] = FORM_ORDER[1]
FORM_ORDER[5] = FORM_ORDER[4]

OPTIONAL = {
    1: {"ngoai_ngu_1", "tieng_dan_toc"},
    2: {"ngoai_ngu_1", "tieng_dan_toc"},
    3: {"tieng_dan_toc"},
    4: {"tieng_dan_toc"},
    5: {"tieng_dan_toc"},
}

ENDS = ("ck1", "cn")
ALL_FOUR = ("gk1", "ck1", "gk2", "cn")
# DOMAIN §2.1 "Periodic test" column: subject -> grade -> periods with a test.
TESTED = {
    "tieng_viet": {1: ENDS, 2: ENDS, 3: ENDS, 4: ALL_FOUR, 5: ALL_FOUR},
    "toan": {1: ENDS, 2: ENDS, 3: ENDS, 4: ALL_FOUR, 5: ALL_FOUR},
    "ngoai_ngu_1": {3: ENDS, 4: ENDS, 5: ENDS},
    "lich_su_dia_li": {4: ENDS, 5: ENDS},
    "khoa_hoc": {4: ENDS, 5: ENDS},
    "tin_hoc": {3: ENDS, 4: ENDS, 5: ENDS},
    "cong_nghe": {3: ENDS, 4: ENDS, 5: ENDS},
}

QUALITIES = ["pc.yeu_nuoc", "pc.nhan_ai", "pc.cham_chi", "pc.trung_thuc", "pc.trach_nhiem"]
GENERAL = ["nlc.tu_chu_tu_hoc", "nlc.giao_tiep_hop_tac", "nlc.giai_quyet_van_de"]
SPECIFIC_G1_2 = ["nld.ngon_ngu", "nld.tinh_toan", "nld.khoa_hoc", "nld.tham_mi", "nld.the_chat"]
SPECIFIC_G3_5 = [
    "nld.ngon_ngu",
    "nld.tinh_toan",
    "nld.khoa_hoc",
    "nld.cong_nghe",
    "nld.tin_hoc",
    "nld.tham_mi",
    "nld.the_chat",
]


@pytest.mark.parametrize("grade", [1, 2, 3, 4, 5])
def test_subjects_of_each_grade_in_form_row_order(grade: int) -> None:
    assert [rule.code for rule in RULES.subjects_for(grade)] == FORM_ORDER[grade]


@pytest.mark.parametrize("grade", [1, 2, 3, 4, 5])
def test_optional_subjects_per_grade(grade: int) -> None:
    optional = {r.code for r in RULES.subjects_for(grade) if RULES.is_optional(r.code, grade)}
    assert optional == OPTIONAL[grade]


def test_the_whole_catalogue_is_in_form_order() -> None:
    assert [rule.code for rule in RULES.subjects] == list(Subject.values)


@pytest.mark.parametrize("grade", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("code", list(Subject.values))
def test_which_subjects_are_tested_when(code: str, grade: int) -> None:
    if grade not in RULES.subject(code).grades:
        return
    expected = TESTED.get(code, {}).get(grade, ())
    for period in ALL_FOUR:
        assert RULES.is_tested(code, grade, period, DEFAULTS) == (period in expected), period


def test_single_score_tin_hoc_cong_nghe_untests_cong_nghe_only() -> None:
    options = RuleOptions(single_score_tin_hoc_cong_nghe=True)
    for grade in (3, 4, 5):
        assert not any(RULES.is_tested("cong_nghe", grade, p, options) for p in ALL_FOUR)
        assert RULES.is_tested("tin_hoc", grade, "cn", options)
        assert RULES.is_tested("toan", grade, "cn", options)


@pytest.mark.parametrize(
    ("grade", "specific"),
    [(1, SPECIFIC_G1_2), (2, SPECIFIC_G1_2), (3, SPECIFIC_G3_5), (4, SPECIFIC_G3_5),
     (5, SPECIFIC_G3_5)],
)  # fmt: skip
def test_competency_items_per_grade(grade: int, specific: list[str]) -> None:
    codes = [item.code for item in RULES.competency_items(grade, DEFAULTS)]
    assert codes == QUALITIES + GENERAL + specific


def test_the_override_replaces_the_specific_competencies_of_one_grade() -> None:
    options = RuleOptions(
        specific_competencies_by_grade={1: ("nld.ngon_ngu", "nld.tin_hoc"), 3: ()}
    )
    grade1 = [item.code for item in RULES.competency_items(1, options)]
    assert grade1 == [*QUALITIES, *GENERAL, "nld.ngon_ngu", "nld.tin_hoc"]
    grade3 = [item.code for item in RULES.competency_items(3, options)]
    assert grade3 == QUALITIES + GENERAL
    grade4 = [item.code for item in RULES.competency_items(4, options)]
    assert grade4 == QUALITIES + GENERAL + SPECIFIC_G3_5


def test_levels_and_periods() -> None:
    assert [level.code for level in RULES.subject_levels] == ["T", "H", "C"]
    assert [level.code for level in RULES.competency_levels] == ["T", "Đ", "C"]
    assert [period.code for period in RULES.periods] == list(ALL_FOUR)


def test_labels_of_subjects_items_and_periods() -> None:
    assert RULES.label("toan") == "Toán"
    assert RULES.label("pc.trung_thuc") == "Trung thực"
    assert RULES.label("nlc.giai_quyet_van_de") == "Giải quyết vấn đề và sáng tạo"
    assert RULES.label("nld.khoa_hoc") == "Khoa học"
    assert RULES.label("khoa_hoc") == "Khoa học"
    assert RULES.label("cn") == "Cuối năm học"
    with pytest.raises(KeyError):
        RULES.label("khong_co")


def test_every_subject_code_in_the_json_file_is_a_known_subject() -> None:
    for path in RULESET_DIR.glob("*.json"):
        raw = json.loads(path.read_text(encoding="utf-8"))
        codes = [entry["code"] for entry in raw["subjects"]]
        assert set(codes) <= set(Subject.values), path.name
        assert len(codes) == len(set(codes)), path.name


def test_subject_labels_match_the_catalogue() -> None:
    with translation.override("vi"):
        for rule in RULES.subjects:
            assert rule.label == str(Subject(rule.code).label)


def test_item_codes_are_unique_and_do_not_clash_with_subjects() -> None:
    items = [
        *RULES.qualities,
        *RULES.general_competencies,
        *(item for item, _grades in RULES.specific_competencies),
    ]
    codes = [item.code for item in items]
    assert len(codes) == len(set(codes))
    assert not set(codes) & set(Subject.values)


def test_versions_and_unknown_versions() -> None:
    assert "tt27-2020" in available_versions()
    assert RULES.version == "tt27-2020"
    for bad in ("tt99-2099", "../rulesets/tt27-2020", "rulesets/../tt27-2020"):
        with pytest.raises(LookupError):
            load_ruleset(bad)


def test_score_range() -> None:
    assert list(RULES.score_range(DEFAULTS)) == list(range(1, 11))
    assert list(RULES.score_range(RuleOptions(allow_zero_score=True))) == list(range(0, 11))
